package com.aiprod.pipeline.persist;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.nullValue;

import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobState;
import com.aiprod.pipeline.model.ReasonCode;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.values.Row;
import org.junit.jupiter.api.Test;

class WarehouseRowsTest {
  @Test
  void jobResultOfDeliveredJob() {
    Row r = WarehouseRows.jobResult(TestData.delivered("acme", "job-00000001"));
    assertThat(r.getSchema(), equalTo(WarehouseTable.JOB_RESULTS.beamSchema()));
    assertThat(r.getString("state"), equalTo("DELIVERED"));
    assertThat(r.getString("preset"), equalTo("quick_social"));
    assertThat(r.getString("mode"), equalTo("preview"));
    assertThat(r.getInt64("shots_total"), equalTo(2L));
    assertThat(r.getInt64("shots_done"), equalTo(2L));
    assertThat(r.getInt64("duration_sec"), equalTo(10L));
    assertThat(r.getDouble("budget_usd"), equalTo(0.5));
    assertThat(r.getDouble("semantic_score"), equalTo(0.85));
    assertThat(r.getString("semantic_scorer"), equalTo("local-coverage-heuristic"));
    assertThat(r.getString("output_uri"), equalTo("/tmp/out/acme/job-00000001/final.mp4"));
    assertThat(r.getDateTime("received_at").getMillis(), equalTo(TestData.T0));
    assertThat(r.getDateTime("finished_at").getMillis(), equalTo(TestData.T0 + 6_000));
    assertThat(r.getInt64("latency_ms"), equalTo(6_000L));
  }

  @Test
  void jobResultOfJobRefusedBeforeValidation() {
    Job refused =
        TestData.received("acme", "job-00000002").toBuilder()
            .setRequest(null)
            .build()
            .finish(
                JobState.REJECTED,
                ReasonCode.SCHEMA_VIOLATION,
                "unknown field x",
                TestData.T0 + 40);
    Row r = WarehouseRows.jobResult(refused);
    assertThat(r.getString("preset"), nullValue());
    assertThat(r.getInt64("duration_sec"), nullValue());
    assertThat(r.getString("reason_code"), equalTo("SCHEMA_VIOLATION"));
    assertThat(r.getString("reason"), equalTo("unknown field x"));
    assertThat(r.getInt64("latency_ms"), equalTo(40L));
    assertThat(r.getDouble("technical_score"), nullValue());
  }

  @Test
  void shotRender() {
    Row r = WarehouseRows.shotRender(TestData.shot("job-00000001", 1, 2));
    assertThat(r.getSchema(), equalTo(WarehouseTable.SHOT_RENDERS.beamSchema()));
    assertThat(r.getInt64("shot_index"), equalTo(1L));
    assertThat(r.getInt64("attempt"), equalTo(2L));
    assertThat(r.getInt64("latency_ms"), equalTo(120L));
    assertThat(r.getDateTime("finished_at").getMillis(), equalTo(TestData.T0 + 2_120));
    assertThat(r.getString("error"), nullValue());
  }

  @Test
  void auditEvent() {
    Row r = WarehouseRows.auditEvent(TestData.audit("evt-1"));
    assertThat(r.getSchema(), equalTo(WarehouseTable.AUDIT_EVENTS.beamSchema()));
    assertThat(r.getString("event_id"), equalTo("evt-1"));
    assertThat(r.getString("details"), equalTo("{\"state\":\"DELIVERED\",\"shots\":2}"));
    assertThat(r.getDateTime("event_time").getMillis(), equalTo(TestData.T0));
  }

  @Test
  void deadLetterRedactsAuthorizationAndSortsAttributes() {
    Row r = WarehouseRows.deadLetter(TestData.deadLetter("msg-9"));
    assertThat(r.getSchema(), equalTo(WarehouseTable.DEAD_LETTERS.beamSchema()));
    List<Row> attributes = new ArrayList<>(r.getArray("attributes"));
    assertThat(attributes, hasSize(2));
    assertThat(attributes.get(0).getString("key"), equalTo("authorization"));
    assertThat(attributes.get(0).getString("value"), equalTo(WarehouseRows.REDACTED));
    assertThat(attributes.get(1).getString("value"), equalTo("job-00000009"));
    assertThat(r.getBytes("payloadBytes"), equalTo(new byte[] {1, 2, 3}));
    assertThat(r.getString("reason_code"), equalTo("MALFORMED_JSON"));
  }
}
