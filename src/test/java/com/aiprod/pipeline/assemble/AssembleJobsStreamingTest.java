package com.aiprod.pipeline.assemble;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;

import com.aiprod.pipeline.kernel.Coders;
import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.media.PreviewCard;
import com.aiprod.pipeline.media.PreviewEncoder;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobCoder;
import com.aiprod.pipeline.model.JobState;
import com.aiprod.pipeline.model.ShotResult;
import com.aiprod.pipeline.model.ShotSpec;
import com.aiprod.pipeline.testing.StageFixtures;
import java.nio.file.Path;
import java.util.List;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.options.StreamingOptions;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
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
    Path shot = out.resolve(jobId + "-shot-000.mp4");
    PreviewEncoder.encode(shot, PreviewCard.of("A harbour at dawn.", 0, 2, jobId, 5));
    long now = System.currentTimeMillis();
    return ShotResult.builder()
        .setTenant("acme")
        .setJobId(jobId)
        .setShotIndex(0)
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
                com.aiprod.pipeline.catalog.PricingTable.builtIn()));
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
}
