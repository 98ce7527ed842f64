package com.aiprod.pipeline.persist;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.instanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.aiprod.pipeline.tools.Query;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DuckDbWarehouseTest {
  @TempDir Path dir;

  @Test
  void fromSpec() {
    Warehouse w = Warehouse.fromSpec("duckdb:" + dir.resolve("a/w.duckdb"));
    assertThat(w, instanceOf(DuckDbWarehouse.class));
    assertThat(w.spec(), equalTo("duckdb:" + dir.resolve("a/w.duckdb")));
    Warehouse bq = Warehouse.fromSpec("bigquery:my-project.analytics");
    assertThat(bq, instanceOf(BigQueryWarehouse.class));
    assertThat(bq.spec(), equalTo("bigquery:my-project.analytics"));
    assertThrows(IllegalArgumentException.class, () -> Warehouse.fromSpec("bigquery:p.d"));
    assertThrows(IllegalArgumentException.class, () -> Warehouse.fromSpec("bigquery:my-project"));
    assertThrows(
        IllegalArgumentException.class,
        () -> Warehouse.fromSpec("bigquery:my-project.bad-dataset"));
    assertThrows(IllegalArgumentException.class, () -> Warehouse.fromSpec("mysql://x"));
    assertThrows(IllegalArgumentException.class, () -> Warehouse.fromSpec("duckdb:"));
  }

  @Test
  void pipelineWritesAllTablesIdempotentlyAndClosesTheFile() {
    Path file = dir.resolve("warehouse/aiprod.duckdb");
    Warehouse warehouse = Warehouse.fromSpec("duckdb:" + file);

    runPipeline(warehouse);
    assertThat(DuckDbConnections.openCount(), equalTo(0));
    // A second run (a replayed batch) adds nothing.
    runPipeline(warehouse);
    assertThat(DuckDbConnections.openCount(), equalTo(0));

    String counts =
        query(
            file,
            "SELECT (SELECT count(*) FROM job_results) AS jobs,"
                + " (SELECT count(*) FROM shot_renders) AS shots,"
                + " (SELECT count(*) FROM audit_events) AS audits,"
                + " (SELECT count(*) FROM dead_letters) AS dead");
    assertThat(counts, containsString("jobs | shots | audits | dead"));
    assertThat(counts, containsString("3    | 4     | 50     | 1"));
    assertThat(counts, containsString("(1 row)"));

    String dead =
        query(
            file,
            "SELECT attributes[1].key AS k, attributes[1].value AS v, octet_length(payloadBytes) AS n,"
                + " timestamp FROM dead_letters");
    assertThat(dead, containsString("authorization | [REDACTED] | 3 | 2025-11-24 16:00:00+00"));

    String details =
        query(file, "SELECT details->>'state' AS s FROM audit_events WHERE event_id = 'evt-7'");
    assertThat(details, containsString("DELIVERED"));

    String latency =
        query(
            file,
            "SELECT job_id, state, latency_ms FROM job_results WHERE state = 'DELIVERED'"
                + " ORDER BY job_id");
    assertThat(latency, containsString("job-00000001 | DELIVERED | 6000"));
  }

  @Test
  void anOlderWarehouseFileGetsTheColumnsItLacks() throws Exception {
    Path file = dir.resolve("old.duckdb");
    // A warehouse made before job_results had provider_cost_usd, with a row in it.
    try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:duckdb:" + file);
        java.sql.Statement s = c.createStatement()) {
      s.execute(
          TableSchemas.duckDbDdl(WarehouseTable.JOB_RESULTS)
              .replace("  \"provider_cost_usd\" DOUBLE,\n", ""));
      s.execute(
          "INSERT INTO job_results (job_id, message_id, tenant, uid, state, cost_usd,"
              + " received_at, finished_at, latency_ms) VALUES ('job-old-0001', 'm-old', 'acme',"
              + " 'u', 'DELIVERED', 0.25, TIMESTAMPTZ '2025-11-24 16:00:00+00',"
              + " TIMESTAMPTZ '2025-11-24 16:00:06+00', 6000)");
    }
    assertThat(
        query(
            file,
            "SELECT count(*) AS n FROM information_schema.columns WHERE column_name ="
                + " 'provider_cost_usd'"),
        containsString("0"));

    runPipeline(Warehouse.fromSpec("duckdb:" + file));
    runPipeline(Warehouse.fromSpec("duckdb:" + file)); // setting up again changes nothing

    String rows =
        query(
            file,
            "SELECT job_id, coalesce(CAST(provider_cost_usd AS VARCHAR), 'null') AS p"
                + " FROM job_results WHERE tenant = 'acme' ORDER BY job_id");
    assertThat(rows, containsString("job-00000001 | 0.0"));
    assertThat(rows, containsString("job-old-0001 | null"));
  }

  @Test
  void queryReportsSqlErrors() {
    Path file = dir.resolve("q.duckdb");
    new DuckDbWarehouse(file.toString()).createTables();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status =
        Query.run(
            new String[] {"--warehouse=duckdb:" + file, "SELECT nope FROM job_results"},
            new PrintStream(new ByteArrayOutputStream()),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(status, equalTo(1));
    assertThat(err.toString(StandardCharsets.UTF_8), containsString("SQL error"));
    assertThat(
        Query.run(new String[] {}, System.out, new PrintStream(new ByteArrayOutputStream())),
        equalTo(2));
  }

  private void runPipeline(Warehouse warehouse) {
    Pipeline p =
        Pipeline.create(
            PipelineOptionsFactory.fromArgs("--runner=DirectRunner", "--targetParallelism=2")
                .create());
    List<Row> jobs = new ArrayList<>();
    jobs.add(WarehouseRows.jobResult(TestData.delivered("acme", "job-00000001")));
    jobs.add(WarehouseRows.jobResult(TestData.delivered("acme", "job-00000001")));
    jobs.add(WarehouseRows.jobResult(TestData.delivered("acme", "job-00000002")));
    jobs.add(WarehouseRows.jobResult(TestData.delivered("other", "job-00000001")));
    List<Row> shots = new ArrayList<>();
    for (int attempt = 1; attempt <= 2; attempt++) {
      shots.add(WarehouseRows.shotRender(TestData.shot("job-00000001", 0, attempt)));
      shots.add(WarehouseRows.shotRender(TestData.shot("job-00000001", 1, attempt)));
      shots.add(WarehouseRows.shotRender(TestData.shot("job-00000001", 1, attempt)));
    }
    List<Row> audits = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      audits.add(WarehouseRows.auditEvent(TestData.audit("evt-" + (i % 50))));
    }
    List<Row> dead =
        List.of(
            WarehouseRows.deadLetter(TestData.deadLetter("msg-9")),
            WarehouseRows.deadLetter(TestData.deadLetter("msg-9")));
    p.apply("Jobs", Create.of(jobs).withRowSchema(WarehouseTable.JOB_RESULTS.beamSchema()))
        .apply(warehouse.write(WarehouseTable.JOB_RESULTS));
    p.apply("Shots", Create.of(shots).withRowSchema(WarehouseTable.SHOT_RENDERS.beamSchema()))
        .apply(warehouse.write(WarehouseTable.SHOT_RENDERS));
    p.apply("Audits", Create.of(audits).withRowSchema(WarehouseTable.AUDIT_EVENTS.beamSchema()))
        .apply(warehouse.write(WarehouseTable.AUDIT_EVENTS));
    p.apply("Dead", Create.of(dead).withRowSchema(WarehouseTable.DEAD_LETTERS.beamSchema()))
        .apply(warehouse.write(WarehouseTable.DEAD_LETTERS));
    p.run().waitUntilFinish();
  }

  private static String query(Path file, String sql) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status =
        Query.run(
            new String[] {"--warehouse=duckdb:" + file, sql},
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(err.toString(StandardCharsets.UTF_8), status, equalTo(0));
    return out.toString(StandardCharsets.UTF_8);
  }
}
