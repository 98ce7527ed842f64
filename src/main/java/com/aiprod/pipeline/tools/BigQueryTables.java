package com.aiprod.pipeline.tools;

import com.aiprod.pipeline.persist.BigQueryWarehouse;
import com.aiprod.pipeline.persist.WarehouseTable;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.api.services.bigquery.model.TableRow;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.format.DateTimeParseException;
import java.util.Comparator;
import java.util.stream.Stream;
import javax.annotation.Nullable;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.extensions.gcp.auth.NoopCredentialFactory;
import org.apache.beam.sdk.extensions.gcp.options.GcpOptions;
import org.apache.beam.sdk.io.TextIO;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryIO;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryServices;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;

/**
 * Reads a warehouse table of a {@code bigquery:PROJECT.DATASET} warehouse for the local tools: a
 * small DirectRunner pipeline, BigQueryIO's table read (an extract job through {@code
 * --temp-location}), the rows of a time range kept, written as newline-delimited JSON in the form
 * of {@code bq extract --destination_format=NEWLINE_DELIMITED_JSON}, so that the {@code --file}
 * readers read them.
 */
final class BigQueryTables {
  private BigQueryTables() {}

  /** The Cloud Storage prefix terraform's bucket offers for temporary files. */
  static String defaultTempLocation(BigQueryWarehouse warehouse) {
    return "gs://" + warehouse.project() + "-aiprod/tmp";
  }

  /**
   * Writes the rows of {@code table} whose {@code timeColumn} is in {@code range} to a new JSONL
   * file in {@code dir}; returns it.
   *
   * @param services Beam's BigQuery fakes in tests, else null (BigQuery itself)
   */
  static Path exportJsonLines(
      BigQueryWarehouse warehouse,
      WarehouseTable table,
      String timeColumn,
      TimeRange range,
      String tempLocation,
      @Nullable BigQueryServices services,
      Path dir)
      throws IOException {
    GcpOptions options = PipelineOptionsFactory.create().as(GcpOptions.class);
    options.setProject(warehouse.project());
    options.setTempLocation(tempLocation);
    options.setJobName("aiprod-tools-read-" + table.tableName().replace('_', '-'));
    BigQueryIO.TypedRead<TableRow> read =
        BigQueryIO.readTableRows()
            .from(warehouse.tableReference(table))
            .withMethod(BigQueryIO.TypedRead.Method.EXPORT);
    if (services != null) {
      options.setCredentialFactoryClass(NoopCredentialFactory.class);
      read = read.withTestServices(services).withoutValidation();
    }
    Path prefix = dir.resolve(table.tableName());
    Pipeline p = Pipeline.create(options);
    p.apply("Read " + table.tableName(), read)
        .apply("InRange", ParDo.of(new InRangeFn(timeColumn, range)))
        .apply(
            "WriteJsonLines",
            TextIO.write().to(prefix.toString()).withSuffix(".jsonl").withoutSharding());
    PipelineResult.State state = p.run().waitUntilFinish();
    if (state != PipelineResult.State.DONE) {
      throw new IOException("reading " + warehouse.spec() + " " + table.tableName() + ": " + state);
    }
    Path file = Path.of(prefix + ".jsonl");
    if (!Files.exists(file)) {
      Files.createFile(file);
    }
    return file;
  }

  /** Deletes a directory of exported files. */
  static void deleteQuietly(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException e) {
      // a temporary directory: nothing else to do
    }
  }

  /** Keeps rows whose time column is in the range, as JSON lines; rows without a time are kept. */
  static final class InRangeFn extends DoFn<TableRow, String> {
    private static final long serialVersionUID = 1L;
    private static final ObjectMapper JSON = new ObjectMapper();
    private final String timeColumn;
    private final TimeRange range;

    InRangeFn(String timeColumn, TimeRange range) {
      this.timeColumn = timeColumn;
      this.range = range;
    }

    @ProcessElement
    public void process(@Element TableRow row, OutputReceiver<String> out) throws IOException {
      Object time = row.get(timeColumn);
      if (time != null && !range.isAll()) {
        try {
          if (!range.contains(VerifyAudit.timestampMillis(time.toString()))) {
            return;
          }
        } catch (DateTimeParseException e) {
          // unreadable: kept, the reader reports it
        }
      }
      out.output(JSON.writeValueAsString(row));
    }
  }
}
