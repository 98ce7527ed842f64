package com.aiprod.pipeline.render;

import static com.aiprod.pipeline.testing.StageFixtures.AUDIT;
import static com.aiprod.pipeline.testing.StageFixtures.list;
import static com.aiprod.pipeline.testing.StageFixtures.received;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;

import com.aiprod.pipeline.assemble.AssembleJobs;
import com.aiprod.pipeline.catalog.PricingTable;
import com.aiprod.pipeline.jobstore.JobDocuments;
import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobCoder;
import com.aiprod.pipeline.model.ShotResult;
import com.aiprod.pipeline.persist.WarehouseRows;
import com.aiprod.pipeline.plan.Plan;
import com.aiprod.pipeline.render.backends.Loopback.Resp;
import com.aiprod.pipeline.testing.FakeProviders;
import com.google.firestore.v1.Value;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A three-shot final rendered through two fake-API providers as the graph wires it (Plan →
 * RenderShots → AssembleJobs): Runway refuses the shot about the storm, Replicate takes it over.
 * Checks the assembled job and its document, the {@code shot_renders} rows, the costs and the audit
 * events.
 */
class RenderWithProvidersTest {
  private static final TupleTag<Job> CANCELS = new TupleTag<Job>() {};
  private static final PricingTable PRICING = PricingTable.builtIn();
  private static final String FINAL =
      "{\"content\": \"A lighthouse keeper wakes at dawn. A storm rolls in over the sea. The light"
          + " holds through the night.\", \"mode\": \"final\", \"duration_sec\": 15,"
          + " \"preset\": \"quick_social\"}";

  @RegisterExtension final TestPipelineExtension pipeline = TestPipelineExtension.create();

  @TempDir Path tmp;
  private FakeProviders providers;
  private CircuitBreakers breakers;

  @BeforeEach
  void start() throws Exception {
    breakers = CircuitBreakers.perWorker("render-with-providers-" + java.util.UUID.randomUUID());
    providers = new FakeProviders(tmp);
  }

  @AfterEach
  void stop() {
    providers.close();
  }

  @Test
  void aFailingProviderHandsItsShotToTheNext(TestPipeline p) throws Exception {
    String out = Files.createDirectories(tmp.resolve("out")).toString();
    providers.runway.pollsBeforeDone = 2;
    providers.replicate.pollsBeforeDone = 1;
    providers.runway.onCreate =
        body ->
            body.path("promptText").asText().contains("storm")
                ? Resp.json(400, "{\"error\":\"promptText was flagged by the content moderation\"}")
                : null;
    Job job =
        received("m-prov-1", "acme", "job-prov-0001", 1, FINAL).toBuilder()
            .setInputPayload(null)
            .setReceivedAtMillis(System.currentTimeMillis()) // its preset deadline is ahead
            .setBackend("runway_gen4_turbo")
            .setFallbackBackends(List.of("replicate_wan"))
            .setClipSeconds(5)
            .setEstimateUsd(0.75)
            .build();

    PCollection<Job> rendering = p.apply(Create.of(job)).apply(new Plan()).get(StageTags.JOBS);
    PCollectionTuple rendered =
        rendering.apply(
            RenderShots.forBatch(
                AUDIT, out, null, providers.config(out), PRICING, RenderPolicy.fast(), breakers));
    PCollectionTuple assembled =
        PCollectionTuple.of(StageTags.JOBS, rendering)
            .and(RenderShots.RESULTS, rendered.get(RenderShots.RESULTS))
            .and(CANCELS, p.apply("NoCancels", Create.empty(TypeDescriptor.of(Job.class))))
            .apply(
                AssembleJobs.forBatch(StageTags.JOBS, RenderShots.RESULTS, CANCELS, out, PRICING));

    PAssert.that(rendered.get(RenderShots.RESULTS))
        .satisfies(
            results -> {
              List<ShotResult> all = list(results);
              assertThat(
                  all.stream()
                      .map(
                          r ->
                              r.getShotIndex()
                                  + ":"
                                  + r.getAttempt()
                                  + ":"
                                  + r.getBackend()
                                  + ":"
                                  + r.getStatus())
                      .toList(),
                  containsInAnyOrder(
                      "0:1:runway_gen4_turbo:succeeded",
                      "1:1:runway_gen4_turbo:failed",
                      "1:2:replicate_wan:succeeded",
                      "2:1:runway_gen4_turbo:succeeded"));
              for (ShotResult r : all) {
                Row row = WarehouseRows.shotRender(r);
                assertThat(row.getString("job_id"), equalTo("job-prov-0001"));
                assertThat(row.getInt64("attempt"), equalTo((long) r.getAttempt()));
                if (r.getStatus().equals("failed")) {
                  assertThat(row.getString("error"), containsString("content moderation"));
                  assertThat(row.getDouble("cost_usd"), equalTo(0.0));
                } else {
                  // runway $0.05/s × 5 s, replicate $0.02/s × 5 s
                  assertThat(
                      row.getDouble("cost_usd"),
                      equalTo(r.getBackend().equals("runway_gen4_turbo") ? 0.25 : 0.1));
                }
              }
              return null;
            });
    PAssert.that(rendered.get(StageTags.AUDIT))
        .satisfies(
            events -> {
              List<AuditEvent> everything = list(events);
              // The API keys the clients resolved: one SECRET_ACCESS per secret version, no value.
              List<AuditEvent> secrets =
                  everything.stream()
                      .filter(e -> e.getEventType().equals("SECRET_ACCESS"))
                      .toList();
              // (each DoFn instance reports what it resolved; the event_id is the same for all of
              // them, so the warehouse keeps one row per secret version)
              assertThat(
                  secrets.stream()
                      .map(e -> e.getResource().replaceAll(".*/secrets/([^/]+)/versions/.*", "$1"))
                      .distinct()
                      .toList(),
                  containsInAnyOrder("runway-api-key", "replicate-api-token"));
              assertThat(
                  secrets.stream().map(AuditEvent::getEventId).distinct().count(), equalTo(2L));
              List<AuditEvent> all =
                  everything.stream()
                      .filter(e -> !e.getEventType().equals("SECRET_ACCESS"))
                      .toList();
              assertThat(
                  all.stream().map(AuditEvent::getEventType).toList(),
                  everyItem(equalTo("API_CALL")));
              Map<String, Long> byAction =
                  all.stream()
                      .collect(
                          Collectors.groupingBy(
                              e -> e.getAction() + ":" + e.getStatus(), Collectors.counting()));
              assertThat(
                  byAction,
                  equalTo(
                      Map.of(
                          "render_submit:success", 3L,
                          "render_submit:failure", 1L,
                          "render_poll:success", 3L,
                          "render_fetch:success", 3L,
                          "render_fallback:failure", 1L)));
              assertThat(
                  all.stream().map(AuditEvent::getEventId).distinct().count(),
                  equalTo((long) all.size()));
              for (AuditEvent e : everything) {
                assertThat(e.getDetails(), not(containsString("lighthouse")));
                assertThat(e.getDetails(), not(containsString(FakeProviders.RUNWAY_KEY)));
                assertThat(e.getDetails(), not(containsString(FakeProviders.REPLICATE_TOKEN)));
              }
              return null;
            });
    PAssert.that(assembled.get(StageTags.FINISHED)).empty();
    PAssert.that(assembled.get(StageTags.JOBS))
        .satisfies(
            jobs -> {
              assertThat(list(jobs), hasSize(1));
              Job j = list(jobs).get(0);
              assertThat(j.getState(), equalTo("RENDERING")); // QA comes next
              assertThat(j.getShotsDone(), equalTo(3));
              assertThat(j.getCostUsd(), closeTo(0.6, 1e-9));
              assertThat(Files.exists(Path.of(j.getVideoUri())), is(true));
              Map<String, Value> doc = JobDocuments.fields(j);
              assertThat(doc.get("cost_usd").getDoubleValue(), closeTo(0.6, 1e-9));
              assertThat(doc.get("shots_done").getIntegerValue(), equalTo(3L));
              assertThat(doc.get("backend").getStringValue(), equalTo("runway_gen4_turbo"));
              assertThat(doc.get("planner").getStringValue(), equalTo("local-sentence-planner"));
              return null;
            });
    p.run().waitUntilFinish();
    assertThat(providers.runway.creates.get(), equalTo(3));
    assertThat(providers.replicate.creates.get(), equalTo(1));
  }

  @Test
  void inStreamingShotsWaitOnProcessingTimeTimersBetweenPolls() throws Exception {
    String out = Files.createDirectories(tmp.resolve("out-streaming")).toString();
    providers.runway.pollsBeforeDone = 3;
    Job job =
        received("m-prov-2", "acme", "job-prov-0002", 1, FINAL).toBuilder()
            .setInputPayload(null)
            .setReceivedAtMillis(System.currentTimeMillis()) // its preset deadline is ahead
            .setBackend("runway_gen4_turbo")
            .setClipSeconds(5)
            .build();
    TestPipeline p = TestPipeline.create().enableAbandonedNodeEnforcement(false);
    TestStream.Builder<Job> stream = TestStream.create(JobCoder.of()).addElements(job);
    // Processing time moves in 500 ms steps; each step fires the shots' due timers (first poll
    // after 50 ms, then 75, 113 ... ms), so a shot needs several steps: it never waits in place.
    for (int i = 0; i < 12; i++) {
      stream = stream.advanceProcessingTime(org.joda.time.Duration.millis(500));
    }
    p.getOptions().as(org.apache.beam.sdk.options.StreamingOptions.class).setStreaming(true);
    PCollectionTuple rendered =
        p.apply(stream.advanceWatermarkToInfinity())
            .apply(new Plan())
            .get(StageTags.JOBS)
            .apply(
                RenderShots.forStreaming(
                    AUDIT,
                    out,
                    null,
                    providers.config(out),
                    PRICING,
                    RenderPolicy.fast(),
                    breakers));
    PAssert.that(rendered.get(RenderShots.RESULTS))
        .satisfies(
            results -> {
              List<ShotResult> all = list(results);
              assertThat(all, hasSize(3));
              assertThat(
                  all.stream().map(ShotResult::getStatus).toList(),
                  everyItem(equalTo("succeeded")));
              return null;
            });
    p.run().waitUntilFinish();
    // Four polls per shot: three "running", then "succeeded".
    assertThat(providers.runway.polls.get(), equalTo(12));
  }
}
