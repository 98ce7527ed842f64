package com.aiprod.pipeline.render;

import static com.aiprod.pipeline.testing.StageFixtures.AUDIT;
import static com.aiprod.pipeline.testing.StageFixtures.list;
import static com.aiprod.pipeline.testing.StageFixtures.received;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;

import com.aiprod.pipeline.assemble.AssembleJobs;
import com.aiprod.pipeline.catalog.PricingTable;
import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.ShotResult;
import com.aiprod.pipeline.plan.Plan;
import com.aiprod.pipeline.testing.FakeProviders;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The preset deadline in batch (DESIGN §4, §6), where no timer fires: Plan → RenderShots →
 * AssembleJobs on the batch path against the loopback Runway API. Presets have fixed deadlines (300
 * s for quick_social), so the jobs are "received" long enough ago that theirs falls a few seconds
 * into the test, as streaming tests advance processing time past it instead.
 */
class BatchDeadlineTest {
  private static final TupleTag<Job> CANCELS = new TupleTag<Job>() {};
  private static final PricingTable PRICING = PricingTable.builtIn();
  private static final String STORM =
      "{\"content\": \"A lighthouse keeper wakes at dawn. A storm rolls in over the sea. The light"
          + " holds through the night.\", \"mode\": \"final\", \"duration_sec\": 15,"
          + " \"preset\": \"quick_social\"}";
  private static final String CAT =
      "{\"content\": \"A cat sleeps on a warm windowsill. A dog barks in the street.\","
          + " \"mode\": \"final\", \"duration_sec\": 10, \"preset\": \"quick_social\"}";

  @RegisterExtension final TestPipelineExtension pipeline = TestPipelineExtension.create();

  @TempDir Path tmp;
  private FakeProviders providers;
  private final List<String> prompts = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws Exception {
    providers = new FakeProviders(tmp);
    providers.runway.pollsBeforeDone = 2;
    // The storm shot's task never finishes: only the deadline ends it.
    providers.runway.runsForever = body -> body.path("promptText").asText().contains("storm");
    providers.runway.onCreate =
        body -> {
          prompts.add(body.path("promptText").asText());
          return null;
        };
  }

  @AfterEach
  void stop() {
    providers.close();
  }

  /** A routed quick_social final (deadline 300 s) received so that it is due in {@code dueIn}. */
  private static Job job(String jobId, String body, long dueInMillis) {
    return received("m-" + jobId, "acme", jobId, 1, body).toBuilder()
        .setInputPayload(null)
        .setReceivedAtMillis(System.currentTimeMillis() - 300_000 + dueInMillis)
        .setBackend("runway_gen4_turbo")
        .setClipSeconds(5)
        .build();
  }

  @Test
  @Timeout(180) // "nothing waits forever": without the deadline the storm shot would never end
  void aTaskThatNeverFinishesEndsItsJobFailedDeadlineWithWhatWasRendered(TestPipeline p)
      throws Exception {
    String out = Files.createDirectories(tmp.resolve("out")).toString();
    Job storm = job("job-storm-001", STORM, 8_000);
    Job late = job("job-late-0001", CAT, -1_000); // already past its deadline when it renders

    PCollection<Job> rendering =
        p.apply(Create.of(storm, late)).apply(new Plan()).get(StageTags.JOBS);
    PCollectionTuple rendered =
        rendering.apply(
            RenderShots.forBatch(
                AUDIT,
                out,
                null,
                providers.config(out),
                PRICING,
                RenderPolicy.fast(),
                CircuitBreakers.perWorker("batch-deadline-" + java.util.UUID.randomUUID())));
    PCollectionTuple assembled =
        PCollectionTuple.of(StageTags.JOBS, rendering)
            .and(RenderShots.RESULTS, rendered.get(RenderShots.RESULTS))
            .and(CANCELS, p.apply("NoCancels", Create.empty(TypeDescriptor.of(Job.class))))
            .apply(
                AssembleJobs.forBatch(StageTags.JOBS, RenderShots.RESULTS, CANCELS, out, PRICING));

    PAssert.that(rendered.get(RenderShots.RESULTS))
        .satisfies(
            results -> {
              Map<String, List<String>> byJob =
                  list(results).stream()
                      .collect(
                          Collectors.groupingBy(
                              ShotResult::getJobId,
                              Collectors.mapping(
                                  r -> r.getShotIndex() + ":" + r.getStatus(),
                                  Collectors.toList())));
              assertThat(
                  byJob.get("job-storm-001"),
                  containsInAnyOrder("0:succeeded", "1:deadline", "2:succeeded"));
              assertThat(
                  byJob.get("job-late-0001"), containsInAnyOrder("0:deadline", "1:deadline"));
              for (ShotResult r : list(results)) {
                if (r.missedDeadline()) {
                  assertThat(r.getError(), containsString("deadline passed"));
                  assertThat(r.getCostUsd(), equalTo(0.0));
                  assertThat(r.getUri(), nullValue());
                }
              }
              return null;
            });
    PAssert.that(assembled.get(StageTags.JOBS)).empty();
    PAssert.that(assembled.get(StageTags.FINISHED))
        .satisfies(
            finished -> {
              Map<String, Job> jobs =
                  list(finished).stream().collect(Collectors.toMap(Job::getJobId, j -> j));
              assertThat(jobs.keySet(), containsInAnyOrder("job-storm-001", "job-late-0001"));
              for (Job j : jobs.values()) {
                assertThat(j.getState(), equalTo("FAILED"));
                assertThat(j.getReasonCode(), equalTo("DEADLINE"));
                assertThat(j.getReason(), containsString("quick_social deadline of 300 s"));
              }
              Job s = jobs.get("job-storm-001");
              assertThat(s.getShotsDone(), equalTo(2));
              assertThat(s.getReason(), containsString("2 of 3 shots were rendered"));
              assertThat(s.getReason(), containsString("final.mp4 holds the rendered shots"));
              assertThat(Files.exists(Path.of(s.getVideoUri())), is(true));
              Job l = jobs.get("job-late-0001");
              assertThat(l.getShotsDone(), equalTo(0));
              assertThat(l.getVideoUri(), nullValue());
              return null;
            });
    p.run().waitUntilFinish();

    // The storm task was cancelled at the provider, not left running; the late job made none.
    assertThat(providers.runway.orphans(), empty());
    assertThat(providers.runway.cancels.get(), equalTo(1));
    assertThat(prompts, hasSize(3));
    assertThat(prompts, everyItem(not(containsString("windowsill"))));
  }

  /**
   * The Flink batch path (RenderShots picks it by runner): one call renders every shot, all of them
   * in flight at once, and still gives up at the deadline. Run here on the DirectRunner, the DoFn
   * applied as RenderShots applies it on Flink.
   */
  @Test
  @Timeout(180)
  void renderedTogetherAllShotsAreInFlightAtOnceAndStillStopAtTheDeadline(TestPipeline p)
      throws Exception {
    String out = Files.createDirectories(tmp.resolve("out-together")).toString();
    Job storm = job("job-storm-002", STORM, 8_000);
    Job planned =
        storm.toBuilder()
            .setShots(
                com.aiprod.pipeline.plan.LocalPlanner.plan(storm.getJobId(), storm.getRequest(), 5))
            .build();
    List<ShotTask> tasks = planned.getShots().stream().map(s -> ShotTask.of(planned, s)).toList();
    RenderShots.Settings settings =
        new RenderShots.Settings(
            AUDIT,
            out,
            null,
            providers.config(out),
            PRICING,
            RenderPolicy.fast(),
            CircuitBreakers.perWorker("batch-together-" + java.util.UUID.randomUUID()),
            "test");
    PCollectionTuple rendered =
        p.apply(
                Create.of(org.apache.beam.sdk.values.KV.of(0, (Iterable<ShotTask>) tasks))
                    .withCoder(
                        org.apache.beam.sdk.coders.KvCoder.of(
                            org.apache.beam.sdk.coders.VarIntCoder.of(),
                            org.apache.beam.sdk.coders.IterableCoder.of(
                                com.aiprod.pipeline.kernel.Coders.schema(ShotTask.class)))))
            .apply(
                org.apache.beam.sdk.transforms.ParDo.of(new RenderShots.RenderTogetherFn(settings))
                    .withOutputTags(
                        RenderShots.RESULTS,
                        org.apache.beam.sdk.values.TupleTagList.of(StageTags.AUDIT)));
    PAssert.that(rendered.get(RenderShots.RESULTS))
        .satisfies(
            results -> {
              assertThat(
                  list(results).stream().map(r -> r.getShotIndex() + ":" + r.getStatus()).toList(),
                  containsInAnyOrder("0:succeeded", "1:deadline", "2:succeeded"));
              return null;
            });
    p.run().waitUntilFinish();

    // Rendered one after another, a shot's output would be fetched before the next create.
    List<String> order =
        providers.runway.server.requests.stream()
            .map(r -> r.method() + " " + r.path().replaceAll("/[A-Za-z0-9]+(\\.mp4)?$", "/ID$1"))
            .filter(x -> x.startsWith("POST") || x.startsWith("GET /files"))
            .toList();
    assertThat(order.subList(0, 3), everyItem(equalTo("POST /v1/image_to_video")));
    assertThat(providers.runway.orphans(), empty());
  }
}
