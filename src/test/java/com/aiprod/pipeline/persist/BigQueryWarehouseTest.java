package com.aiprod.pipeline.persist;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;

import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.model.DeadLetter;
import com.aiprod.pipeline.model.ShotResult;
import com.aiprod.pipeline.options.AiprodOptions;
import com.google.api.services.bigquery.model.Table;
import com.google.api.services.bigquery.model.TableFieldSchema;
import com.google.api.services.bigquery.model.TableRow;
import com.google.api.services.bigquery.model.TableSchema;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryIO.Write.Method;
import org.apache.beam.sdk.io.gcp.testing.FakeBigQueryServices;
import org.apache.beam.sdk.io.gcp.testing.FakeDatasetService;
import org.apache.beam.sdk.io.gcp.testing.FakeJobService;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The BigQuery warehouse against Beam's {@link FakeDatasetService} (which implements the Storage
 * Write API's {@code WriteStreamService}): the real BigQueryIO Storage Write API code paths, table
 * creation, refused rows, the at-least-once switch.
 */
class BigQueryWarehouseTest {
  private static final String PROJECT = "my-project";

  /**
   * BigQueryIO caches the tables it created (statically, per JVM) while {@link
   * FakeDatasetService#setUp()} forgets them: every test uses a dataset of its own.
   */
  private static final AtomicInteger DATASETS = new AtomicInteger();

  private String dataset;

  private FakeDatasetService datasets;
  private BigQueryWarehouse warehouse;

  @BeforeEach
  void fakeBigQuery() throws Exception {
    FakeDatasetService.setUp();
    dataset = "analytics_" + DATASETS.incrementAndGet();
    datasets = new FakeDatasetService();
    datasets.createDataset(PROJECT, dataset, "", "", null);
    FakeBigQueryServices services =
        new FakeBigQueryServices()
            .withDatasetService(datasets)
            .withJobService(new FakeJobService());
    warehouse =
        ((BigQueryWarehouse) Warehouse.fromSpec("bigquery:" + PROJECT + "." + dataset))
            .withTestServices(services);
  }

  private static Pipeline pipeline(String... extra) {
    List<String> args = new ArrayList<>(List.of("--runner=DirectRunner", "--targetParallelism=2"));
    args.addAll(List.of(extra));
    return Pipeline.create(
        PipelineOptionsFactory.fromArgs(args.toArray(new String[0])).as(AiprodOptions.class));
  }

  private List<TableRow> rows(WarehouseTable table) throws Exception {
    return datasets.getAllRows(PROJECT, dataset, table.tableName());
  }

  @Test
  void schemaConversionKeepsEveryFieldOfTheJsonFiles() {
    for (WarehouseTable t : WarehouseTable.values()) {
      TableSchema schema = TableSchemas.bigQuerySchema(t);
      List<TableSchemas.Field> fields = t.fields();
      assertThat(t.tableName(), schema.getFields(), hasSize(fields.size()));
      for (int i = 0; i < fields.size(); i++) {
        TableFieldSchema bq = schema.getFields().get(i);
        assertThat(bq.getName(), equalTo(fields.get(i).name()));
        assertThat(bq.getType(), equalTo(fields.get(i).type()));
        assertThat(bq.getMode(), equalTo(fields.get(i).mode()));
        assertThat(bq.getDescription(), equalTo(fields.get(i).description()));
      }
    }
    Map<String, TableFieldSchema> jobs =
        byName(TableSchemas.bigQuerySchema(WarehouseTable.JOB_RESULTS));
    assertThat(jobs.get("finished_at").getType(), equalTo("TIMESTAMP"));
    assertThat(jobs.get("finished_at").getMode(), equalTo("REQUIRED"));
    assertThat(jobs.get("cost_usd").getType(), equalTo("FLOAT"));
    assertThat(jobs.get("latency_ms").getType(), equalTo("INTEGER"));
    assertThat(jobs.get("preset").getMode(), equalTo("NULLABLE"));
    Map<String, TableFieldSchema> audit =
        byName(TableSchemas.bigQuerySchema(WarehouseTable.AUDIT_EVENTS));
    assertThat(audit.get("details").getType(), equalTo("JSON"));
    assertThat(audit.get("event_time").getType(), equalTo("TIMESTAMP"));
    Map<String, TableFieldSchema> shots =
        byName(TableSchemas.bigQuerySchema(WarehouseTable.SHOT_RENDERS));
    assertThat(shots.get("started_at").getType(), equalTo("TIMESTAMP"));
    assertThat(shots.get("shot_index").getMode(), equalTo("REQUIRED"));
    Map<String, TableFieldSchema> dead =
        byName(TableSchemas.bigQuerySchema(WarehouseTable.DEAD_LETTERS));
    TableFieldSchema attributes = dead.get("attributes");
    assertThat(attributes.getType(), equalTo("RECORD"));
    assertThat(attributes.getMode(), equalTo("REPEATED"));
    assertThat(
        attributes.getFields().stream()
            .map(f -> f.getName() + ":" + f.getType())
            .collect(Collectors.toList()),
        equalTo(List.of("key:STRING", "value:STRING")));
    assertThat(dead.get("payloadBytes").getType(), equalTo("BYTES"));
    assertThat(dead.get("timestamp").getType(), equalTo("TIMESTAMP"));
    assertThat(dead.get("payloadString").getFields(), nullValue());
  }

  private static Map<String, TableFieldSchema> byName(TableSchema schema) {
    return schema.getFields().stream().collect(Collectors.toMap(TableFieldSchema::getName, f -> f));
  }

  @Test
  void createTablesWithPartitioningAndClusteringAndIsIdempotent() throws Exception {
    warehouse.createTables();
    warehouse.createTables();
    for (WarehouseTable t : WarehouseTable.values()) {
      Table table = datasets.getTable(warehouse.tableReference(t));
      assertThat(t.tableName(), table, notNullValue());
      assertThat(table.getSchema().getFields(), hasSize(t.fields().size()));
    }
    Table jobs = datasets.getTable(warehouse.tableReference(WarehouseTable.JOB_RESULTS));
    assertThat(jobs.getTimePartitioning().getType(), equalTo("DAY"));
    assertThat(jobs.getTimePartitioning().getField(), equalTo("finished_at"));
    assertThat(jobs.getClustering().getFields(), equalTo(List.of("tenant", "state")));
    Table audit = datasets.getTable(warehouse.tableReference(WarehouseTable.AUDIT_EVENTS));
    assertThat(audit.getTimePartitioning().getField(), equalTo("event_time"));
    assertThat(audit.getClustering().getFields(), equalTo(List.of("event_type", "tenant")));
    // Like terraform/locals.tf (DedupViewPartitioningTest): every table is day-partitioned.
    Table shots = datasets.getTable(warehouse.tableReference(WarehouseTable.SHOT_RENDERS));
    assertThat(shots.getTimePartitioning().getField(), equalTo("finished_at"));
    assertThat(shots.getClustering().getFields(), equalTo(List.of("tenant", "job_id")));
    Table dead = datasets.getTable(warehouse.tableReference(WarehouseTable.DEAD_LETTERS));
    assertThat(dead.getTimePartitioning().getField(), equalTo("timestamp"));
    assertThat(dead.getClustering().getFields(), equalTo(List.of("reason_code", "stage")));
  }

  /** All four tables through the exactly-once Storage Write API; the sink creates the tables. */
  @Test
  void exactlyOnceWritesAllFourTablesAndDeduplicatesAuditEvents() throws Exception {
    Pipeline p = pipeline();
    assertThat(BigQueryWarehouse.method(p.getOptions()), equalTo(Method.STORAGE_WRITE_API));
    List<PCollection<DeadLetter>> refused = writeAll(p);
    PAssert.that(PCollectionList.of(refused).apply(Flatten.pCollections())).empty();
    assertThat(p.run().waitUntilFinish(), equalTo(PipelineResult.State.DONE));

    assertThat(rows(WarehouseTable.JOB_RESULTS), hasSize(2));
    assertThat(rows(WarehouseTable.SHOT_RENDERS), hasSize(4));
    // 100 rows, 50 event ids: deduplicated by event_id before the sink.
    List<TableRow> audits = rows(WarehouseTable.AUDIT_EVENTS);
    assertThat(audits, hasSize(50));
    assertThat(audits.stream().map(r -> r.get("event_id")).distinct().count(), equalTo(50L));
    List<TableRow> dead = rows(WarehouseTable.DEAD_LETTERS);
    assertThat(dead, hasSize(1));

    TableRow job =
        rows(WarehouseTable.JOB_RESULTS).stream()
            .filter(r -> "job-00000001".equals(r.get("job_id")))
            .findFirst()
            .orElseThrow();
    assertThat(job.get("tenant"), equalTo("acme"));
    assertThat(job.get("state"), equalTo("DELIVERED"));
    assertThat(String.valueOf(job.get("finished_at")), containsString("2025-11-24"));
    assertThat(String.valueOf(audits.get(0).get("details")), containsString("DELIVERED"));
    assertThat(String.valueOf(field(dead.get(0), "attributes")), containsString("[REDACTED]"));
    assertThat(
        String.valueOf(field(dead.get(0), "attributes")), not(containsString("secret-token")));

    // Tables created by the sink carry the partitioning and clustering of DESIGN §8.
    Table jobs = datasets.getTable(warehouse.tableReference(WarehouseTable.JOB_RESULTS));
    assertThat(jobs.getTimePartitioning().getField(), equalTo("finished_at"));
    assertThat(jobs.getClustering().getFields(), equalTo(List.of("tenant", "state")));
    Table audit = datasets.getTable(warehouse.tableReference(WarehouseTable.AUDIT_EVENTS));
    assertThat(audit.getTimePartitioning().getField(), equalTo("event_time"));
    assertThat(audit.getClustering().getFields(), equalTo(List.of("event_type", "tenant")));
    assertThat(byName(audit.getSchema()).get("details").getType(), equalTo("JSON"));
  }

  @Test
  void atLeastOnceSwitchWritesWithTheDefaultStream() throws Exception {
    Pipeline p = pipeline("--useStorageWriteApiAtLeastOnce=true");
    assertThat(BigQueryWarehouse.method(p.getOptions()), equalTo(Method.STORAGE_API_AT_LEAST_ONCE));
    List<PCollection<DeadLetter>> refused = writeAll(p);
    PAssert.that(PCollectionList.of(refused).apply(Flatten.pCollections())).empty();
    assertThat(p.run().waitUntilFinish(), equalTo(PipelineResult.State.DONE));
    assertThat(rows(WarehouseTable.JOB_RESULTS), hasSize(2));
    assertThat(rows(WarehouseTable.SHOT_RENDERS), hasSize(4));
    assertThat(rows(WarehouseTable.AUDIT_EVENTS), hasSize(50));
    assertThat(rows(WarehouseTable.DEAD_LETTERS), hasSize(1));
  }

  /**
   * An unbounded input (TestStream) through the exactly-once mode: the sink then needs a triggering
   * frequency and auto-sharding, which the warehouse sets; audit dedup works on the stream too.
   */
  @Test
  void exactlyOnceWritesAnUnboundedInput() throws Exception {
    Pipeline p = pipeline("--streaming=true", "--storageWriteApiTriggeringFrequencySec=1");
    TestStream<Row> jobs =
        TestStream.create(RowCoder.of(WarehouseTable.JOB_RESULTS.beamSchema()))
            .addElements(WarehouseRows.jobResult(TestData.delivered("acme", "job-00000001")))
            .advanceProcessingTime(Duration.standardSeconds(2))
            .addElements(WarehouseRows.jobResult(TestData.delivered("acme", "job-00000002")))
            .advanceWatermarkToInfinity();
    TestStream<Row> audits =
        TestStream.create(RowCoder.of(WarehouseTable.AUDIT_EVENTS.beamSchema()))
            .addElements(
                WarehouseRows.auditEvent(TestData.audit("evt-1")),
                WarehouseRows.auditEvent(TestData.audit("evt-1")),
                WarehouseRows.auditEvent(TestData.audit("evt-2")))
            .advanceWatermarkToInfinity();
    PCollection<DeadLetter> refusedJobs =
        p.apply("Jobs", jobs)
            .setRowSchema(WarehouseTable.JOB_RESULTS.beamSchema())
            .apply(warehouse.write(WarehouseTable.JOB_RESULTS))
            .get(StageTags.DEAD_LETTERS);
    PCollection<DeadLetter> refusedAudits =
        p.apply("Audits", audits)
            .setRowSchema(WarehouseTable.AUDIT_EVENTS.beamSchema())
            .apply(warehouse.write(WarehouseTable.AUDIT_EVENTS))
            .get(StageTags.DEAD_LETTERS);
    PAssert.that(refusedJobs).empty();
    PAssert.that(refusedAudits).empty();
    assertThat(p.run().waitUntilFinish(), equalTo(PipelineResult.State.DONE));
    assertThat(
        rows(WarehouseTable.JOB_RESULTS).stream()
            .map(r -> field(r, "job_id"))
            .sorted()
            .collect(Collectors.toList()),
        equalTo(List.of("job-00000001", "job-00000002")));
    assertThat(
        rows(WarehouseTable.AUDIT_EVENTS).stream()
            .map(r -> field(r, "event_id"))
            .sorted()
            .collect(Collectors.toList()),
        equalTo(List.of("evt-1", "evt-2")));
  }

  private List<PCollection<DeadLetter>> writeAll(Pipeline p) {
    List<Row> jobs =
        List.of(
            WarehouseRows.jobResult(TestData.delivered("acme", "job-00000001")),
            WarehouseRows.jobResult(TestData.delivered("acme", "job-00000002")));
    List<Row> shots = new ArrayList<>();
    for (int attempt = 1; attempt <= 2; attempt++) {
      shots.add(WarehouseRows.shotRender(TestData.shot("job-00000001", 0, attempt)));
      shots.add(WarehouseRows.shotRender(TestData.shot("job-00000001", 1, attempt)));
    }
    List<Row> audits = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      audits.add(WarehouseRows.auditEvent(TestData.audit("evt-" + (i % 50))));
    }
    List<Row> dead = List.of(WarehouseRows.deadLetter(TestData.deadLetter("msg-9")));
    List<PCollection<DeadLetter>> refused = new ArrayList<>();
    refused.add(
        p.apply("Jobs", Create.of(jobs).withRowSchema(WarehouseTable.JOB_RESULTS.beamSchema()))
            .apply(warehouse.write(WarehouseTable.JOB_RESULTS))
            .get(StageTags.DEAD_LETTERS));
    refused.add(
        p.apply("Shots", Create.of(shots).withRowSchema(WarehouseTable.SHOT_RENDERS.beamSchema()))
            .apply(warehouse.write(WarehouseTable.SHOT_RENDERS))
            .get(StageTags.DEAD_LETTERS));
    refused.add(
        p.apply("Audits", Create.of(audits).withRowSchema(WarehouseTable.AUDIT_EVENTS.beamSchema()))
            .apply(warehouse.write(WarehouseTable.AUDIT_EVENTS))
            .get(StageTags.DEAD_LETTERS));
    refused.add(
        p.apply("Dead", Create.of(dead).withRowSchema(WarehouseTable.DEAD_LETTERS.beamSchema()))
            .apply(warehouse.write(WarehouseTable.DEAD_LETTERS))
            .get(StageTags.DEAD_LETTERS));
    return refused;
  }

  /**
   * Rows BigQuery refuses (here: the fake fails them on append) end in dead_letters through
   * Deliver's transforms; the pipeline succeeds. A refused dead_letters row is counted, not looped.
   */
  @Test
  void refusedRowsEndInDeadLettersAndThePipelineSucceeds() throws Exception {
    datasets.setShouldFailRow(
        (Function<TableRow, Boolean> & Serializable)
            row ->
                "job-bad".equals(row.get("job_id"))
                    || "evt-bad".equals(row.get("event_id"))
                    || "msg-lost".equals(row.get("message_id")));
    Pipeline p = pipeline();
    List<ShotResult> shots =
        List.of(TestData.shot("job-00000001", 0, 1), TestData.shot("job-bad", 0, 1));
    List<AuditEvent> events = List.of(TestData.audit("evt-ok"), TestData.audit("evt-bad"));
    PCollection<DeadLetter> shotFailures =
        p.apply("Shots", Create.of(shots)).apply(new Deliver.ShotRenders(warehouse));
    PCollection<DeadLetter> auditFailures =
        p.apply("Events", Create.of(events))
            .apply(new Deliver.AuditRows(warehouse))
            .get(StageTags.DEAD_LETTERS);
    PCollection<DeadLetter> upstream =
        p.apply(
            "Upstream",
            Create.of(List.of(TestData.deadLetter("msg-ok"), TestData.deadLetter("msg-lost"))));
    PCollectionList.of(upstream)
        .and(shotFailures)
        .and(auditFailures)
        .apply(Flatten.pCollections())
        .apply(new Deliver.DeadLetterRows(warehouse));
    PipelineResult result = p.run();
    assertThat(result.waitUntilFinish(), equalTo(PipelineResult.State.DONE));

    assertThat(
        rows(WarehouseTable.SHOT_RENDERS).stream()
            .map(r -> r.get("job_id"))
            .collect(Collectors.toList()),
        equalTo(List.of("job-00000001")));
    assertThat(
        rows(WarehouseTable.AUDIT_EVENTS).stream()
            .map(r -> r.get("event_id"))
            .collect(Collectors.toList()),
        equalTo(List.of("evt-ok")));

    List<TableRow> dead = rows(WarehouseTable.DEAD_LETTERS);
    Map<String, TableRow> byMessage =
        dead.stream().collect(Collectors.toMap(r -> field(r, "message_id"), r -> r));
    assertThat(
        byMessage.keySet(),
        equalTo(java.util.Set.of("msg-ok", "shot_renders:acme/job-bad/0/1", "msg-1")));

    TableRow shot = byMessage.get("shot_renders:acme/job-bad/0/1");
    assertThat(shot.get("reason_code"), equalTo("INTERNAL_ERROR"));
    assertThat(shot.get("stage"), equalTo("Deliver"));
    assertThat(
        field(shot, "errorMessage"), containsString("my-project:" + dataset + ".shot_renders"));
    assertThat(field(shot, "errorMessage"), containsString("Failing row"));
    assertThat(field(shot, "payloadString"), containsString("\"job_id\":\"job-bad\""));
    assertThat(String.valueOf(field(shot, "attributes")), containsString("shot_renders"));

    TableRow audit = byMessage.get("msg-1");
    assertThat(audit.get("reason_code"), equalTo("INTERNAL_ERROR"));
    assertThat(
        field(audit, "errorMessage"), containsString("my-project:" + dataset + ".audit_events"));
    assertThat(field(audit, "payloadString"), containsString("evt-bad"));

    assertThat(counter(result, "warehouse_dead_letter_rows_lost"), equalTo(1L));
    assertThat(counter(result, "warehouse_rows_refused_shot_renders"), equalTo(1L));
    assertThat(counter(result, "warehouse_rows_refused_audit_events"), equalTo(1L));
    assertThat(counter(result, "dead_letters_INTERNAL_ERROR"), equalTo(2L));
  }

  /**
   * A column of a row read back from the fake, whatever its case: the fake rebuilds rows from the
   * Storage Write API protos, whose field names are lower case ({@code errormessage}).
   */
  private static String field(TableRow row, String name) {
    for (Map.Entry<String, Object> e : row.entrySet()) {
      if (e.getKey().equalsIgnoreCase(name)) {
        return e.getValue() == null ? null : String.valueOf(e.getValue());
      }
    }
    return null;
  }

  private static long counter(PipelineResult result, String name) {
    long total = 0;
    for (MetricResult<Long> c :
        result
            .metrics()
            .queryMetrics(
                MetricsFilter.builder()
                    .addNameFilter(MetricNameFilter.named("aiprod", name))
                    .build())
            .getCounters()) {
      total += c.getAttempted();
    }
    return total;
  }

  @Test
  void dedupViewUsesQualifyOnThePrimaryKey() {
    String sql = warehouse.dedupViewSql(WarehouseTable.AUDIT_EVENTS);
    assertThat(
        sql,
        containsString("CREATE OR REPLACE VIEW `my-project." + dataset + ".audit_events_dedup`"));
    assertThat(sql, containsString("FROM `my-project." + dataset + ".audit_events`"));
    assertThat(
        sql,
        containsString(
            "QUALIFY ROW_NUMBER() OVER (PARTITION BY CAST(`event_time` AS DATE), event_id ORDER BY `event_time`)"
                + " = 1"));
    assertThat(
        warehouse.dedupViewSql(WarehouseTable.JOB_RESULTS),
        containsString(
            "PARTITION BY CAST(`finished_at` AS DATE), tenant, job_id ORDER BY `finished_at`"));
  }
}
