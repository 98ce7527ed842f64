package com.aiprod.pipeline.assemble;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;

import com.aiprod.pipeline.kernel.Coders;
import com.aiprod.pipeline.kernel.OutcomePart;
import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.media.PreviewCard;
import com.aiprod.pipeline.media.PreviewEncoder;
import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobCoder;
import com.aiprod.pipeline.model.JobState;
import com.aiprod.pipeline.model.ShotResult;
import com.aiprod.pipeline.model.ShotSpec;
import com.aiprod.pipeline.testing.StageFixtures;
import java.nio.file.Path;
import java.util.List;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.options.StreamingOptions;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.joda.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The streaming form of AssembleJobs: the preset deadline timer, and cancels. */
class AssembleJobsStreamingTest {
  private static final TupleTag<Job> JOBS = new TupleTag<Job>() {};
  private static final TupleTag<ShotResult> RESULTS = new TupleTag<ShotResult>() {};
  private static final TupleTag<Job> CANCELS = new TupleTag<Job>() {};
  private static final String PREVIEW =
      "{\"content\": \"A harbour at dawn. A ship leaves.\", \"mode\": \"preview\", \"duration_sec\": 10}";

  @TempDir Path out;

  private static TestPipeline streamingPipeline() {
    StreamingOptions o = PipelineOptionsFactory.create().as(StreamingOptions.class);
    o.setStreaming(true);
    return TestPipeline.fromOptions(o).enableAbandonedNodeEnforcement(false);
  }

  /** A two-shot preview job received now, rendering. */
  private static Job rendering(String jobId) {
    return StageFixtures.received("m-" + jobId, "acme", jobId, 1, PREVIEW).toBuilder()
        .setInputPayload(null)
        .setReceivedAtMillis(System.currentTimeMillis())
        .setBackend("preview")
        .setShots(
            List.of(
                ShotSpec.create(0, 5, "A harbour at dawn.", 1),
                ShotSpec.create(1, 5, "A ship leaves.", 2)))
        .setState(JobState.RENDERING.name())
        .build();
  }

  private ShotResult renderedShot0(String jobId) throws Exception {
    return renderedShot(jobId, 0);
  }

  private ShotResult renderedShot(String jobId, int index) throws Exception {
    Path shot = out.resolve(jobId + "-shot-00" + index + ".mp4");
    PreviewEncoder.encode(shot, PreviewCard.of("A harbour at dawn.", index, 2, jobId, 5));
    long now = System.currentTimeMillis();
    return ShotResult.builder()
        .setTenant("acme")
        .setJobId(jobId)
        .setShotIndex(index)
        .setAttempt(1)
        .setBackend("preview")
        .setStatus("succeeded")
        .setError(null)
        .setCostUsd(0)
        .setLatencyMs(1)
        .setStartedAtMillis(now)
        .setFinishedAtMillis(now)
        .setUri(shot.toString())
        .build();
  }

  private PCollectionTuple assemble(
      TestPipeline p, TestStream<Job> jobs, List<ShotResult> shots, List<Job> cancels) {
    PCollection<ShotResult> results =
        shots.isEmpty()
            ? p.apply("NoShots", Create.empty(TypeDescriptor.of(ShotResult.class)))
            : p.apply("Shots", Create.of(shots).withCoder(Coders.schema(ShotResult.class)));
    PCollection<Job> cancel =
        cancels.isEmpty()
            ? p.apply("NoCancels", Create.empty(TypeDescriptor.of(Job.class)))
            : p.apply("Cancels", Create.of(cancels).withCoder(JobCoder.of()));
    return PCollectionTuple.of(JOBS, p.apply("Jobs", jobs))
        .and(RESULTS, results)
        .and(CANCELS, cancel)
        .apply(
            AssembleJobs.forStreaming(
                JOBS,
                RESULTS,
                CANCELS,
                out.toString(),
                com.aiprod.pipeline.catalog.PricingTable.builtIn(),
                StageFixtures.AUDIT));
  }

  @Test
  void aJobWhoseShotsMissThePresetDeadlineFailsWithWhatWasRendered() throws Exception {
    TestPipeline p = streamingPipeline();
    Job job = rendering("job-deadline-1");
    TestStream<Job> jobs =
        TestStream.create(JobCoder.of())
            .addElements(job)
            // quick_social's deadline is 300 s after the job was received
            .advanceProcessingTime(Duration.standardSeconds(301))
            .advanceWatermarkToInfinity();
    PCollectionTuple r = assemble(p, jobs, List.of(renderedShot0("job-deadline-1")), List.of());
    PAssert.that(r.get(StageTags.JOBS)).empty();
    PAssert.that(r.get(StageTags.FINISHED))
        .satisfies(
            finished -> {
              List<Job> all = StageFixtures.list(finished);
              assertThat(all, hasSize(1));
              Job j = all.get(0);
              assertThat(j.getState(), equalTo("FAILED"));
              assertThat(j.getReasonCode(), equalTo("DEADLINE"));
              assertThat(j.getShotsDone(), equalTo(1));
              assertThat(j.getReason(), containsString("1 of 2 shots"));
              assertThat(j.getVideoUri(), containsString("final.mp4"));
              return null;
            });
    p.run().waitUntilFinish();
  }

  @Test
  void aCancelEndsTheJobCancelled() {
    TestPipeline p = streamingPipeline();
    Job job = rendering("job-cancel-01");
    Job cancel =
        StageFixtures.received("m-cancel", "acme", "job-cancel-01", 2, PREVIEW).toBuilder()
            .setAction("cancel")
            .setRequest(null)
            .setInputPayload(null)
            .build();
    TestStream<Job> jobs =
        TestStream.create(JobCoder.of()).addElements(job).advanceWatermarkToInfinity();
    PCollectionTuple r = assemble(p, jobs, List.of(), List.of(cancel));
    PAssert.that(r.get(StageTags.FINISHED))
        .satisfies(
            finished -> {
              List<Job> all = StageFixtures.list(finished);
              assertThat(all, hasSize(1));
              assertThat(all.get(0).getState(), equalTo("CANCELLED"));
              assertThat(all.get(0).getReason(), containsString("cancelled by"));
              // The CANCELLED document names the cancel: its commit settles the cancel's message.
              assertThat(all.get(0).getCancelMessageId(), equalTo("m-cancel"));
              return null;
            });
    p.run().waitUntilFinish();
  }

  /** The owner's cancel of {@code jobId}, message {@code messageId}. */
  private static Job cancelOf(String jobId, String messageId) {
    return StageFixtures.received(messageId, "acme", jobId, 2, PREVIEW).toBuilder()
        .setAction("cancel")
        .setRequest(null)
        .setInputPayload(null)
        .build();
  }

  /** The assembly step itself, fed in exactly the order of {@code inputs}. */
  private PCollectionTuple assembleInOrder(
      TestPipeline p, TestStream<KV<String, AssemblyInput>> inputs) {
    return p.apply("Inputs", inputs)
        .apply(
            "CollectShotsPerJob",
            ParDo.of(
                    new AssembleJobs.AssembleFn(
                        out.toString(),
                        com.aiprod.pipeline.catalog.PricingTable.builtIn(),
                        true,
                        StageFixtures.AUDIT))
                .withOutputTags(
                    StageTags.JOBS,
                    TupleTagList.of(StageTags.FINISHED)
                        .and(StageTags.OUTCOMES)
                        .and(StageTags.AUDIT)));
  }

  private static TestStream.Builder<KV<String, AssemblyInput>> inputs() {
    return TestStream.create(KvCoder.of(StringUtf8Coder.of(), Coders.schema(AssemblyInput.class)));
  }

  private static KV<String, AssemblyInput> in(Job about, AssemblyInput input) {
    return KV.of(Job.keyOf(about.getTenant(), about.getJobId()), input);
  }

  /** The one ADMIN_ACTION cancel_job event, as "status:message id". */
  private static String cancelDecision(Iterable<AuditEvent> events) {
    List<AuditEvent> all = StageFixtures.list(events);
    assertThat(all.toString(), all, hasSize(1));
    AuditEvent e = all.get(0);
    assertThat(e.getEventType(), equalTo("ADMIN_ACTION"));
    assertThat(e.getAction(), equalTo("cancel_job"));
    return e.getStatus() + ":" + e.getMessageId();
  }

  /**
   * The fresh-clone CI failure of issue 12: a cancel that AuthorizeCancels passed on (the job's
   * document still said RENDERING) reaches the job's key after every shot settled and the job went
   * on to QA. The job is not cancelled, so the cancel's audit event says failure — decided here,
   * where the job's state is, not success in AuthorizeCancels.
   */
  @Test
  void aCancelThatReachesTheJobAfterItsShotsSettledChangesNothingAndSaysSo() throws Exception {
    TestPipeline p = streamingPipeline();
    Job job = rendering("job-late-cancel");
    Job cancel = cancelOf("job-late-cancel", "m-late-cancel");
    TestStream<KV<String, AssemblyInput>> inputs =
        inputs()
            .addElements(in(job, AssemblyInput.ofJob(job)))
            .addElements(
                in(job, AssemblyInput.ofShot(renderedShot("job-late-cancel", 0))),
                in(job, AssemblyInput.ofShot(renderedShot("job-late-cancel", 1))))
            .advanceProcessingTime(Duration.standardSeconds(1))
            .addElements(in(job, AssemblyInput.ofCancel(cancel)))
            .advanceWatermarkToInfinity();
    PCollectionTuple r = assembleInOrder(p, inputs);
    PAssert.that(r.get(StageTags.FINISHED)).empty();
    PAssert.that(r.get(StageTags.JOBS))
        .satisfies(
            jobs -> {
              List<Job> all = StageFixtures.list(jobs);
              assertThat(all, hasSize(1));
              assertThat(all.get(0).getVideoUri(), containsString("final.mp4")); // on to QA
              assertThat(all.get(0).getCancelMessageId(), equalTo(null));
              return null;
            });
    PAssert.that(r.get(StageTags.AUDIT))
        .satisfies(
            events -> {
              assertThat(cancelDecision(events), equalTo("failure:m-late-cancel"));
              assertThat(
                  StageFixtures.list(events).get(0).getDetails(), containsString("went on to QA"));
              return null;
            });
    PAssert.that(r.get(StageTags.OUTCOMES)).containsInAnyOrder(OutcomePart.whole("m-late-cancel"));
    p.run().waitUntilFinish();
  }

  /**
   * A cancel that comes before its job waits for it, then ends it CANCELLED with its success event;
   * a second cancel of the same job changes nothing, and a redelivery of the first is the same
   * decision again (the same event id).
   */
  @Test
  void aCancelThatComesFirstEndsTheJobWhenItComesAndASecondCancelChangesNothing() {
    TestPipeline p = streamingPipeline();
    Job job = rendering("job-early-cancel");
    Job cancel = cancelOf("job-early-cancel", "m-early-cancel");
    Job second = cancelOf("job-early-cancel", "m-second-cancel");
    TestStream<KV<String, AssemblyInput>> inputs =
        inputs()
            .addElements(in(job, AssemblyInput.ofCancel(cancel)))
            .advanceProcessingTime(Duration.standardSeconds(5))
            .addElements(in(job, AssemblyInput.ofJob(job)))
            .advanceProcessingTime(Duration.standardSeconds(1))
            .addElements(
                in(job, AssemblyInput.ofCancel(second)), in(job, AssemblyInput.ofCancel(cancel)))
            .advanceWatermarkToInfinity();
    PCollectionTuple r = assembleInOrder(p, inputs);
    PAssert.that(r.get(StageTags.FINISHED))
        .satisfies(
            finished -> {
              List<Job> all = StageFixtures.list(finished);
              assertThat(all, hasSize(1));
              assertThat(all.get(0).getState(), equalTo("CANCELLED"));
              assertThat(all.get(0).getCancelMessageId(), equalTo("m-early-cancel"));
              return null;
            });
    PAssert.that(r.get(StageTags.AUDIT))
        .satisfies(
            events -> {
              List<String> got = new java.util.ArrayList<>();
              java.util.Set<String> ids = new java.util.HashSet<>();
              for (AuditEvent e : events) {
                got.add(e.getStatus() + ":" + e.getMessageId());
                ids.add(e.getEventId());
              }
              assertThat(
                  got,
                  org.hamcrest.Matchers.containsInAnyOrder(
                      "success:m-early-cancel",
                      "success:m-early-cancel",
                      "failure:m-second-cancel"));
              assertThat(ids, hasSize(2)); // the redelivery's event is the same row
              return null;
            });
    PAssert.that(r.get(StageTags.OUTCOMES))
        .containsInAnyOrder(OutcomePart.whole("m-second-cancel"));
    p.run().waitUntilFinish();
  }

  /** A cancel whose job never reaches its assembly ends with a failure event after the wait. */
  @Test
  void aCancelWhoseJobNeverComesEndsWithAFailureAfterTheWait() {
    TestPipeline p = streamingPipeline();
    Job cancel = cancelOf("job-never-comes", "m-lonely-cancel");
    TestStream<KV<String, AssemblyInput>> inputs =
        inputs()
            .addElements(in(cancel, AssemblyInput.ofCancel(cancel)))
            .advanceProcessingTime(
                AssembleJobs.AssembleFn.CANCEL_WAIT.plus(Duration.standardSeconds(1)))
            .advanceWatermarkToInfinity();
    PCollectionTuple r = assembleInOrder(p, inputs);
    PAssert.that(r.get(StageTags.FINISHED)).empty();
    PAssert.that(r.get(StageTags.AUDIT))
        .satisfies(
            events -> {
              assertThat(cancelDecision(events), equalTo("failure:m-lonely-cancel"));
              return null;
            });
    PAssert.that(r.get(StageTags.OUTCOMES))
        .containsInAnyOrder(OutcomePart.whole("m-lonely-cancel"));
    p.run().waitUntilFinish();
  }
}
