package com.aiprod.pipeline.plan;

import static com.aiprod.pipeline.testing.StageFixtures.request;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.aiprod.pipeline.model.JobRequest;
import com.aiprod.pipeline.model.ShotSpec;
import com.aiprod.pipeline.vertex.FakeGeminiServer;
import com.aiprod.pipeline.vertex.FakeGeminiServer.Answer;
import com.aiprod.pipeline.vertex.GeminiClient;
import com.aiprod.pipeline.vertex.GeminiException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class GeminiPlannerTest {
  static final String CONTENT =
      "A lighthouse at dawn. Waves crash on the rocks. A gull takes off into the wind.";
  static final String FINAL_30S = "{\"content\": \"" + CONTENT + "\", \"duration_sec\": 30}";

  private FakeGeminiServer server;

  @BeforeEach
  void start() throws Exception {
    server = new FakeGeminiServer();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  /** A valid answer with {@code n} shots. */
  static ObjectNode answer(int n) {
    ObjectNode a = FakeGeminiServer.object();
    a.put("script", "Dawn over a lighthouse; waves on the rocks; a gull flies off.");
    a.putObject("markers")
        .put("style", "painterly realism")
        .put("palette", "cold blues and warm amber")
        .put("mood", "quiet awe")
        .put("lighting", "low golden sun from the left")
        .put("character", "a white gull with a black wingtip");
    ArrayNode shots = a.putArray("shots");
    for (int i = 0; i < n; i++) {
      shots
          .addObject()
          .put("index", i)
          .put("prompt", "Gemini shot " + i + ": the lighthouse seen from the sea");
    }
    return a;
  }

  private GeminiPlanner.Outcome plan(String body, double clip) {
    JobRequest req = request(body);
    return GeminiPlanner.plan(new GeminiClient(server.config(2)), "job-00000001", req, clip);
  }

  @Test
  void aValidAnswerBecomesTheShots() {
    server.script(Answer.json(answer(3)));
    GeminiPlanner.Outcome o = plan(FINAL_30S, 10);

    assertThat(o.failure(), nullValue());
    assertThat(o.shots(), hasSize(3));
    for (ShotSpec s : o.shots()) {
      assertThat(s.getDurationSec(), equalTo(10.0));
      assertThat(s.getPrompt(), startsWith("Gemini shot " + s.getIndex() + ": the lighthouse"));
      assertThat(s.getPrompt(), containsString("Lighting: low golden sun from the left."));
      assertThat(s.getPrompt(), containsString("Character: a white gull with a black wingtip."));
      assertThat(s.getPrompt(), containsString("Style: painterly realism."));
      assertThat(s.getSeed(), equalTo(LocalPlanner.seed("job-00000001", s.getIndex())));
      assertThat(
          s.getPrompt().codePointCount(0, s.getPrompt().length()),
          lessThanOrEqualTo(LocalPlanner.MAX_PROMPT_CODE_POINTS));
    }
    assertThat(o.usage().totalTokens(), equalTo(1555L));
    assertThat(o.attempts(), equalTo(1));
    assertThat(server.problems(), empty());

    FakeGeminiServer.Received r = server.received().get(0);
    assertThat(r.userText(), containsString(CONTENT));
    assertThat(r.userText(), containsString("Shots: 3, durations in seconds: 10, 10, 10"));
    JsonNode schema = r.responseSchema();
    assertThat(schema.path("properties").path("shots").path("minItems").asInt(), equalTo(3));
    assertThat(schema.path("properties").path("shots").path("maxItems").asInt(), equalTo(3));
    assertThat(
        FakeGeminiServer.propertyNames(schema),
        hasItems(
            "script",
            "markers",
            "style",
            "palette",
            "mood",
            "lighting",
            "character",
            "shots",
            "index",
            "prompt"));
  }

  @Test
  void requestPreferencesWinOverGeminiMarkers() {
    server.script(Answer.json(answer(2)));
    GeminiPlanner.Outcome o =
        plan(
            "{\"content\": \""
                + CONTENT
                + "\", \"duration_sec\": 10, \"mode\": \"preview\", \"preferences\": {\"style\": \"anime\"}}",
            5);

    assertThat(o.shots(), hasSize(2));
    assertThat(o.shots().get(0).getPrompt(), containsString("Style: anime."));
    assertThat(
        o.shots().get(0).getPrompt(), containsString("Color palette: cold blues and warm amber."));
    assertThat(server.received().get(0).userText(), containsString("Style (requested): anime"));
  }

  @Test
  void malformedJsonIsInvalid() {
    server.script(Answer.text("{\"script\": \"x\", \"markers\": {"));
    GeminiPlanner.Outcome o = plan(FINAL_30S, 10);

    assertThat(o.shots(), nullValue());
    assertThat(o.callSucceeded(), equalTo(true));
    assertThat(
        o.failure(), equalTo("invalid Gemini plan: the answer is not one well-formed JSON value"));
  }

  @Test
  void aWrongShotCountIsInvalid() {
    server.script(Answer.json(answer(4)));
    GeminiPlanner.Outcome o = plan(FINAL_30S, 10);

    assertThat(o.shots(), nullValue());
    assertThat(
        o.failure(),
        equalTo("invalid Gemini plan: shots: expected 3 (the route's clip grid), got 4"));
  }

  @Test
  void schemaViolationsAreNamedWithoutQuotingText() throws Exception {
    ObjectNode empty = answer(3);
    ((ObjectNode) empty.withArray("shots").get(1)).put("prompt", "   ");
    assertThat(message(empty), equalTo("shots[1].prompt is empty"));

    ObjectNode unknown = answer(3);
    ((ObjectNode) unknown.withArray("shots").get(2)).put("negative_prompt", "blurry");
    assertThat(message(unknown), equalTo("unknown field 'negative_prompt' in shots[2]"));

    ObjectNode extraTop = answer(3);
    extraTop.put("notes", "x");
    assertThat(message(extraTop), equalTo("unknown field 'notes' in the answer"));

    ObjectNode missingMarker = answer(3);
    ((ObjectNode) missingMarker.get("markers")).remove("lighting");
    assertThat(message(missingMarker), equalTo("markers lacks lighting"));

    ObjectNode badIndex = answer(3);
    ((ObjectNode) badIndex.withArray("shots").get(1)).put("index", 5);
    assertThat(message(badIndex), equalTo("shots[1].index must be the integer 1"));

    ObjectNode tooLong = answer(3);
    ((ObjectNode) tooLong.withArray("shots").get(0)).put("prompt", "w".repeat(1001));
    assertThat(message(tooLong), equalTo("shots[0].prompt has 1001 code points, more than 1000"));

    ObjectNode twoLines = answer(3);
    ((ObjectNode) twoLines.get("markers")).put("mood", "calm\nthen angry");
    assertThat(message(twoLines), equalTo("markers.mood contains control character U+000A"));

    ObjectNode script = answer(3);
    ((ObjectNode) script.withArray("shots").get(0)).put("prompt", "<SCRIPT>alert(1)</script>");
    assertThat(message(script), equalTo("shots[0].prompt contains <script or javascript:"));

    ObjectNode nullScript = answer(3);
    nullScript.putNull("script");
    assertThat(message(nullScript), equalTo("the answer lacks script"));

    assertThat(
        message("{\"script\":\"a\",\"script\":\"b\"}"),
        equalTo("the answer is not one well-formed JSON value"));
    assertThat(
        message(answer(3).toString() + " {}"),
        equalTo("the answer is not one well-formed JSON value"));
    assertThat(message("[1,2,3]"), equalTo("the answer is not a JSON object"));
  }

  private static String message(Object answer) {
    GeminiPlanner.InvalidAnswer e =
        assertThrows(
            GeminiPlanner.InvalidAnswer.class, () -> GeminiPlanner.parse(answer.toString(), 3));
    return e.getMessage();
  }

  @Test
  void rateLimitedThenSuccessPlansWithGemini() {
    server.script(
        Answer.error(429, "RESOURCE_EXHAUSTED", "Resource exhausted, please try again later."),
        Answer.json(answer(3)));
    GeminiPlanner.Outcome o = plan(FINAL_30S, 10);

    assertThat(o.shots(), hasSize(3));
    assertThat(o.attempts(), equalTo(2));
  }

  @Test
  void serverErrorsFailTheCall() {
    server.script(Answer.error(500, "INTERNAL", "Internal error encountered."));
    GeminiPlanner.Outcome o = plan(FINAL_30S, 10);

    assertThat(o.shots(), nullValue());
    assertThat(o.callSucceeded(), equalTo(false));
    assertThat(o.errorKind(), equalTo(GeminiException.Kind.SERVER));
    assertThat(o.attempts(), equalTo(3));
    assertThat(
        o.failure(), equalTo("Gemini call failed: HTTP 500 INTERNAL: Internal error encountered."));
    assertThat(o.failure(), not(containsString(CONTENT)));
  }

  @Test
  void aTimeoutFailsTheCall() {
    server.script(Answer.json(answer(3)).delayed(2_500));
    JobRequest req = request(FINAL_30S);
    GeminiPlanner.Outcome o =
        GeminiPlanner.plan(
            new GeminiClient(server.config(1).withRetries(1, 0)), "job-00000001", req, 10);

    assertThat(o.shots(), nullValue());
    assertThat(o.errorKind(), equalTo(GeminiException.Kind.TIMEOUT));
  }
}
