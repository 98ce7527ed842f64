package com.aiprod.pipeline.audit;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.startsWith;

import com.aiprod.pipeline.kernel.AuditEvents;
import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.model.AuditStatus;
import com.aiprod.pipeline.model.AuditType;
import com.aiprod.pipeline.persist.Deliver;
import com.aiprod.pipeline.persist.Warehouse;
import com.aiprod.pipeline.persist.WarehouseTable;
import com.aiprod.pipeline.secrets.SecretSource;
import com.aiprod.pipeline.testing.BigQueryFakes;
import com.aiprod.pipeline.tools.Cli;
import com.aiprod.pipeline.tools.VerifyAudit;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.Row;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SignAuditEvents on the DirectRunner into a DuckDB warehouse (through Deliver.AuditRows), then
 * VerifyAudit on the table and on an NDJSON export.
 */
class SignAndVerifyAuditTest {
  private static final String RUN = "sign-verify-run";
  private static final String KEY = "bm90LWEtcmVhbC1rZXktYnV0LWxvbmctZW5vdWdoLTEyMzQ=";
  private static final long T0 = 1_790_000_000_123L;
  private static final AuditEvents AUDIT = new AuditEvents("dev");

  @TempDir Path dir;
  private Path secrets;
  private Path db;

  @BeforeEach
  void key() throws Exception {
    secrets = dir.resolve("secrets");
    Files.createDirectories(secrets);
    Path key = secrets.resolve("audit-hmac-key");
    Files.writeString(key, KEY + "\n");
    Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
    db = dir.resolve("wh.duckdb");
  }

  static List<AuditEvent> events() {
    List<AuditEvent> out = new ArrayList<>();
    out.add(
        AUDIT
            .event(AuditType.CONFIG_CHANGE, AuditStatus.SUCCESS, "start_pipeline")
            .resource(RUN)
            .details(AuditEvents.details().put("warehouse", "duckdb:x"))
            .at(T0)
            .discriminator(RUN)
            .build());
    out.add(
        AUDIT
            .event(AuditType.AUTH_SUCCESS, AuditStatus.SUCCESS, "authenticate")
            .aboutMessage("m-1", "acme", "alice")
            .jobId("job-1")
            .details(AuditEvents.details().put("kid", "dev"))
            .at(T0 + 1)
            .build());
    ObjectNode d =
        AuditEvents.details().put("state", "DELIVERED").put("cost_usd", 0.25).put("shots", 3);
    d.putArray("list").add("é \"quoted\" \\ \n").add(1.0);
    out.add(
        AUDIT
            .event(AuditType.DATA_ACCESS, AuditStatus.SUCCESS, "write_job_document")
            .aboutMessage("m-1", "acme", "alice")
            .jobId("job-1")
            .resource("tenants/acme/jobs/job-1")
            .details(d)
            .at(T0 + 2)
            .discriminator("DELIVERED")
            .build());
    out.add(
        AUDIT
            .event(AuditType.AUTH_FAILURE, AuditStatus.FAILURE, "authenticate")
            .aboutMessage("m-2", null, null)
            .details(AuditEvents.details().put("reason", "AUTH_EXPIRED"))
            .at(T0 + 3)
            .build());
    return out;
  }

  private void runPipeline(List<AuditEvent> events) {
    Pipeline p =
        Pipeline.create(
            PipelineOptionsFactory.fromArgs(
                    "--runner=DirectRunner", "--targetParallelism=2", "--jobName=" + RUN)
                .create());
    p.apply(Create.of(events))
        .apply(new SignAuditEvents(SecretSource.dir(secrets), AUDIT))
        .apply(new Deliver.AuditRows(Warehouse.fromSpec("duckdb:" + db)));
    p.run().waitUntilFinish();
  }

  private record Result(int status, List<String> lines) {}

  private Result verify(String... input) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    List<String> args = new ArrayList<>(Arrays.asList(input));
    args.add("--secret-source=dir:" + secrets);
    int status =
        VerifyAudit.run(
            args.toArray(new String[0]),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    List<String> lines = new ArrayList<>(out.toString(StandardCharsets.UTF_8).lines().toList());
    lines.addAll(err.toString(StandardCharsets.UTF_8).lines().toList());
    return new Result(status, lines);
  }

  /** verify-audit on {@code bq}'s warehouse (Beam's BigQuery fakes). */
  private Result verifyBigQuery(BigQueryFakes bq, String... extra) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    List<String> args = new ArrayList<>();
    args.add("verify-audit");
    args.add("--warehouse=" + bq.warehouse.spec());
    args.add("--temp-location=" + dir.resolve("bq-temp"));
    args.add("--secret-source=dir:" + secrets);
    args.addAll(Arrays.asList(extra));
    int status =
        new Cli(
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8))
            .withBigQueryServices(bq.services)
            .execute(args.toArray(new String[0]));
    List<String> lines = new ArrayList<>(out.toString(StandardCharsets.UTF_8).lines().toList());
    lines.addAll(err.toString(StandardCharsets.UTF_8).lines().toList());
    return new Result(status, lines);
  }

  /** The signed rows of the DuckDB table as warehouse rows, to store in another warehouse. */
  private List<Row> duckDbRows() throws Exception {
    Schema schema = WarehouseTable.AUDIT_EVENTS.beamSchema();
    List<Row> rows = new ArrayList<>();
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:" + db);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT *, epoch_ms(event_time) AS ms FROM audit_events")) {
      while (rs.next()) {
        Row.FieldValueBuilder b = Row.withSchema(schema).withFieldValue("event_id", null);
        for (Schema.Field f : schema.getFields()) {
          b =
              b.withFieldValue(
                  f.getName(),
                  f.getName().equals("event_time")
                      ? new org.joda.time.Instant(rs.getLong("ms"))
                      : rs.getString(f.getName()));
        }
        rows.add(b.build());
      }
    }
    return rows;
  }

  /**
   * The same signed rows in a BigQuery warehouse (Beam's fakes, read through BigQueryIO): the trail
   * verifies as on DuckDB, a forged row is reported, and a time range checks its rows only.
   */
  @Test
  void bigQueryWarehouseVerifiesWithTimeRangeAndReportsAForgedRow() throws Exception {
    runPipeline(events());
    List<Row> rows = duckDbRows();
    BigQueryFakes bq = new BigQueryFakes("my-project", "audit_bq");
    bq.insert(WarehouseTable.AUDIT_EVENTS, rows);

    Result local = verify("--warehouse=duckdb:" + db);
    Result remote = verifyBigQuery(bq);
    assertThat(remote.lines().toString(), remote.status(), equalTo(0));
    assertThat(local.status(), equalTo(0));
    assertThat(remote.lines(), hasItem(local.lines().get(local.lines().size() - 1)));
    assertThat(
        remote.lines(),
        hasItem(rows.size() + " audit rows checked, 0 problems: the trail verifies"));

    // Only the first two events of the run (T0, T0 + 1): the rest are not read.
    Result early =
        verifyBigQuery(
            bq,
            "--since=" + java.time.Instant.ofEpochMilli(T0),
            "--until=" + java.time.Instant.ofEpochMilli(T0 + 2));
    long inRange =
        rows.stream()
            .filter(r -> r.getDateTime("event_time").getMillis() < T0 + 2)
            .filter(r -> r.getDateTime("event_time").getMillis() >= T0)
            .count();
    assertThat(inRange, equalTo(2L));
    assertThat(
        early.lines().toString(),
        early.lines(),
        hasItem(startsWith(inRange + " audit rows checked")));
    // The same range on the DuckDB file: the same lines.
    Result localEarly =
        verify(
            "--warehouse=duckdb:" + db,
            "--since=" + java.time.Instant.ofEpochMilli(T0),
            "--until=" + java.time.Instant.ofEpochMilli(T0 + 2));
    assertThat(localEarly.lines(), equalTo(early.lines()));

    Row auth =
        rows.stream()
            .filter(r -> "AUTH_SUCCESS".equals(r.getString("event_type")))
            .findFirst()
            .orElseThrow();
    Row forged =
        Row.fromRow(auth)
            .withFieldValue("event_id", "evt-forged")
            .withFieldValue("user_id", "mallory")
            .build();
    bq.insert(WarehouseTable.AUDIT_EVENTS, List.of(forged));
    Result tampered = verifyBigQuery(bq);
    assertThat(tampered.status(), equalTo(1));
    assertThat(
        tampered.lines(),
        hasItem(
            "evt-forged tampered: the signature does not match the row (HMAC-SHA256 mismatch)"));
  }

  private void sql(String statement) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:" + db);
        Statement s = c.createStatement()) {
      s.execute(statement);
    }
  }

  private List<String> column(String query) throws Exception {
    List<String> out = new ArrayList<>();
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:" + db);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(query)) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
    }
    return out;
  }

  private String id(int i) {
    return events().get(i).getEventId();
  }

  @Test
  void signedTrailVerifies() throws Exception {
    runPipeline(events());
    assertThat(
        column("SELECT count(*) FROM audit_events WHERE signature LIKE 'v1:local:%'"),
        contains("5"));
    // One SECRET_ACCESS per (run, source, secret, version), however many DoFn instances resolved
    // it.
    assertThat(
        column("SELECT resource FROM audit_events WHERE event_type = 'SECRET_ACCESS'"),
        contains(
            "dir:"
                + secrets.toAbsolutePath().normalize()
                + "/secrets/audit-hmac-key/versions/local"));
    assertThat(
        column(
                "SELECT CAST(details AS VARCHAR) FROM audit_events WHERE event_type = 'SECRET_ACCESS'")
            .get(0),
        not(containsString(KEY)));
    Result r = verify("--warehouse=duckdb:" + db);
    assertThat(r.lines().toString(), r.status(), equalTo(0));
    assertThat(r.lines(), contains("5 audit rows checked, 0 problems: the trail verifies"));
  }

  @Test
  void tamperedFieldReportsExactlyThatRow() throws Exception {
    runPipeline(events());
    sql("UPDATE audit_events SET status = 'failure' WHERE event_id = '" + id(2) + "'");
    Result r = verify("--warehouse=duckdb:" + db);
    assertThat(r.status(), equalTo(1));
    assertThat(
        r.lines(),
        contains(
            id(2) + " tampered: the signature does not match the row (HMAC-SHA256 mismatch)",
            "5 audit rows checked, 1 problem"));
  }

  @Test
  void tamperedDetailsAndTimeAreReported() throws Exception {
    runPipeline(events());
    sql("UPDATE audit_events SET details = '{\"kid\":\"other\"}' WHERE event_id = '" + id(1) + "'");
    sql(
        "UPDATE audit_events SET event_time = event_time + INTERVAL 1 SECOND WHERE event_id = '"
            + id(3)
            + "'");
    Result r = verify("--warehouse=duckdb:" + db);
    assertThat(r.status(), equalTo(1));
    assertThat(r.lines(), hasSize(3));
    assertThat(r.lines().toString(), containsString(id(1) + " tampered"));
    assertThat(r.lines().toString(), containsString(id(3) + " tampered"));
  }

  @Test
  void unsignedRowIsReported() throws Exception {
    runPipeline(events());
    sql("UPDATE audit_events SET signature = NULL WHERE event_id = '" + id(0) + "'");
    sql("UPDATE audit_events SET signature = '' WHERE event_id = '" + id(3) + "'");
    Result r = verify("--warehouse=duckdb:" + db);
    assertThat(r.status(), equalTo(1));
    List<String> sorted = new ArrayList<>(r.lines().subList(0, 2));
    sorted.sort(null);
    List<String> expected =
        new ArrayList<>(
            List.of(
                id(0) + " unsigned: the signature is null",
                id(3) + " unsigned: the signature is empty"));
    expected.sort(null);
    assertThat(sorted, equalTo(expected));
    assertThat(r.lines().get(2), equalTo("5 audit rows checked, 2 problems"));
  }

  @Test
  void deletedAuthEventIsMissing() throws Exception {
    runPipeline(events());
    sql("DELETE FROM audit_events WHERE event_id = '" + id(1) + "'");
    Result r = verify("--warehouse=duckdb:" + db);
    assertThat(r.status(), equalTo(1));
    assertThat(
        r.lines(),
        contains(
            "message:m-1 missing: no AUTH_SUCCESS or AUTH_FAILURE event for this message (every message has exactly one)",
            "4 audit rows checked, 1 problem"));
  }

  @Test
  void deletedSecretAccessIsMissing() throws Exception {
    runPipeline(events());
    sql("DELETE FROM audit_events WHERE event_type = 'SECRET_ACCESS'");
    Result r = verify("--warehouse=duckdb:" + db);
    assertThat(r.status(), equalTo(1));
    assertThat(
        r.lines().get(0),
        startsWith("run:" + RUN + " missing: no SECRET_ACCESS event of audit-hmac-key"));
  }

  @Test
  void bigQueryExportVerifies() throws Exception {
    runPipeline(events());
    // The shape of `bq extract --destination_format=NEWLINE_DELIMITED_JSON`: one object per row,
    // column names as keys, TIMESTAMP as "YYYY-MM-DD HH:MM:SS.ffffff UTC", JSON as nested JSON.
    ObjectMapper json = new ObjectMapper();
    List<String> lines = new ArrayList<>();
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:" + db);
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT *, strftime(event_time AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S.%f UTC') AS t,"
                    + " CAST(details AS VARCHAR) AS d FROM audit_events ORDER BY event_time DESC")) {
      while (rs.next()) {
        ObjectNode o = json.createObjectNode();
        for (String col :
            new String[] {
              "event_id",
              "event_type",
              "environment",
              "service",
              "tenant",
              "user_id",
              "action",
              "resource",
              "status",
              "job_id",
              "message_id",
              "signature"
            }) {
          o.put(col, rs.getString(col));
        }
        o.put("event_time", rs.getString("t"));
        o.set("details", json.readTree(rs.getString("d")));
        lines.add(o.toString());
      }
    }
    Path export = dir.resolve("audit_events.jsonl");
    Files.write(export, lines);
    Result ok = verify("--file=" + export);
    assertThat(ok.lines().toString(), ok.status(), equalTo(0));

    // The same export with one field changed and one signature removed.
    List<String> bad = new ArrayList<>(lines);
    ObjectNode tampered = (ObjectNode) json.readTree(bad.get(0));
    tampered.put("tenant", "other-tenant");
    bad.set(0, tampered.toString());
    ObjectNode unsigned = (ObjectNode) json.readTree(bad.get(1));
    unsigned.putNull("signature");
    bad.set(1, unsigned.toString());
    Files.write(export, bad);
    Result r = verify("--file=" + export);
    assertThat(r.status(), equalTo(1));
    assertThat(
        r.lines(),
        contains(
            tampered.get("event_id").asText()
                + " tampered: the signature does not match the row (HMAC-SHA256 mismatch)",
            unsigned.get("event_id").asText() + " unsigned: the signature is null",
            "5 audit rows checked, 2 problems"));
  }

  @Test
  void canonicalFormIsDefinedAndStable() {
    AuditEvent e = events().get(2);
    assertThat(
        AuditSignatures.canonical(e),
        equalTo(
            "{\"action\":\"write_job_document\",\"details\":{\"cost_usd\":0.25,\"list\":[\"é \\\"quoted\\\" \\\\ \\n\",1],"
                + "\"shots\":3,\"state\":\"DELIVERED\"},\"environment\":\"dev\",\"event_id\":\""
                + e.getEventId()
                + "\","
                + "\"event_time\":"
                + (T0 + 2)
                + ",\"event_type\":\"DATA_ACCESS\",\"job_id\":\"job-1\",\"message_id\":\"m-1\","
                + "\"resource\":\"tenants/acme/jobs/job-1\",\"service\":\"aiprod-pipeline\",\"status\":\"success\","
                + "\"tenant\":\"acme\",\"user_id\":\"alice\"}"));
    // Whitespace, key order and 1.0 vs 1 in details do not change it; a null column is JSON null.
    assertThat(
        AuditSignatures.canonicalJson("{ \"b\": 1.0, \"a\": [2, {\"y\": null, \"x\": 1e2}] }"),
        equalTo("{\"a\":[2,{\"x\":100,\"y\":null}],\"b\":1}"));
    assertThat(AuditSignatures.canonical(events().get(3)), containsString("\"job_id\":null"));
  }
}
