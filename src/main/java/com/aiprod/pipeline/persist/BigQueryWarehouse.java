package com.aiprod.pipeline.persist;

import com.aiprod.pipeline.kernel.Coders;
import com.aiprod.pipeline.kernel.OutcomePart;
import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.model.DeadLetter;
import com.aiprod.pipeline.model.ReasonCode;
import com.aiprod.pipeline.model.Redaction;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.api.services.bigquery.model.Clustering;
import com.google.api.services.bigquery.model.Table;
import com.google.api.services.bigquery.model.TableReference;
import com.google.api.services.bigquery.model.TableRow;
import com.google.api.services.bigquery.model.TimePartitioning;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.annotation.Nullable;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryHelpers;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryIO;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryIO.Write.CreateDisposition;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryIO.Write.Method;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryIO.Write.WriteDisposition;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryOptions;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryServices;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryServicesImpl;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryStorageApiInsertError;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryUtils;
import org.apache.beam.sdk.io.gcp.bigquery.WriteResult;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.Deduplicate;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.joda.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The production warehouse ({@code --warehouse=bigquery:PROJECT.DATASET}): the four tables of
 * DESIGN §8 in one BigQuery dataset, written with BigQueryIO's Storage Write API.
 *
 * <ul>
 *   <li><b>Method.</b> {@link Method#STORAGE_WRITE_API} (exactly-once: rows are appended to
 *       buffered/pending streams and committed once per bundle, so a retried bundle does not
 *       duplicate them) unless Beam's {@code --useStorageWriteApiAtLeastOnce}, which selects {@link
 *       Method#STORAGE_API_AT_LEAST_ONCE} (default stream, cheaper, a retried append may duplicate
 *       rows). For an unbounded input the exactly-once mode commits every {@code
 *       --storageWriteApiTriggeringFrequencySec} seconds ({@value
 *       #DEFAULT_TRIGGERING_FREQUENCY_SEC} s if unset), with auto-sharding.
 *   <li><b>Tables.</b> {@code CREATE_IF_NEEDED} + {@code WRITE_APPEND}, schemas from the same JSON
 *       files as DuckDB ({@link TableSchemas#bigQuerySchema}): JSON, TIMESTAMP and REPEATED RECORD
 *       columns as written there. Tables the sink (or {@link #createTables()}) creates are
 *       partitioned and clustered per DESIGN §8 ({@link #timePartitioning}, {@link #clustering});
 *       existing tables (e.g. created by terraform) are used as they are.
 *   <li><b>Refused rows.</b> Every row the Storage Write API refuses (conversion to the table's
 *       proto, or an append error) comes out of {@link WriteResult#getFailedStorageApiInserts()}
 *       and becomes a {@link DeadLetter}: reason {@code INTERNAL_ERROR}, stage {@value #STAGE},
 *       error naming the table and BigQuery's message, the row as JSON in {@code payloadString}
 *       (redacted; rows never hold a token), attributes {@code table} and the row's key columns,
 *       {@code message_id} the row's own, else {@code <table>:<key values>}. {@link #write} returns
 *       them for {@code dead_letters}: never dropped, never failing the job. A refused {@code
 *       dead_letters} row is logged (redacted) and counted ({@code
 *       aiprod/warehouse_dead_letter_rows_lost}), never fed back (no loop).
 *   <li><b>Duplicates.</b> BigQuery has no primary keys, so DuckDB's {@code INSERT OR IGNORE} has
 *       no equivalent. Exactly-once appends remove retry duplicates; {@code audit_events} rows are
 *       also deduplicated by {@code event_id} before the sink ({@link Deduplicate}: keyed state per
 *       window, keys kept {@value #DEDUP_MINUTES} minutes of processing time), which removes the
 *       duplicates a redelivered message produces inside that horizon. Older duplicates (e.g. after
 *       a restart, or with {@code --useStorageWriteApiAtLeastOnce}) are removed at query time:
 *       {@link #dedupViewSql} is the view analysts query ({@code QUALIFY ROW_NUMBER() OVER
 *       (PARTITION BY <primary key> ...) = 1}, see docs/ARCHITECTURE.md).
 * </ul>
 */
public final class BigQueryWarehouse implements Warehouse {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(BigQueryWarehouse.class);

  /** The stage recorded on dead letters of refused rows. */
  public static final String STAGE = "Deliver";

  static final int DEFAULT_TRIGGERING_FREQUENCY_SEC = 5;
  static final int DEDUP_MINUTES = 10;

  private static final Pattern PROJECT =
      Pattern.compile("([a-z][a-z0-9.-]*:)?[a-z][a-z0-9-]{4,28}[a-z0-9]");
  private static final Pattern DATASET = Pattern.compile("[A-Za-z0-9_]{1,1024}");

  private final String project;
  private final String dataset;
  private final @Nullable BigQueryServices testServices;

  /** The warehouse in {@code project.dataset}. */
  public BigQueryWarehouse(String project, String dataset) {
    this(project, dataset, null);
  }

  private BigQueryWarehouse(
      String project, String dataset, @Nullable BigQueryServices testServices) {
    if (!PROJECT.matcher(project).matches()) {
      throw new IllegalArgumentException(
          "--warehouse=bigquery:PROJECT.DATASET: bad project id '" + project + "'");
    }
    if (!DATASET.matcher(dataset).matches()) {
      throw new IllegalArgumentException(
          "--warehouse=bigquery:PROJECT.DATASET: bad dataset id '" + dataset + "'");
    }
    this.project = project;
    this.dataset = dataset;
    this.testServices = testServices;
  }

  /** Parses {@code PROJECT.DATASET} (the part of {@code --warehouse} after {@code bigquery:}). */
  static BigQueryWarehouse parse(String projectDotDataset) {
    String s = projectDotDataset.trim();
    int dot = s.lastIndexOf('.');
    if (dot <= 0 || dot == s.length() - 1) {
      throw new IllegalArgumentException(
          "--warehouse=bigquery:PROJECT.DATASET needs a project and a dataset: bigquery:"
              + projectDotDataset);
    }
    return new BigQueryWarehouse(s.substring(0, dot), s.substring(dot + 1));
  }

  /**
   * The same warehouse talking to {@code services} instead of BigQuery (tests: Beam's {@code
   * FakeBigQueryServices}); BigQueryIO's validation is then skipped.
   */
  public BigQueryWarehouse withTestServices(BigQueryServices services) {
    return new BigQueryWarehouse(project, dataset, services);
  }

  public String project() {
    return project;
  }

  public String dataset() {
    return dataset;
  }

  @Override
  public String spec() {
    return "bigquery:" + project + "." + dataset;
  }

  @Override
  public String toString() {
    return spec();
  }

  /** The table reference of {@code table} in this dataset. */
  public TableReference tableReference(WarehouseTable table) {
    return new TableReference()
        .setProjectId(project)
        .setDatasetId(dataset)
        .setTableId(table.tableName());
  }

  /** {@code project:dataset.table}, as in error messages. */
  String tableSpec(WarehouseTable table) {
    return BigQueryHelpers.toTableSpec(tableReference(table));
  }

  /**
   * Daily partitioning by {@link WarehouseTable#partitionColumn()} (DESIGN §8 for job_results and
   * audit_events; terraform/locals.tf for every table).
   */
  public static TimePartitioning timePartitioning(WarehouseTable table) {
    return new TimePartitioning().setType("DAY").setField(table.partitionColumn());
  }

  /** Clustering of DESIGN §8 and terraform/locals.tf. */
  public static Clustering clustering(WarehouseTable table) {
    return new Clustering()
        .setFields(
            switch (table) {
              case JOB_RESULTS -> List.of("tenant", "state");
              case AUDIT_EVENTS -> List.of("event_type", "tenant");
              case SHOT_RENDERS -> List.of("tenant", "job_id");
              case DEAD_LETTERS -> List.of("reason_code", "stage");
            });
  }

  /** The table definition {@link #createTables()} creates: schema, partitioning, clustering. */
  public Table tableDefinition(WarehouseTable table) {
    Table t =
        new Table()
            .setTableReference(tableReference(table))
            .setSchema(TableSchemas.bigQuerySchema(table));
    TimePartitioning partitioning = timePartitioning(table);
    if (partitioning != null) {
      t.setTimePartitioning(partitioning);
    }
    Clustering clustering = clustering(table);
    if (clustering != null) {
      t.setClustering(clustering);
    }
    return t;
  }

  /**
   * The analysts' view of {@code table} without duplicates: one row per primary key ({@link
   * WarehouseTable#primaryKey()}) and partition column value, the earliest. Copies of a row (a
   * retried or at-least-once append, a replay) share both; windowing over the partition column too
   * lets BigQuery push a filter on it through the view, so a date filter prunes partitions.
   */
  public String dedupViewSql(WarehouseTable table) {
    String time = "`" + table.partitionColumn() + "`";
    String fq = "`" + project + "." + dataset + ".";
    return "CREATE OR REPLACE VIEW "
        + fq
        + table.tableName()
        + "_dedup` AS\n"
        + "SELECT * FROM "
        + fq
        + table.tableName()
        + "`\n"
        + "WHERE TRUE\n"
        + "QUALIFY ROW_NUMBER() OVER (PARTITION BY CAST("
        + time
        + " AS DATE), "
        + String.join(", ", table.primaryKey())
        + " ORDER BY "
        + time
        + ") = 1";
  }

  /** Creates the dataset's missing tables ({@link #tableDefinition}); existing ones are kept. */
  @Override
  public void createTables() {
    BigQueryOptions options = PipelineOptionsFactory.create().as(BigQueryOptions.class);
    BigQueryServices services = testServices != null ? testServices : new BigQueryServicesImpl();
    try (BigQueryServices.DatasetService ds = services.getDatasetService(options)) {
      for (WarehouseTable t : WarehouseTable.values()) {
        if (ds.getTable(tableReference(t)) == null) {
          ds.createTable(tableDefinition(t));
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("Cannot create the warehouse tables in " + spec(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted creating the warehouse tables in " + spec(), e);
    } catch (Exception e) {
      throw new IllegalStateException("Cannot create the warehouse tables in " + spec(), e);
    }
  }

  /**
   * The Storage Write API method the options select: Beam's own {@code
   * --useStorageWriteApiAtLeastOnce} (a Flex Template parameter under that name).
   */
  static Method method(PipelineOptions options) {
    return options.as(BigQueryOptions.class).getUseStorageWriteApiAtLeastOnce()
        ? Method.STORAGE_API_AT_LEAST_ONCE
        : Method.STORAGE_WRITE_API;
  }

  @Override
  public PTransform<PCollection<Row>, PCollectionTuple> write(WarehouseTable table) {
    return new Write(this, table);
  }

  /**
   * The BigQueryIO write of one table, plus its refused rows as dead letters and the outcome parts
   * of its committed rows.
   */
  private static final class Write extends PTransform<PCollection<Row>, PCollectionTuple> {
    private final BigQueryWarehouse warehouse;
    private final WarehouseTable table;

    Write(BigQueryWarehouse warehouse, WarehouseTable table) {
      super("WriteBigQuery_" + table.tableName());
      this.warehouse = warehouse;
      this.table = table;
    }

    @Override
    public PCollectionTuple expand(PCollection<Row> rows) {
      PipelineOptions options = rows.getPipeline().getOptions();
      Method method = method(options);
      PCollection<Row> input = rows;
      if (table == WarehouseTable.AUDIT_EVENTS) {
        input =
            rows.apply(
                    "DedupByEventId",
                    Deduplicate.withRepresentativeValueFn(new KeyFn(table))
                        .withRepresentativeType(TypeDescriptors.strings())
                        .withDuration(Duration.standardMinutes(DEDUP_MINUTES)))
                .setRowSchema(table.beamSchema());
      }
      SerializableFunction<Row, TableRow> format = BigQueryUtils.toTableRow();
      BigQueryIO.Write<Row> write =
          BigQueryIO.<Row>write()
              .to(warehouse.tableReference(table))
              .withSchema(TableSchemas.bigQuerySchema(table))
              .withFormatFunction(format)
              .withFormatRecordOnFailureFunction(format)
              .withCreateDisposition(CreateDisposition.CREATE_IF_NEEDED)
              .withWriteDisposition(WriteDisposition.WRITE_APPEND)
              .withMethod(method);
      TimePartitioning partitioning = timePartitioning(table);
      if (partitioning != null) {
        write = write.withTimePartitioning(partitioning);
      }
      Clustering clustering = clustering(table);
      if (clustering != null) {
        write = write.withClustering(clustering);
      }
      if (input.isBounded() == PCollection.IsBounded.UNBOUNDED
          && method == Method.STORAGE_WRITE_API) {
        Integer sec = options.as(BigQueryOptions.class).getStorageWriteApiTriggeringFrequencySec();
        write =
            write
                .withTriggeringFrequency(
                    Duration.standardSeconds(
                        sec != null && sec > 0 ? sec : DEFAULT_TRIGGERING_FREQUENCY_SEC))
                .withAutoSharding();
      }
      if (warehouse.testServices != null) {
        write = write.withTestServices(warehouse.testServices).withoutValidation();
      }
      boolean outcome = OutcomeParts.counts(table);
      if (outcome) {
        write = write.withPropagateSuccessfulStorageApiWrites(new MessageIdColumn());
      }
      WriteResult result = input.apply("StorageWrite " + table.tableName(), write);
      // Dead letters, job_results rows and terminal audit rows make up outcomes: once BigQuery
      // has them, they are outcome parts (step name kept for in-place updates).
      PCollection<OutcomePart> committed =
          outcome
              ? result
                  .getSuccessfulStorageApiInserts()
                  .apply("SettleWritten " + table.tableName(), ParDo.of(new SettleFn(table)))
                  .setCoder(Coders.schema(OutcomePart.class))
              : input
                  .getPipeline()
                  .apply(
                      "NoOutcomes " + table.tableName(),
                      Create.empty(Coders.schema(OutcomePart.class)));
      PCollection<DeadLetter> refused =
          result
              .getFailedStorageApiInserts()
              .apply(
                  "RefusedRowsToDeadLetters " + table.tableName(),
                  ParDo.of(new RefusedRowFn(table, warehouse.tableSpec(table))))
              .setCoder(Coders.schema(DeadLetter.class));
      return PCollectionTuple.of(StageTags.DEAD_LETTERS, refused)
          .and(StageTags.OUTCOMES, committed);
    }
  }

  /**
   * Keeps only the columns {@link OutcomeParts} reads of the committed rows BigQuery hands back
   * (serializable).
   */
  static final class MessageIdColumn
      implements java.util.function.Predicate<String>, java.io.Serializable {
    private static final long serialVersionUID = 1L;

    @Override
    public boolean test(String column) {
      return column.equals("message_id") || column.equals("action") || column.equals("details");
    }
  }

  /** The outcome parts ({@link OutcomeParts}) of the rows BigQuery has committed. */
  static final class SettleFn extends DoFn<TableRow, OutcomePart> {
    private final WarehouseTable table;

    SettleFn(WarehouseTable table) {
      this.table = table;
    }

    @ProcessElement
    public void process(@Element TableRow row, OutputReceiver<OutcomePart> out) {
      OutcomeParts.ofRow(
              table, string(row, "message_id"), string(row, "action"), string(row, "details"))
          .ifPresent(out::output);
    }

    private static @Nullable String string(TableRow row, String column) {
      Object v = row.get(column);
      return v == null ? null : v.toString();
    }
  }

  /** The primary key of a row as one string (the audit dedup key is {@code event_id}). */
  static final class KeyFn implements SerializableFunction<Row, String> {
    private final WarehouseTable table;

    KeyFn(WarehouseTable table) {
      this.table = table;
    }

    @Override
    public String apply(Row row) {
      return table.primaryKey().stream()
          .map(c -> String.valueOf((Object) row.getValue(c)))
          .collect(Collectors.joining("\u0001"));
    }
  }

  /**
   * A refused row → a {@link DeadLetter}; a refused {@code dead_letters} row → a log line and a
   * counter (it is never output, so it cannot loop).
   */
  static final class RefusedRowFn extends DoFn<BigQueryStorageApiInsertError, DeadLetter> {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final WarehouseTable table;
    private final String tableSpec;
    private final Counter refused;
    private final Counter lost;

    RefusedRowFn(WarehouseTable table, String tableSpec) {
      this.table = table;
      this.tableSpec = tableSpec;
      this.refused = Metrics.counter("aiprod", "warehouse_rows_refused_" + table.tableName());
      this.lost = Metrics.counter("aiprod", "warehouse_dead_letter_rows_lost");
    }

    @ProcessElement
    public void process(
        @Element BigQueryStorageApiInsertError error, OutputReceiver<DeadLetter> out) {
      TableRow row = error.getRow();
      String payload = Redaction.redactText(toJson(row));
      String message =
          Redaction.redactText(
              "BigQuery refused a row of "
                  + tableSpec
                  + ": "
                  + (error.getErrorMessage() == null
                      ? "(no error message)"
                      : error.getErrorMessage()));
      refused.inc();
      if (table == WarehouseTable.DEAD_LETTERS) {
        lost.inc();
        LOG.error("{}; the dead letter is lost: {}", message, payload);
        return;
      }
      out.output(
          DeadLetter.builder()
              .setTimestampMillis(System.currentTimeMillis())
              .setPayloadString(payload)
              .setPayloadBytes(null)
              .setAttributes(attributes(table, row))
              .setErrorMessage(message)
              .setStacktrace(null)
              .setReasonCode(ReasonCode.INTERNAL_ERROR.name())
              .setStage(STAGE)
              .setMessageId(messageId(table, row))
              .build());
    }

    static Map<String, String> attributes(WarehouseTable table, @Nullable TableRow row) {
      Map<String, String> a = new TreeMap<>();
      a.put("table", table.tableName());
      if (row != null) {
        for (String c : table.primaryKey()) {
          Object v = row.get(c);
          if (v != null) {
            a.put(c, Redaction.redactText(String.valueOf(v)));
          }
        }
      }
      return a;
    }

    static String messageId(WarehouseTable table, @Nullable TableRow row) {
      Object id = row == null ? null : row.get("message_id");
      if (id != null) {
        return String.valueOf(id);
      }
      if (row == null) {
        return table.tableName() + ":unknown";
      }
      return table.tableName()
          + ":"
          + table.primaryKey().stream()
              .map(c -> String.valueOf(row.get(c)))
              .collect(Collectors.joining("/"));
    }

    static String toJson(@Nullable TableRow row) {
      if (row == null) {
        return "null";
      }
      try {
        return JSON.writeValueAsString(row);
      } catch (JsonProcessingException e) {
        return String.valueOf(row);
      }
    }
  }
}
