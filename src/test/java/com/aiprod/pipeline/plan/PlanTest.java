package com.aiprod.pipeline.plan;

import static com.aiprod.pipeline.testing.StageFixtures.history;
import static com.aiprod.pipeline.testing.StageFixtures.list;
import static com.aiprod.pipeline.testing.StageFixtures.received;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.lessThan;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;

import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.ShotSpec;
import java.util.List;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class PlanTest {
  private static final String CONTENT =
      "\"content\": \"A lighthouse at dawn. Waves crash on the rocks. A gull takes off into the wind.\"";

  @RegisterExtension final TestPipelineExtension pipeline = TestPipelineExtension.create();

  private static Job routed(
      String messageId, String body, String backend, double clip, double estimate) {
    return received(messageId, "acme", "job-" + messageId, 1, body).toBuilder()
        .setInputPayload(null)
        .setBackend(backend)
        .setClipSeconds(clip)
        .setEstimateUsd(estimate)
        .build();
  }

  /** Whole clips covering the duration; a preview's last shot is trimmed to end exactly on it. */
  private static void assertCovers(Job j, int durationSec, double clip, boolean trimmed) {
    List<ShotSpec> shots = j.getShots();
    double total = 0;
    for (int i = 0; i < shots.size(); i++) {
      assertThat(shots.get(i).getIndex(), equalTo(i));
      if (!trimmed || i < shots.size() - 1) {
        assertThat(shots.get(i).getDurationSec(), equalTo(clip));
      }
      assertThat(shots.get(i).getPrompt().isBlank(), equalTo(false));
      total += shots.get(i).getDurationSec();
    }
    if (trimmed) {
      assertThat(total, closeTo(durationSec, 1e-9));
    } else {
      assertThat(total, greaterThanOrEqualTo((double) durationSec));
      assertThat(total - clip, lessThan((double) durationSec));
    }
  }

  @Test
  void estimateEndsEstimatedWithItsPlan(TestPipeline p) {
    PCollectionTuple out =
        p.apply(
                Create.of(
                    routed(
                        "m-1",
                        "{" + CONTENT + ", \"mode\": \"estimate\"}",
                        "runway_gen4_turbo",
                        10,
                        1.5)))
            .apply(new Plan());

    PAssert.that(out.get(StageTags.JOBS)).empty();
    PAssert.that(out.get(StageTags.FINISHED))
        .satisfies(
            jobs -> {
              assertThat(list(jobs), hasSize(1));
              Job j = list(jobs).get(0);
              assertThat(j.getState(), equalTo("ESTIMATED"));
              assertThat(history(j), contains("RECEIVED", "PLANNED", "ESTIMATED"));
              assertThat(j.getFinishedAtMillis(), notNullValue());
              assertThat(j.getReasonCode(), nullValue());
              assertThat(j.getEstimateUsd(), equalTo(1.5));
              assertThat(j.getShots(), hasSize(3));
              assertCovers(j, 30, 10, false);
              return null;
            });
    p.run().waitUntilFinish();
  }

  @Test
  void estimateWithoutAnyRouteIsStillEstimated(TestPipeline p) {
    Job noRoute =
        routed("m-1", "{" + CONTENT + ", \"mode\": \"estimate\"}", null, 0, 0).toBuilder()
            .setReason("a final render would be refused: no backend")
            .build();
    PCollectionTuple out = p.apply(Create.of(noRoute)).apply(new Plan());

    PAssert.that(out.get(StageTags.JOBS)).empty();
    PAssert.that(out.get(StageTags.FINISHED))
        .satisfies(
            jobs -> {
              Job j = list(jobs).get(0);
              assertThat(j.getState(), equalTo("ESTIMATED"));
              assertThat(j.getShots(), empty());
              assertThat(history(j), contains("RECEIVED", "PLANNED", "ESTIMATED"));
              return null;
            });
    p.run().waitUntilFinish();
  }

  @Test
  void previewMovesOnRenderingWithShotsCoveringItsDuration(TestPipeline p) {
    PCollectionTuple out =
        p.apply(
                Create.of(
                    routed(
                        "m-1",
                        "{" + CONTENT + ", \"mode\": \"preview\", \"duration_sec\": 12}",
                        "preview",
                        5,
                        0)))
            .apply(new Plan());

    PAssert.that(out.get(StageTags.FINISHED)).empty();
    PAssert.that(out.get(StageTags.JOBS))
        .satisfies(
            jobs -> {
              assertThat(list(jobs), hasSize(1));
              Job j = list(jobs).get(0);
              assertThat(j.getState(), equalTo("RENDERING"));
              assertThat(history(j), contains("RECEIVED", "PLANNED", "RENDERING"));
              assertThat(j.getFinishedAtMillis(), nullValue());
              assertThat(j.getShots(), hasSize(3));
              assertCovers(j, 12, 5, true);
              return null;
            });
    p.run().waitUntilFinish();
  }
}
