package com.aiprod.pipeline.admit;

import static com.aiprod.pipeline.testing.StageFixtures.AUDIT;
import static com.aiprod.pipeline.testing.StageFixtures.T0;
import static com.aiprod.pipeline.testing.StageFixtures.list;
import static com.aiprod.pipeline.testing.StageFixtures.received;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import com.aiprod.pipeline.jobstore.ExistingJobLookup;
import com.aiprod.pipeline.jobstore.FirestoreClients;
import com.aiprod.pipeline.jobstore.JobStore;
import com.aiprod.pipeline.jobstore.WriteJobDocuments;
import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.model.DeadLetter;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobCoder;
import com.aiprod.pipeline.model.JobState;
import com.aiprod.pipeline.testing.FirestoreEmulator;
import com.aiprod.pipeline.testing.StageFixtures;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.options.StreamingOptions;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTagList;
import org.joda.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * AuthorizeCancels against the Firestore emulator: who may cancel what, and (streaming) a cancel
 * that arrives before its job's document waits for it instead of being refused at once.
 */
class AuthorizeCancelsTest {
  private static final String PROJECT = "demo-aiprod";
  private static final String PREVIEW =
      "{\"content\": \"A lighthouse at dawn. Waves crash on the rocks.\", \"mode\": \"preview\","
          + " \"duration_sec\": 10}";

  @RegisterExtension static final FirestoreEmulator EMULATOR = new FirestoreEmulator();

  @BeforeEach
  void documents() throws Exception {
    EMULATOR.clear(PROJECT);
    // A running job and an ended one of tenant acme, both owned by uid-acme.
    Job running = received("m-run", "acme", "job-running-01", 1, PREVIEW);
    Job ended =
        received("m-end", "acme", "job-ended-0001", 2, PREVIEW)
            .transition(JobState.PLANNED, T0 + 10, "planned")
            .transition(JobState.RENDERING, T0 + 20, "rendering")
            .transition(JobState.DELIVERED, T0 + 30, "delivered");
    Pipeline p = Pipeline.create(options(false));
    PAssert.that(
            p.apply(Create.of(List.of(running, ended)))
                .apply(WriteJobDocuments.to(JobStore.fromOptions(p.getOptions()))))
        .empty();
    p.run().waitUntilFinish();
  }

  private static PipelineOptions options(boolean streaming) {
    PipelineOptions o =
        PipelineOptionsFactory.fromArgs(
                "--runner=DirectRunner",
                "--targetParallelism=2",
                "--project=" + PROJECT,
                "--emulatorHost=" + EMULATOR.hostPort(),
                "--credentialFactoryClass=org.apache.beam.sdk.extensions.gcp.auth.NoopCredentialFactory")
            .create();
    o.as(StreamingOptions.class).setStreaming(streaming);
    return o;
  }

  /** A cancel of tenant acme's {@code jobId} by {@code uid} with {@code role}. */
  private static Job cancel(String messageId, String jobId, String uid, String role) {
    return StageFixtures.cancel(messageId, "acme", jobId, uid, role);
  }

  private static List<String> messageIds(Iterable<Job> jobs) {
    List<String> ids = new ArrayList<>();
    jobs.forEach(j -> ids.add(j.getMessageId()));
    return ids;
  }

  @Test
  void onlyTheOwnerOrATenantAdminCancelsARunningJobAndAnEndedJobStaysAsItIs() {
    Pipeline p = Pipeline.create(options(false));
    JobStore store = JobStore.fromOptions(p.getOptions());
    PCollectionTuple r =
        p.apply(
                Create.of(
                        cancel("c-owner", "job-running-01", "uid-acme", "user"),
                        cancel("c-admin", "job-running-01", "someone-else", "admin"),
                        cancel("c-foreign", "job-running-01", "someone-else", "user"),
                        cancel("c-ended", "job-ended-0001", "uid-acme", "user"),
                        cancel("c-unknown", "job-unknown-01", "uid-acme", "user"))
                    .withCoder(JobCoder.of()))
            .apply(new AuthorizeCancels(AUDIT, ExistingJobLookup.in(store)));
    PAssert.that(r.get(StageTags.JOBS))
        .satisfies(
            jobs -> {
              assertThat(messageIds(jobs), containsInAnyOrder("c-owner", "c-admin"));
              return null;
            });
    PAssert.that(r.get(StageTags.DEAD_LETTERS))
        .satisfies(
            dls -> {
              List<String> got = new ArrayList<>();
              for (DeadLetter d : dls) {
                got.add(d.getMessageId() + " " + d.getReasonCode());
              }
              assertThat(
                  got,
                  containsInAnyOrder("c-foreign PERMISSION_DENIED", "c-unknown SCHEMA_VIOLATION"));
              return null;
            });
    PAssert.that(r.get(StageTags.AUDIT))
        .satisfies(
            events -> {
              List<String> got = new ArrayList<>();
              for (AuditEvent e : events) {
                got.add(e.getMessageId() + " " + e.getEventType() + " " + e.getStatus());
              }
              assertThat(
                  got,
                  containsInAnyOrder(
                      "c-owner ADMIN_ACTION success", "c-admin ADMIN_ACTION success",
                      "c-foreign PERMISSION_DENIED denied", "c-ended ADMIN_ACTION failure"));
              return null;
            });
    p.run().waitUntilFinish();
  }

  @Test
  void aCancelWaitsForItsJobsDocumentThenIsDecidedOrRefusedWhenNoneAppears() {
    Pipeline p = Pipeline.create(options(true));
    JobStore store = JobStore.fromOptions(p.getOptions());
    KvCoder<String, Job> coder = KvCoder.of(StringUtf8Coder.of(), JobCoder.of());
    // Both were parked: their documents did not exist when the cancels were first looked up.
    // job-running-01's exists (RECEIVED, so the cancel waits on for RENDERING or the end, then goes
    // on); job-late-00001's never appears.
    TestStream<KV<String, Job>> parked =
        TestStream.create(coder)
            .addElements(
                KV.of(
                    store.documentName("acme", "job-running-01"),
                    cancel("c-early", "job-running-01", "uid-acme", "user")),
                KV.of(
                    store.documentName("acme", "job-late-00001"),
                    cancel("c-never", "job-late-00001", "uid-acme", "user")))
            .advanceProcessingTime(AuthorizeCancels.RECHECK.plus(Duration.millis(1)))
            .advanceProcessingTime(AuthorizeCancels.WAIT)
            .advanceWatermarkToInfinity();
    PCollectionTuple r =
        p.apply(parked)
            .apply(
                ParDo.of(
                        new AuthorizeCancels.AwaitCancelledJobFn(
                            AUDIT, FirestoreClients.fromOptions(p.getOptions())))
                    .withOutputTags(
                        StageTags.JOBS,
                        TupleTagList.of(StageTags.DEAD_LETTERS).and(StageTags.AUDIT)));
    PAssert.that(r.get(StageTags.JOBS))
        .satisfies(
            jobs -> {
              assertThat(messageIds(jobs), contains("c-early"));
              return null;
            });
    // Streaming: the running job's assembly decides the cancel and records its event.
    PAssert.that(r.get(StageTags.AUDIT)).empty();
    PAssert.that(r.get(StageTags.DEAD_LETTERS))
        .satisfies(
            dls -> {
              List<DeadLetter> all = list(dls);
              assertThat(all.size(), equalTo(1));
              assertThat(all.get(0).getMessageId(), equalTo("c-never"));
              assertThat(all.get(0).getReasonCode(), equalTo("SCHEMA_VIOLATION"));
              assertThat(
                  all.get(0).getErrorMessage(), containsString("did not appear within 60 s"));
              return null;
            });
    p.run().waitUntilFinish();
  }
}
