package com.aiprod.pipeline.qa;

import static com.aiprod.pipeline.testing.StageFixtures.received;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.aiprod.pipeline.media.FrameSampler;
import com.aiprod.pipeline.media.PreviewCard;
import com.aiprod.pipeline.media.PreviewEncoder;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobState;
import com.aiprod.pipeline.model.ShotSpec;
import com.aiprod.pipeline.plan.LocalPlanner;
import com.aiprod.pipeline.vertex.FakeGeminiServer;
import com.aiprod.pipeline.vertex.FakeGeminiServer.Answer;
import com.aiprod.pipeline.vertex.GeminiClient;
import com.aiprod.pipeline.vertex.GeminiException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GeminiScorerTest {
  static final String BODY =
      "{\"content\": \"A lighthouse at dawn. Waves crash on the rocks.\", \"mode\": \"preview\", \"duration_sec\": 10}";

  @TempDir Path dir;

  private FakeGeminiServer server;

  @BeforeEach
  void start() throws Exception {
    server = new FakeGeminiServer();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  /** A rendered two-shot preview job: real H.264 MP4s (1 s each, to keep the test fast). */
  static Job rendered(Path dir) throws Exception {
    Job j =
        received("m-1", "acme", "job-00000001", 1, BODY).toBuilder()
            .setInputPayload(null)
            .setBackend("preview")
            .setClipSeconds(5)
            .build();
    List<ShotSpec> shots = LocalPlanner.plan(j.getJobId(), j.getRequest(), 5);
    List<String> uris = new ArrayList<>();
    for (ShotSpec s : shots) {
      Path mp4 = dir.resolve("shot-" + s.getIndex() + ".mp4");
      PreviewEncoder.encode(
          mp4, PreviewCard.of(s.getPrompt(), s.getIndex(), shots.size(), j.getJobId(), 1.0));
      uris.add(mp4.toString());
    }
    return j.toBuilder()
        .setShots(shots)
        .setShotUris(uris)
        .setShotsDone(shots.size())
        .setQaTechnical(1.0)
        .build()
        .transition(JobState.QA, 2, "technical QA 1.00");
  }

  static ObjectNode scores(double style, double narrative, double emotion, double visual) {
    return FakeGeminiServer.object()
        .put("rationale", "Title cards; the text follows the content.")
        .put("style", style)
        .put("narrative", narrative)
        .put("emotion", emotion)
        .put("visual", visual);
  }

  @Test
  void framesOfEveryShotAreSentAndTheScoresWeighted() throws Exception {
    server.script(Answer.json(scores(0.8, 0.6, 0.5, 0.9)));
    GeminiScorer.Outcome o = GeminiScorer.score(new GeminiClient(server.config(5)), rendered(dir));

    assertThat(o.failure(), nullValue());
    assertThat(
        o.scores().weighted(), closeTo(0.3 * 0.8 + 0.3 * 0.6 + 0.2 * 0.5 + 0.2 * 0.9, 1e-12));
    assertThat(o.framesSent(), equalTo(6));
    assertThat(server.problems(), empty());

    FakeGeminiServer.Received r = server.received().get(0);
    List<JsonNode> images = r.inlineParts();
    assertThat(images, hasSize(6));
    for (JsonNode img : images) {
      assertThat(img.get("mimeType").asText(), equalTo("image/jpeg"));
      BufferedImage decoded =
          ImageIO.read(
              new ByteArrayInputStream(Base64.getDecoder().decode(img.get("data").asText())));
      assertThat(decoded, notNullValue());
      assertThat(decoded.getWidth(), equalTo(FrameSampler.MAX_WIDTH));
      assertThat(decoded.getHeight(), equalTo(288));
    }
    assertThat(r.userText(), containsString("A lighthouse at dawn."));
    assertThat(r.userText(), containsString("Shot plan (2 shots)"));
    assertThat(r.userText(), containsString("Frames of shot 1, in time order (3):"));
    assertThat(
        FakeGeminiServer.propertyNames(r.responseSchema()),
        hasItems("style", "narrative", "emotion", "visual"));
  }

  @Test
  void framesPerShotShrinkForLongJobs() {
    assertThat(GeminiScorer.framesPerShot(2), equalTo(3));
    assertThat(GeminiScorer.framesPerShot(10), equalTo(3));
    assertThat(GeminiScorer.framesPerShot(15), equalTo(2));
    assertThat(GeminiScorer.framesPerShot(60), equalTo(1));
  }

  @Test
  void invalidAnswersAreRefused() {
    assertThat(message(scores(1.2, 0.5, 0.5, 0.5)), equalTo("style must be a number in [0, 1]"));
    assertThat(
        message(scores(0.5, 0.5, 0.5, 0.5).put("overall", 1)), equalTo("unknown field 'overall'"));
    ObjectNode missing = scores(0.5, 0.5, 0.5, 0.5);
    missing.remove("visual");
    assertThat(message(missing), equalTo("the answer lacks visual"));
    assertThat(
        message(scores(0.5, 0.5, 0.5, 0.5).put("emotion", "high")),
        equalTo("emotion must be a number in [0, 1]"));
    assertThat(message("not json"), equalTo("the answer is not one well-formed JSON value"));
  }

  private static String message(Object answer) {
    return assertThrows(
            GeminiScorer.InvalidAnswer.class, () -> GeminiScorer.parse(answer.toString()))
        .getMessage();
  }

  @Test
  void aFailingCallGivesNoScore() throws Exception {
    server.script(Answer.error(503, "UNAVAILABLE", "The service is currently unavailable."));
    GeminiScorer.Outcome o = GeminiScorer.score(new GeminiClient(server.config(5)), rendered(dir));

    assertThat(o.scores(), nullValue());
    assertThat(o.callMade(), equalTo(true));
    assertThat(o.errorKind(), equalTo(GeminiException.Kind.SERVER));
    assertThat(o.attempts(), equalTo(3));
    assertThat(
        o.failure(),
        equalTo("Gemini call failed: HTTP 503 UNAVAILABLE: The service is currently unavailable."));
  }

  @Test
  void anUnreadableShotMeansNoCall() throws Exception {
    Job j = rendered(dir);
    Files.write(Path.of(j.getShotUris().get(1)), new byte[] {0, 0, 0, 8, 'f', 'r', 'e', 'e'});
    GeminiScorer.Outcome o = GeminiScorer.score(new GeminiClient(server.config(5)), j);

    assertThat(o.callMade(), equalTo(false));
    assertThat(o.failure(), startsWith("frames could not be sampled: shot 1: "));
    assertThat(server.received(), empty());
  }
}
