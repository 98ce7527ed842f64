package com.aiprod.pipeline.admit;

import static com.aiprod.pipeline.testing.StageFixtures.AUDIT;
import static com.aiprod.pipeline.testing.StageFixtures.T0;
import static com.aiprod.pipeline.testing.StageFixtures.eventTypes;
import static com.aiprod.pipeline.testing.StageFixtures.history;
import static com.aiprod.pipeline.testing.StageFixtures.list;
import static com.aiprod.pipeline.testing.StageFixtures.reasonCodes;
import static com.aiprod.pipeline.testing.StageFixtures.received;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasEntry;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.nullValue;

import com.aiprod.pipeline.jobstore.BundleJobLookup;
import com.aiprod.pipeline.jobstore.FirestoreClients;
import com.aiprod.pipeline.jobstore.JobStore;
import com.aiprod.pipeline.jobstore.WriteJobDocuments;
import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.model.DeadLetter;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobState;
import com.aiprod.pipeline.model.ReasonCode;
import com.aiprod.pipeline.persist.Deliver;
import com.aiprod.pipeline.persist.Warehouse;
import com.aiprod.pipeline.testing.FirestoreEmulator;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.List;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class AdmitTest {
  private static final String PROJECT = "demo-aiprod";
  private static final String PREVIEW =
      "{\"content\": \"A lighthouse at dawn. Waves crash on the rocks.\", \"mode\": \"preview\","
          + " \"duration_sec\": 10}";

  @RegisterExtension static final FirestoreEmulator EMULATOR = new FirestoreEmulator();

  @BeforeEach
  void clear() throws Exception {
    EMULATOR.clear(PROJECT);
  }

  private static PipelineOptions options() {
    return PipelineOptionsFactory.fromArgs(
            "--runner=DirectRunner",
            "--targetParallelism=2",
            "--project=" + PROJECT,
            "--emulatorHost=" + EMULATOR.hostPort(),
            "--credentialFactoryClass=org.apache.beam.sdk.extensions.gcp.auth.NoopCredentialFactory")
        .create();
  }

  private static Pipeline pipeline() {
    return Pipeline.create(options());
  }

  private static PCollectionTuple admit(Pipeline p, Job... jobs) {
    JobStore store = JobStore.fromOptions(p.getOptions());
    return p.apply(Create.of(List.of(jobs)))
        .apply(
            Admit.forBatch(
                AUDIT, BundleJobLookup.in(store, FirestoreClients.fromOptions(p.getOptions()))));
  }

  /** Writes the job documents in a pipeline of their own, as an earlier run would have. */
  private static void writeDocuments(Job... jobs) {
    Pipeline p = pipeline();
    PAssert.that(
            p.apply(Create.of(List.of(jobs)))
                .apply(WriteJobDocuments.to(JobStore.fromOptions(p.getOptions()))))
        .empty();
    p.run().waitUntilFinish();
  }

  private static void assertDuplicate(DeadLetter d, String messageId, String jobId) {
    assertThat(d.getReasonCode(), equalTo("DUPLICATE_JOB"));
    assertThat(d.getStage(), equalTo("Admit"));
    assertThat(d.getMessageId(), equalTo(messageId));
    assertThat(d.getAttributes(), hasEntry("job_id", jobId));
    assertThat(d.getAttributes(), hasEntry("authorization", "[REDACTED]"));
    assertThat(d.getPayloadString(), equalTo(PREVIEW));
  }

  private static void assertDuplicateEvent(AuditEvent e, String messageId, String jobId) {
    assertThat(e.getEventType(), equalTo("DATA_ACCESS"));
    assertThat(e.getStatus(), equalTo("duplicate"));
    assertThat(e.getMessageId(), equalTo(messageId));
    assertThat(e.getJobId(), equalTo(jobId));
    assertThat(e.getResource(), equalTo("tenants/acme/jobs/" + jobId));
  }

  @Test
  void inOneRunTheEarliestMessageOfAJobIdWins() {
    Pipeline p = pipeline();
    PCollectionTuple out =
        admit(
            p,
            received("m-5", "acme", "job-0000001", 5, PREVIEW),
            received("m-2", "acme", "job-0000001", 2, PREVIEW));

    PAssert.that(out.get(StageTags.JOBS))
        .satisfies(
            jobs -> {
              List<Job> all = list(jobs);
              assertThat(all, hasSize(1));
              assertThat(all.get(0).getMessageId(), equalTo("m-2"));
              assertThat(all.get(0).getState(), equalTo("RECEIVED"));
              assertThat(all.get(0).getInputPayload(), nullValue());
              return null;
            });
    PAssert.that(out.get(StageTags.FINISHED)).empty();
    PAssert.that(out.get(StageTags.DEAD_LETTERS))
        .satisfies(
            dead -> {
              assertThat(reasonCodes(dead), contains("DUPLICATE_JOB"));
              DeadLetter d = list(dead).get(0);
              assertDuplicate(d, "m-5", "job-0000001");
              assertThat(d.getErrorMessage(), containsString("m-2"));
              return null;
            });
    PAssert.that(out.get(StageTags.AUDIT))
        .satisfies(
            events -> {
              assertThat(eventTypes(events), contains("DATA_ACCESS"));
              assertDuplicateEvent(list(events).get(0), "m-5", "job-0000001");
              return null;
            });
    p.run().waitUntilFinish();
  }

  @Test
  void aRedeliveredMessageOfAnEndedJobIsSetAsideAndItsRowsAreWrittenAgain(@TempDir Path dir)
      throws Exception {
    // Run 1 wrote the terminal document, then stopped before the job_results row.
    Job ended =
        received("m-ended", "acme", "job-0000009", 9, PREVIEW)
            .transition(JobState.PLANNED, T0 + 100, "planned")
            .toBuilder()
            .setEstimateUsd(0.0)
            .build()
            .finish(JobState.REJECTED, ReasonCode.BUDGET_EXCEEDED, "over the cap", T0 + 200);
    writeDocuments(ended);
    Warehouse warehouse = Warehouse.fromSpec("duckdb:" + dir.resolve("w.duckdb"));

    Pipeline p = pipeline();
    PCollectionTuple out = admit(p, received("m-ended", "acme", "job-0000009", 9, PREVIEW));
    PAssert.that(out.get(StageTags.JOBS)).empty();
    PAssert.that(out.get(StageTags.FINISHED)).empty();
    PAssert.that(out.get(StageTags.DEAD_LETTERS)).empty();
    PAssert.that(out.get(StageTags.AUDIT))
        .satisfies(
            events -> {
              AuditEvent e = list(events).get(0);
              assertThat(e.getStatus() + " " + e.getMessageId(), equalTo("redelivered m-ended"));
              return null;
            });
    PCollectionTuple rows =
        out.get(Admit.REDELIVERED)
            .apply(
                new Deliver.EndedJobRows(
                    AUDIT,
                    warehouse,
                    JobStore.fromOptions(p.getOptions()),
                    FirestoreClients.fromOptions(p.getOptions())));
    PAssert.that(rows.get(StageTags.AUDIT))
        .satisfies(
            events -> {
              AuditEvent e = list(events).get(0);
              assertThat(
                  e.getAction() + " " + e.getMessageId(), equalTo("write_job_document m-ended"));
              assertThat(e.getDetails(), containsString("REJECTED"));
              return null;
            });
    p.run().waitUntilFinish();

    try (Connection c = DriverManager.getConnection("jdbc:duckdb:" + dir.resolve("w.duckdb"));
        ResultSet r =
            c.createStatement()
                .executeQuery(
                    "SELECT message_id, state, reason_code, finished_at FROM job_results")) {
      assertThat(r.next(), equalTo(true));
      assertThat(
          r.getString(1) + " " + r.getString(2) + " " + r.getString(3),
          equalTo("m-ended REJECTED BUDGET_EXCEEDED"));
      assertThat(r.getTimestamp(4).toInstant().toEpochMilli(), equalTo(T0 + 200));
      assertThat(r.next(), equalTo(false));
    }
  }

  @Test
  void aJobIdWhoseDocumentAnotherMessageWroteIsADuplicate() {
    writeDocuments(
        received("m-old", "acme", "job-0000001", 1, PREVIEW),
        received("m-same", "acme", "job-0000002", 2, PREVIEW));

    Pipeline p = pipeline();
    PCollectionTuple out =
        admit(
            p,
            received("m-new", "acme", "job-0000001", 10, PREVIEW),
            // The message that wrote the document, read again: not a duplicate of itself.
            received("m-same", "acme", "job-0000002", 2, PREVIEW),
            received("m-other", "acme", "job-0000003", 11, PREVIEW));

    PAssert.that(out.get(StageTags.JOBS))
        .satisfies(
            jobs -> {
              assertThat(
                  list(jobs).stream().map(Job::getMessageId).toList(),
                  containsInAnyOrder("m-same", "m-other"));
              return null;
            });
    PAssert.that(out.get(StageTags.FINISHED)).empty();
    PAssert.that(out.get(StageTags.DEAD_LETTERS))
        .satisfies(
            dead -> {
              assertThat(reasonCodes(dead), contains("DUPLICATE_JOB"));
              DeadLetter d = list(dead).get(0);
              assertDuplicate(d, "m-new", "job-0000001");
              assertThat(d.getErrorMessage(), containsString("already known"));
              return null;
            });
    PAssert.that(out.get(StageTags.AUDIT))
        .satisfies(
            events -> {
              assertThat(eventTypes(events), contains("DATA_ACCESS"));
              assertDuplicateEvent(list(events).get(0), "m-new", "job-0000001");
              return null;
            });
    p.run().waitUntilFinish();
  }

  @Test
  void theSameJobIdInTwoTenantsIsAdmittedTwice() {
    Pipeline p = pipeline();
    PCollectionTuple out =
        admit(
            p,
            received("m-1", "acme", "job-0000001", 1, PREVIEW),
            received("m-2", "globex", "job-0000001", 2, PREVIEW));

    PAssert.that(out.get(StageTags.JOBS))
        .satisfies(
            jobs -> {
              assertThat(
                  list(jobs).stream().map(Job::key).toList(),
                  containsInAnyOrder("acme/job-0000001", "globex/job-0000001"));
              return null;
            });
    PAssert.that(out.get(StageTags.DEAD_LETTERS)).empty();
    PAssert.that(out.get(StageTags.AUDIT)).empty();
    PAssert.that(out.get(StageTags.FINISHED)).empty();
    p.run().waitUntilFinish();
  }

  @Test
  void refusalsGoToFinishedWithAPermissionDeniedEvent() {
    String broken = "{\"content\": \"\"}";
    Job schemaRejected =
        received("m-1", "acme", "job-0000001", 1, PREVIEW).toBuilder()
            .setRequest(null)
            .setInputPayload(broken)
            .build()
            .finish(JobState.REJECTED, ReasonCode.SCHEMA_VIOLATION, "content: is required", T0 + 1);
    Job viewer = received("m-2", "acme", "job-0000002", 2, "viewer", "pro", PREVIEW);

    Pipeline p = pipeline();
    PCollectionTuple out = admit(p, schemaRejected, viewer);

    PAssert.that(out.get(StageTags.JOBS)).empty();
    PAssert.that(out.get(StageTags.DEAD_LETTERS)).empty();
    PAssert.that(out.get(StageTags.FINISHED))
        .satisfies(
            jobs -> {
              List<Job> all = list(jobs);
              all.sort((a, b) -> a.getMessageId().compareTo(b.getMessageId()));
              assertThat(all, hasSize(2));
              Job schema = all.get(0);
              assertThat(schema.getState(), equalTo("REJECTED"));
              assertThat(schema.getReasonCode(), equalTo("SCHEMA_VIOLATION"));
              assertThat(schema.getInputPayload(), nullValue());
              assertThat(history(schema), contains("RECEIVED", "REJECTED"));
              Job denied = all.get(1);
              assertThat(denied.getState(), equalTo("REJECTED"));
              assertThat(denied.getReasonCode(), equalTo("PERMISSION_DENIED"));
              assertThat(denied.getReason(), containsString("viewer"));
              assertThat(denied.getInputPayload(), nullValue());
              assertThat(history(denied), contains("RECEIVED", "REJECTED"));
              return null;
            });
    PAssert.that(out.get(StageTags.AUDIT))
        .satisfies(
            events -> {
              List<AuditEvent> all = list(events);
              all.sort((a, b) -> a.getMessageId().compareTo(b.getMessageId()));
              assertThat(eventTypes(all), contains("PERMISSION_DENIED", "PERMISSION_DENIED"));
              assertThat(all.get(0).getJobId(), equalTo("job-0000001"));
              assertThat(all.get(0).getStatus(), equalTo("denied"));
              assertThat(
                  all.get(0).getDetails(), containsString("\"reason_code\":\"SCHEMA_VIOLATION\""));
              assertThat(all.get(1).getJobId(), equalTo("job-0000002"));
              assertThat(
                  all.get(1).getDetails(), containsString("\"reason_code\":\"PERMISSION_DENIED\""));
              assertThat(all.get(1).getDetails(), containsString("\"role\":\"viewer\""));
              return null;
            });
    p.run().waitUntilFinish();
  }
}
