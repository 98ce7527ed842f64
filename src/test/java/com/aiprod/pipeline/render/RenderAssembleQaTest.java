package com.aiprod.pipeline.render;

import static com.aiprod.pipeline.testing.StageFixtures.AUDIT;
import static com.aiprod.pipeline.testing.StageFixtures.eventTypes;
import static com.aiprod.pipeline.testing.StageFixtures.history;
import static com.aiprod.pipeline.testing.StageFixtures.list;
import static com.aiprod.pipeline.testing.StageFixtures.received;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.nullValue;

import com.aiprod.pipeline.assemble.AssembleJobs;
import com.aiprod.pipeline.catalog.PricingTable;
import com.aiprod.pipeline.decide.Decide;
import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.ShotResult;
import com.aiprod.pipeline.plan.Plan;
import com.aiprod.pipeline.qa.SemanticQa;
import com.aiprod.pipeline.qa.TechnicalQa;
import com.aiprod.pipeline.render.backends.BackendConfig;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Plan → RenderShots → AssembleJobs → TechnicalQa → SemanticQa → Decide, as the graph wires them.
 */
class RenderAssembleQaTest {
  private static final PricingTable PRICING = PricingTable.builtIn();
  private static final TupleTag<Job> CANCELS = new TupleTag<Job>() {};
  private static final String PREVIEW =
      "{\"content\": \"A lighthouse at dawn. Waves crash on the rocks.\", \"mode\": \"preview\","
          + " \"duration_sec\": 10}";

  @RegisterExtension final TestPipelineExtension pipeline = TestPipelineExtension.create();

  @TempDir Path out;

  private static Job routed(String jobId, String backend, double clip) {
    return received("m-" + jobId, "acme", jobId, 1, PREVIEW).toBuilder()
        .setInputPayload(null)
        .setReceivedAtMillis(System.currentTimeMillis()) // its preset deadline is ahead
        .setBackend(backend)
        .setClipSeconds(clip)
        .build();
  }

  /** The stages after PriceAndRoute, wired as in AiprodPipeline.expand. */
  private static final class Chain {
    final PCollectionTuple rendered;
    final PCollectionTuple assembled;
    final PCollection<Job> decided;

    Chain(TestPipeline p, String outputLocation, Job job) {
      PCollection<Job> rendering = p.apply(Create.of(job)).apply(new Plan()).get(StageTags.JOBS);
      rendered =
          rendering.apply(
              RenderShots.forBatch(
                  AUDIT,
                  outputLocation,
                  null,
                  BackendConfig.builder().backends(PRICING).build(),
                  PRICING,
                  RenderPolicy.fast(),
                  CircuitBreakers.perWorker("render-assemble-qa-" + java.util.UUID.randomUUID())));
      assembled =
          PCollectionTuple.of(StageTags.JOBS, rendering)
              .and(RenderShots.RESULTS, rendered.get(RenderShots.RESULTS))
              .and(CANCELS, p.apply("NoCancels", Create.empty(TypeDescriptor.of(Job.class))))
              .apply(
                  AssembleJobs.forBatch(
                      StageTags.JOBS, RenderShots.RESULTS, CANCELS, outputLocation, PRICING));
      decided =
          assembled
              .get(StageTags.JOBS)
              .apply(new TechnicalQa())
              .get(StageTags.JOBS)
              .apply(new SemanticQa())
              .get(StageTags.JOBS)
              .apply(new Decide())
              .get(StageTags.FINISHED);
    }
  }

  @Test
  void twoShotPreviewIsDelivered(TestPipeline p) throws Exception {
    String outputLocation = out.toString();
    Chain chain = new Chain(p, outputLocation, routed("job-0000001", "preview", 5));

    PAssert.that(chain.rendered.get(RenderShots.RESULTS))
        .satisfies(
            results -> {
              List<ShotResult> all = list(results);
              assertThat(all, hasSize(2));
              assertThat(
                  all.stream().map(ShotResult::getShotIndex).toList(), containsInAnyOrder(0, 1));
              for (ShotResult r : all) {
                assertThat(r.getStatus(), equalTo("succeeded"));
                assertThat(r.getAttempt(), equalTo(1));
                assertThat(r.getBackend(), equalTo("preview"));
                assertThat(r.getError(), nullValue());
                assertThat(
                    r.getUri(),
                    equalTo(
                        String.format(
                            "%s/acme/job-0000001/shots/shot-%03d.mp4",
                            outputLocation, r.getShotIndex())));
              }
              return null;
            });
    PAssert.that(chain.rendered.get(StageTags.AUDIT))
        .satisfies(
            events -> {
              List<AuditEvent> all = list(events);
              assertThat(eventTypes(all), contains("API_CALL", "API_CALL"));
              assertThat(
                  all.stream().map(AuditEvent::getStatus).toList(), everyItem(equalTo("success")));
              assertThat(all.get(0).getEventId().equals(all.get(1).getEventId()), is(false));
              assertThat(
                  all.stream().map(AuditEvent::getJobId).toList(),
                  everyItem(equalTo("job-0000001")));
              return null;
            });
    PAssert.that(chain.assembled.get(StageTags.FINISHED)).empty();
    PAssert.that(chain.decided)
        .satisfies(
            jobs -> {
              assertThat(list(jobs), hasSize(1));
              Job j = list(jobs).get(0);
              assertThat(j.getReason(), j.getState(), equalTo("DELIVERED"));
              assertThat(
                  history(j), contains("RECEIVED", "PLANNED", "RENDERING", "QA", "DELIVERED"));
              assertThat(j.getQaTechnical(), equalTo(1.0));
              assertThat(j.getQaSemantic(), greaterThanOrEqualTo(0.7));
              assertThat(j.getQaSemanticScorer(), equalTo("local-coverage-heuristic"));
              assertThat(j.getShotsDone(), equalTo(2));
              assertThat(j.getShotUris(), hasSize(2));
              assertThat(j.getCostUsd(), equalTo(0.0));
              assertThat(j.getVideoUri(), equalTo(outputLocation + "/acme/job-0000001/final.mp4"));
              assertThat(
                  j.getManifestUri(), equalTo(outputLocation + "/acme/job-0000001/manifest.json"));
              return null;
            });
    p.run().waitUntilFinish();

    Path jobDir = out.resolve("acme/job-0000001");
    assertThat(Files.size(jobDir.resolve("final.mp4")) > 0, is(true));
    JsonNode manifest = new ObjectMapper().readTree(jobDir.resolve("manifest.json").toFile());
    assertThat(manifest.get("job_id").asText(), equalTo("job-0000001"));
    assertThat(manifest.get("tenant").asText(), equalTo("acme"));
    assertThat(manifest.get("backend").asText(), equalTo("preview"));
    assertThat(manifest.get("video").asText(), equalTo(jobDir.resolve("final.mp4").toString()));
    assertThat(manifest.get("shots").size(), equalTo(2));
    for (int i = 0; i < 2; i++) {
      JsonNode shot = manifest.get("shots").get(i);
      assertThat(shot.get("index").asInt(), equalTo(i));
      assertThat(Files.exists(Path.of(shot.get("uri").asText())), is(true));
    }
  }

  @Test
  void shotsNoBackendRenderedFailTheJob(TestPipeline p) {
    String outputLocation = out.toString();
    Chain chain = new Chain(p, outputLocation, routed("job-0000002", "runway_gen4_turbo", 5));

    PAssert.that(chain.rendered.get(RenderShots.RESULTS))
        .satisfies(
            results -> {
              assertThat(list(results), hasSize(2));
              assertThat(
                  list(results).stream().map(ShotResult::getStatus).toList(),
                  everyItem(equalTo("failed")));
              assertThat(
                  list(results).stream().map(ShotResult::getError).toList(),
                  everyItem(containsString("backend runway_gen4_turbo could not be opened")));
              return null;
            });
    // No client could be opened (no secrets configured): no call was made, so no API_CALL event.
    PAssert.that(chain.rendered.get(StageTags.AUDIT)).empty();
    PAssert.that(chain.decided).empty();
    PAssert.that(chain.assembled.get(StageTags.FINISHED))
        .satisfies(
            jobs -> {
              Job j = list(jobs).get(0);
              assertThat(j.getState(), equalTo("FAILED"));
              assertThat(j.getReasonCode(), equalTo("RENDER_FAILED"));
              assertThat(j.getReason(), containsString("2 of 2 shots were not rendered"));
              assertThat(j.getShotsDone(), equalTo(0));
              assertThat(j.getVideoUri(), nullValue());
              return null;
            });
    p.run().waitUntilFinish();
    assertThat(Files.exists(out.resolve("acme/job-0000002/final.mp4")), is(false));
  }
}
