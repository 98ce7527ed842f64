package com.aiprod.pipeline.vertex;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.lessThan;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.aiprod.pipeline.vertex.FakeGeminiServer.Answer;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class GeminiClientTest {
  private static final String SECRET_PROMPT = "the secret storyboard of acme";

  private FakeGeminiServer server;

  @BeforeEach
  void start() throws Exception {
    server = new FakeGeminiServer();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private static GeminiClient.Request request() {
    ObjectNode schema = FakeGeminiServer.object().put("type", "OBJECT");
    schema.putObject("properties").putObject("answer").put("type", "STRING");
    schema.putArray("required").add("answer");
    return new GeminiClient.Request(
        "You answer in JSON.",
        List.of(
            GeminiClient.Part.text(SECRET_PROMPT),
            GeminiClient.Part.inline("image/jpeg", new byte[] {1, 2, 3})),
        schema,
        0.2);
  }

  private static void assertClean(GeminiException e) {
    assertThat(e.getMessage(), not(containsString(FakeGeminiServer.TOKEN)));
    assertThat(e.getMessage(), not(containsString(SECRET_PROMPT)));
  }

  @Test
  void successSendsTheDocumentedRequestAndReadsTextAndUsage() throws Exception {
    server.script(Answer.text("{\"answer\": \"yes\"}"));
    GeminiClient.Response r = new GeminiClient(server.config(5)).generate(request());

    assertThat(r.text(), equalTo("{\"answer\": \"yes\"}"));
    assertThat(r.finishReason(), equalTo("STOP"));
    assertThat(r.usage(), equalTo(new GeminiClient.Usage(1234, 321, 1555)));
    assertThat(r.attempts(), equalTo(1));
    assertThat(r.modelVersion(), equalTo("gemini-test-001"));
    assertThat(server.problems(), empty());
    FakeGeminiServer.Received got = server.received().get(0);
    assertThat(got.path(), equalTo(server.path()));
    assertThat(got.authorization(), equalTo("Bearer " + FakeGeminiServer.TOKEN));
    assertThat(got.inlineParts(), hasSize(1));
    assertThat(got.inlineParts().get(0).get("mimeType").asText(), equalTo("image/jpeg"));
    assertThat(
        Base64.getDecoder().decode(got.inlineParts().get(0).get("data").asText()),
        equalTo(new byte[] {1, 2, 3}));
    assertThat(got.body().path("generationConfig").path("temperature").asDouble(), equalTo(0.2));
    assertThat(got.responseSchema().path("required").get(0).asText(), equalTo("answer"));
  }

  @Test
  void rateLimitedThenSuccessIsRetried() throws Exception {
    server.script(
        Answer.error(429, "RESOURCE_EXHAUSTED", "Resource exhausted, please try again later.")
            .withHeader("Retry-After", "0"),
        Answer.text("{\"answer\": \"ok\"}"));
    GeminiClient.Response r = new GeminiClient(server.config(5)).generate(request());

    assertThat(r.attempts(), equalTo(2));
    assertThat(server.received(), hasSize(2));
  }

  @Test
  void serverErrorsExhaustTheRetriesAndSayWhat() {
    server.script(Answer.error(503, "UNAVAILABLE", "The service is currently unavailable."));
    GeminiException e =
        assertThrows(
            GeminiException.class, () -> new GeminiClient(server.config(5)).generate(request()));

    assertThat(e.kind(), equalTo(GeminiException.Kind.SERVER));
    assertThat(e.attempts(), equalTo(3));
    assertThat(e.httpStatus(), equalTo(503));
    assertThat(
        e.getMessage(), equalTo("HTTP 503 UNAVAILABLE: The service is currently unavailable."));
    assertThat(server.received(), hasSize(3));
    assertClean(e);
  }

  @Test
  void clientErrorsAreNotRetried() {
    server.script(Answer.error(400, "INVALID_ARGUMENT", "Request contains an invalid argument."));
    GeminiException e =
        assertThrows(
            GeminiException.class, () -> new GeminiClient(server.config(5)).generate(request()));

    assertThat(e.kind(), equalTo(GeminiException.Kind.CLIENT));
    assertThat(e.retryable(), equalTo(false));
    assertThat(server.received(), hasSize(1));
  }

  @Test
  void aWrongTokenIsA401NotRetried() {
    GeminiConfig wrong =
        GeminiConfig.of(
            server.endpoint(),
            FakeGeminiServer.PROJECT,
            FakeGeminiServer.LOCATION,
            FakeGeminiServer.MODEL,
            VertexAuth.fixedToken("not-the-token"),
            5);
    GeminiException e =
        assertThrows(GeminiException.class, () -> new GeminiClient(wrong).generate(request()));

    assertThat(e.httpStatus(), equalTo(401));
    assertThat(e.getMessage(), not(containsString("not-the-token")));
  }

  @Test
  void aSlowServerTimesOutOnEveryAttempt() {
    server.script(Answer.text("{\"answer\": \"late\"}").delayed(3_000));
    long start = System.nanoTime();
    GeminiException e =
        assertThrows(
            GeminiException.class,
            () -> new GeminiClient(server.config(1).withRetries(2, 10)).generate(request()));

    assertThat(e.kind(), equalTo(GeminiException.Kind.TIMEOUT));
    assertThat(e.attempts(), equalTo(2));
    assertThat((System.nanoTime() - start) / 1_000_000, lessThan(2_900L));
  }

  @Test
  void aBodyTricklingPastTheTimeoutIsCutOff() {
    server.script(Answer.text("{\"answer\": \"" + "z".repeat(2_000) + "\"}").dripping(4_000));
    long start = System.nanoTime();
    GeminiException e =
        assertThrows(
            GeminiException.class,
            () -> new GeminiClient(server.config(1).withRetries(1, 0)).generate(request()));

    assertThat(e.kind(), equalTo(GeminiException.Kind.TIMEOUT));
    assertThat((System.nanoTime() - start) / 1_000_000, lessThan(2_500L));
  }

  @Test
  void anErrorBodyWithStatus200IsABadResponseNotRetried() {
    server.script(
        Answer.raw(
            200, "{\"error\": {\"code\": 500, \"message\": \"lying\", \"status\": \"INTERNAL\"}}"));
    GeminiException e =
        assertThrows(
            GeminiException.class, () -> new GeminiClient(server.config(5)).generate(request()));
    assertThat(e.kind(), equalTo(GeminiException.Kind.BAD_RESPONSE));
    assertThat(server.received(), hasSize(1));
  }

  @Test
  void malformedBodiesAndCutAnswersAreBadResponses() {
    server.script(Answer.raw(200, "{\"candidates\": [ oops"));
    GeminiException e =
        assertThrows(
            GeminiException.class, () -> new GeminiClient(server.config(5)).generate(request()));
    assertThat(e.kind(), equalTo(GeminiException.Kind.BAD_RESPONSE));
    assertThat(server.received(), hasSize(1));

    server.script(Answer.candidate("{\"answer\": \"cut", "MAX_TOKENS"));
    e =
        assertThrows(
            GeminiException.class, () -> new GeminiClient(server.config(5)).generate(request()));
    assertThat(e.kind(), equalTo(GeminiException.Kind.BAD_RESPONSE));
    assertThat(e.usage(), equalTo(new GeminiClient.Usage(1234, 321, 1555)));
  }

  @Test
  void safetyStopsAreBlocked() {
    server.script(Answer.candidate("", "SAFETY"));
    GeminiException e =
        assertThrows(
            GeminiException.class, () -> new GeminiClient(server.config(5)).generate(request()));
    assertThat(e.kind(), equalTo(GeminiException.Kind.BLOCKED));
    assertThat(e.getMessage(), containsString("SAFETY"));
  }

  @Test
  void hugeAnswersAreAbandoned() {
    server.script(Answer.text("x".repeat(GeminiClient.MAX_RESPONSE_BYTES + 10)));
    GeminiException e =
        assertThrows(
            GeminiException.class, () -> new GeminiClient(server.config(5)).generate(request()));
    assertThat(e.kind(), equalTo(GeminiException.Kind.RESPONSE_TOO_LARGE));

    // Without a Content-Length (chunked), the cap applies while the body streams in.
    server.script(Answer.text("x".repeat(GeminiClient.MAX_RESPONSE_BYTES + 10)).dripping(200));
    e =
        assertThrows(
            GeminiException.class, () -> new GeminiClient(server.config(5)).generate(request()));
    assertThat(e.kind(), equalTo(GeminiException.Kind.RESPONSE_TOO_LARGE));
    assertThat(e.attempts(), equalTo(1));
  }

  @Test
  void errorMessagesAreShortenedAndRedacted() {
    server.script(
        Answer.error(400, "INVALID_ARGUMENT", "bad Bearer abc.def.ghi " + "y".repeat(500)));
    GeminiException e =
        assertThrows(
            GeminiException.class, () -> new GeminiClient(server.config(5)).generate(request()));
    assertThat(e.getMessage(), not(containsString("abc.def.ghi")));
    assertThat(e.getMessage().length(), lessThan(260));
  }

  @Test
  void defaultEndpointFollowsTheLocation() {
    GeminiConfig c =
        GeminiConfig.of(
            null, "p", "europe-west4", "gemini-2.5-flash", VertexAuth.fixedToken("t"), 30);
    assertThat(
        c.generateContentUri().toString(),
        equalTo(
            "https://europe-west4-aiplatform.googleapis.com/v1/projects/p/locations/europe-west4/publishers/google/models/gemini-2.5-flash:generateContent"));
    GeminiConfig g =
        GeminiConfig.of("", "p", "global", "gemini-2.5-flash", VertexAuth.fixedToken("t"), 30);
    assertThat(g.generateContentUri().getHost(), equalTo("aiplatform.googleapis.com"));
    assertThrows(
        IllegalArgumentException.class,
        () -> GeminiConfig.of(null, "p/../x", "us-central1", "m", VertexAuth.fixedToken("t"), 30));
  }
}
