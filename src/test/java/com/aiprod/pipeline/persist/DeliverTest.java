package com.aiprod.pipeline.persist;

import static com.aiprod.pipeline.testing.StageFixtures.AUDIT;
import static com.aiprod.pipeline.testing.StageFixtures.T0;
import static com.aiprod.pipeline.testing.StageFixtures.message;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;

import com.aiprod.pipeline.kernel.AuditEvents;
import com.aiprod.pipeline.kernel.DeadLetters;
import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.model.AuditStatus;
import com.aiprod.pipeline.model.AuditType;
import com.aiprod.pipeline.model.DeadLetter;
import com.aiprod.pipeline.model.ReasonCode;
import com.aiprod.pipeline.model.RequestMessage;
import com.aiprod.pipeline.model.ShotResult;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.Create;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Deliver's warehouse transforms into a DuckDB file, read back over JDBC. */
class DeliverTest {
  private static final String TOKEN =
      "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLW9mLWFsaWNl";

  @TempDir Path dir;

  private Path file;
  private Warehouse warehouse;

  @BeforeEach
  void warehouse() {
    file = dir.resolve("wh/aiprod.duckdb");
    warehouse = Warehouse.fromSpec("duckdb:" + file);
  }

  private static Pipeline pipeline() {
    return Pipeline.create(
        PipelineOptionsFactory.fromArgs("--runner=DirectRunner", "--targetParallelism=2").create());
  }

  private void deliver(
      List<ShotResult> shots, List<AuditEvent> events, List<DeadLetter> deadLetters) {
    Pipeline p = pipeline();
    if (!shots.isEmpty()) {
      p.apply("Shots", Create.of(shots)).apply(new Deliver.ShotRenders(warehouse));
    }
    if (!events.isEmpty()) {
      p.apply("Events", Create.of(events)).apply(new Deliver.AuditRows(warehouse));
    }
    if (!deadLetters.isEmpty()) {
      p.apply("DeadLetters", Create.of(deadLetters)).apply(new Deliver.DeadLetterRows(warehouse));
    }
    p.run().waitUntilFinish();
    assertThat(DuckDbConnections.openCount(), equalTo(0));
  }

  /** Rows of a query, each as its columns joined with {@code |}. */
  private List<String> query(String sql) throws SQLException {
    Properties readOnly = new Properties();
    readOnly.setProperty("duckdb.read_only", "true");
    List<String> rows = new ArrayList<>();
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:" + file, readOnly);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      int n = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        StringBuilder b = new StringBuilder();
        for (int i = 1; i <= n; i++) {
          b.append(i > 1 ? "|" : "").append(rs.getString(i));
        }
        rows.add(b.toString());
      }
    }
    return rows;
  }

  private static ShotResult shot(int index, int attempt, String status, String error) {
    return ShotResult.builder()
        .setTenant("acme")
        .setJobId("job-0000001")
        .setShotIndex(index)
        .setAttempt(attempt)
        .setBackend("preview")
        .setStatus(status)
        .setError(error)
        .setCostUsd(0.0)
        .setLatencyMs(120)
        .setStartedAtMillis(T0)
        .setFinishedAtMillis(T0 + 120)
        .setUri(error == null ? "/out/acme/job-0000001/shots/shot-00" + index + ".mp4" : null)
        .build();
  }

  private static AuditEvent event(AuditType type, String messageId, long atMillis) {
    return AUDIT
        .event(type, AuditStatus.SUCCESS, "authenticate")
        .aboutMessage(messageId, "acme", "alice")
        .details(AuditEvents.details().put("mode", "dev"))
        .at(atMillis)
        .build();
  }

  @Test
  void shotRendersAreOneRowPerAttempt() throws Exception {
    ShotResult ok = shot(0, 1, "succeeded", null);
    deliver(
        List.of(
            ok,
            shot(1, 1, "failed", "IllegalStateException: backend down"),
            shot(1, 2, "succeeded", null),
            ok),
        List.of(),
        List.of());

    assertThat(
        query(
            "SELECT tenant, job_id, shot_index, attempt, status, error, latency_ms, epoch_ms(started_at)"
                + " FROM shot_renders ORDER BY shot_index, attempt"),
        contains(
            "acme|job-0000001|0|1|succeeded|null|120|" + T0,
            "acme|job-0000001|1|1|failed|IllegalStateException: backend down|120|" + T0,
            "acme|job-0000001|1|2|succeeded|null|120|" + T0));
  }

  @Test
  void aRedeliveredAuditEventIsOneRow() throws Exception {
    AuditEvent success = event(AuditType.AUTH_SUCCESS, "m-1", T0);
    AuditEvent other = event(AuditType.AUTH_SUCCESS, "m-2", T0 + 1);
    deliver(List.of(), List.of(success, other, success), List.of());
    // The same event built again later (a redelivered message): same event_id, later time.
    AuditEvent again = event(AuditType.AUTH_SUCCESS, "m-1", T0 + 60_000);
    assertThat(again.getEventId(), equalTo(success.getEventId()));
    deliver(List.of(), List.of(again, event(AuditType.AUTH_SUCCESS, "m-3", T0 + 2)), List.of());

    assertThat(
        query(
            "SELECT message_id, event_type, status, tenant, epoch_ms(event_time), details->>'mode'"
                + " FROM audit_events ORDER BY message_id"),
        contains(
            "m-1|AUTH_SUCCESS|success|acme|" + T0 + "|dev",
            "m-2|AUTH_SUCCESS|success|acme|" + (T0 + 1) + "|dev",
            "m-3|AUTH_SUCCESS|success|acme|" + (T0 + 2) + "|dev"));
    assertThat(
        query("SELECT count(*) FROM audit_events WHERE event_id = '" + success.getEventId() + "'"),
        contains("1"));
  }

  @Test
  void deadLettersAreRedactedRows() throws Exception {
    RequestMessage m =
        message(
            "in.jsonl:4",
            4,
            Map.of("authorization", "Bearer " + TOKEN, "job_id", "bad id"),
            "{\"content\": \"x\"}");
    DeadLetter bad =
        DeadLetters.of(
            m, ReasonCode.SCHEMA_VIOLATION, "job_id attribute must match", "Validate", null);
    DeadLetter unreadable =
        DeadLetters.of(
            message("in.jsonl:5", 5, Map.of("authorization", "Bearer " + TOKEN), null).toBuilder()
                .setRawText(
                    "{\"attributes\": {\"authorization\": \"Bearer " + TOKEN + "\"}, \"data\": {")
                .build(),
            ReasonCode.MALFORMED_JSON,
            "line 5 is not JSON",
            "ReadRequests",
            new IllegalStateException("parse"));
    deliver(List.of(), List.of(), List.of(bad, unreadable));
    deliver(List.of(), List.of(), List.of(bad));

    assertThat(
        query(
            "SELECT message_id, stage, reason_code, errorMessage FROM dead_letters ORDER BY message_id"),
        contains(
            "in.jsonl:4|Validate|SCHEMA_VIOLATION|job_id attribute must match",
            "in.jsonl:5|ReadRequests|MALFORMED_JSON|line 5 is not JSON"));
    assertThat(
        query(
            "SELECT message_id, struct_extract(a, 'value') FROM"
                + " (SELECT message_id, unnest(attributes) AS a FROM dead_letters)"
                + " WHERE struct_extract(a, 'key') = 'authorization' ORDER BY message_id"),
        contains("in.jsonl:4|[REDACTED]", "in.jsonl:5|[REDACTED]"));
    assertThat(
        query("SELECT payloadString FROM dead_letters WHERE message_id = 'in.jsonl:4'"),
        contains("{\"content\": \"x\"}"));
    String[] parts = TOKEN.split("\\.");
    assertThat(
        query(
            "SELECT count(*) FROM dead_letters WHERE concat_ws('|', payloadString, CAST(attributes AS VARCHAR),"
                + " errorMessage, stacktrace) SIMILAR TO '.*("
                + parts[1]
                + "|"
                + parts[2]
                + ").*'"),
        contains("0"));
    assertThat(
        query(
            "SELECT stacktrace LIKE '%IllegalStateException: parse%' FROM dead_letters WHERE message_id = 'in.jsonl:5'"),
        contains("true"));
  }
}
