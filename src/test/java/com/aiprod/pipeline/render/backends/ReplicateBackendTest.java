package com.aiprod.pipeline.render.backends;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.lessThan;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.aiprod.pipeline.catalog.PricingTable;
import com.aiprod.pipeline.render.backends.BackendException.Kind;
import com.aiprod.pipeline.render.backends.Loopback.Req;
import com.aiprod.pipeline.render.backends.Loopback.Resp;
import com.aiprod.pipeline.secrets.SecretSource;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ReplicateBackend} against a loopback server speaking Replicate's predictions API: the fake
 * checks the bearer token, the content type, the {@code Cancel-After} header, the body ({@code
 * input} only, on the official-model route) and the Wan 2.2 input schema (names, ranges, enums),
 * and answers each test's script.
 */
class ReplicateBackendTest {
  private static final String PROMPT =
      "A paper boat drifting down a rainy street, neon reflections";
  private static final Set<String> INPUT_KEYS =
      Set.of(
          "prompt",
          "num_frames",
          "frames_per_second",
          "resolution",
          "aspect_ratio",
          "seed",
          "go_fast",
          "sample_shift");

  @TempDir static Path shared;
  private static byte[] mp4;

  @TempDir Path tmp;
  private Path secrets;
  private Loopback server;
  private volatile String acceptedToken = "r8_first_token_0123";
  private final List<String> violations = new ArrayList<>();
  private final AtomicInteger created = new AtomicInteger();

  @BeforeAll
  static void encodeSample() throws Exception {
    mp4 = Loopback.sampleMp4(shared);
  }

  @BeforeEach
  void start() throws Exception {
    secrets = Files.createDirectory(tmp.resolve("secrets"));
    Loopback.writeSecret(secrets, ReplicateBackend.SECRET, acceptedToken);
    server = new Loopback();
    server.route("POST", "/v1/models/wan-video/wan-2\\.2-t2v-fast/predictions", this::create);
    server.route(
        "POST",
        "/v1/predictions/([a-z0-9]+)/cancel",
        req -> checked(req, prediction(req.match().group(1), "canceled", "null")));
    server.script("GET", "/files/output\\.mp4", Resp.bytes(200, "video/mp4", mp4));
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private Resp create(Req req) {
    Resp denied = denied(req);
    if (denied != null) {
      return denied;
    }
    if (!"application/json".equals(req.header("Content-Type"))) {
      return invalid("Content-Type must be application/json");
    }
    if (!ReplicateBackend.CANCEL_AFTER.equals(req.header("Cancel-After"))) {
      return invalid("expected Cancel-After " + ReplicateBackend.CANCEL_AFTER);
    }
    if (req.header("Prefer") != null) {
      return invalid("the client must not hold the request open (Prefer)");
    }
    JsonNode b = req.json();
    if (b == null || !b.isObject() || b.size() != 1 || !b.path("input").isObject()) {
      return invalid("body must be {\"input\": {...}} on the model route");
    }
    JsonNode in = b.get("input");
    for (Iterator<String> it = in.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!INPUT_KEYS.contains(k)) {
        return invalid("input." + k + " is not in the model's schema");
      }
    }
    if (in.path("prompt").asText("").isEmpty()) {
      return invalid("input.prompt is required");
    }
    int frames = in.path("num_frames").asInt(-1);
    if (!in.path("num_frames").isInt() || frames < 81 || frames > 121) {
      return invalid("input.num_frames must be 81..121");
    }
    int fps = in.path("frames_per_second").asInt(-1);
    if (!in.path("frames_per_second").isInt() || fps < 5 || fps > 30) {
      return invalid("input.frames_per_second must be 5..30");
    }
    if (!Set.of("480p", "720p").contains(in.path("resolution").asText())) {
      return invalid("input.resolution must be 480p or 720p");
    }
    if (!Set.of("16:9", "9:16").contains(in.path("aspect_ratio").asText())) {
      return invalid("input.aspect_ratio must be 16:9 or 9:16");
    }
    if (!in.path("seed").isIntegralNumber()
        || in.path("seed").asLong() < 0
        || in.path("seed").asLong() > Integer.MAX_VALUE) {
      return invalid("input.seed must be a non-negative 32-bit integer");
    }
    created.incrementAndGet();
    Resp r = prediction("ufawqhfynnddngldkgtslldrkq", "starting", "null");
    return new Resp(201, r.headers(), r.body(), 0, 1, 0);
  }

  private Resp invalid(String why) {
    violations.add(why);
    return Resp.json(
        422, "{\"title\":\"Input validation failed\",\"detail\":\"" + why + "\",\"status\":422}");
  }

  private Resp denied(Req req) {
    if (!("Bearer " + acceptedToken).equals(req.header("Authorization"))) {
      return Resp.json(
          401,
          "{\"title\":\"Unauthenticated\",\"detail\":\"You did not pass a valid authentication token\",\"status\":401}");
    }
    return null;
  }

  private Resp checked(Req req, Resp ok) {
    Resp d = denied(req);
    return d != null ? d : ok;
  }

  private Resp prediction(String id, String status, String outputJson) {
    return prediction(id, status, outputJson, "");
  }

  private Resp prediction(String id, String status, String outputJson, String extra) {
    String base = server.base();
    return Resp.json(
        200,
        "{\"id\":\""
            + id
            + "\",\"model\":\"wan-video/wan-2.2-t2v-fast\",\"version\":\"hidden\","
            + "\"input\":{},\"logs\":\"\",\"output\":"
            + outputJson
            + ",\"data_removed\":false,\"error\":null,"
            + "\"status\":\""
            + status
            + "\",\"created_at\":\"2026-11-24T11:00:00.000Z\","
            + "\"urls\":{\"get\":\""
            + base
            + "/v1/predictions/"
            + id
            + "\",\"cancel\":\""
            + base
            + "/v1/predictions/"
            + id
            + "/cancel\",\"web\":\"https://replicate.com/p/"
            + id
            + "\"}"
            + extra
            + "}");
  }

  private void polls(Resp... answers) {
    Iterator<Resp> it = List.of(answers).iterator();
    Resp[] last = new Resp[1];
    server.route(
        "GET",
        "/v1/predictions/([a-z0-9]+)",
        req -> {
          Resp d = denied(req);
          if (d != null) {
            return d;
          }
          synchronized (it) {
            if (it.hasNext()) {
              last[0] = it.next();
            }
            return last[0];
          }
        });
  }

  private Resp succeeded(String path) {
    return prediction(
        "p1",
        "succeeded",
        "\"" + server.base() + path + "\"",
        ",\"metrics\":{\"predict_time\":41.2,\"total_time\":45.0}");
  }

  private BackendConfig config(Duration timeout, long maxDownload) {
    return BackendConfig.builder()
        .backends(PricingTable.builtIn())
        .endpoint(BackendConfig.REPLICATE, server.base())
        .secrets(SecretSource.dir(secrets))
        .requestTimeout(timeout)
        .maxDownloadBytes(maxDownload)
        .build();
  }

  private VideoBackend open() {
    return config(Duration.ofSeconds(5), BackendConfig.DEFAULT_MAX_DOWNLOAD_BYTES)
        .open("replicate_wan");
  }

  private RenderRequest request() {
    return Loopback.request(PROMPT, 5, tmp.resolve("prefix").toString() + "/");
  }

  @Test
  void rendersAfterSeveralPollsAndDownloadsTheMp4() throws Exception {
    polls(
        prediction("p1", "starting", "null"),
        prediction("p1", "processing", "null"),
        prediction("p1", "processing", "null"),
        succeeded("/files/output.mp4"));
    try (VideoBackend wan = open()) {
      assertThat(((ReplicateBackend) wan).model(), equalTo("wan-video/wan-2.2-t2v-fast"));
      String id = wan.submit(request());
      assertThat(violations, empty());
      assertThat(id, equalTo("ufawqhfynnddngldkgtslldrkq"));
      List<PollResult> seen = new ArrayList<>();
      PollResult r;
      do {
        r = wan.poll(id);
        seen.add(r);
      } while (!r.terminal() && seen.size() < 10);
      assertThat(seen, hasSize(4));
      assertThat(r.status(), equalTo(PollResult.Status.SUCCEEDED));
      assertThat(r.reportedCostUsd(), nullValue());
      Path dest = tmp.resolve("out/shot_002.mp4");
      assertThat(wan.fetch(r, dest.toString()), equalTo((long) mp4.length));
      assertThat(Files.readAllBytes(dest), equalTo(mp4));
    }
    JsonNode input = server.requests("POST", "/v1/models/.*").get(0).json().get("input");
    assertThat(input.path("prompt").asText(), equalTo(PROMPT));
    // 5 s at 24 fps: 121 frames (the model's maximum), exactly 5 s.
    assertThat(input.path("num_frames").asInt(), equalTo(121));
    assertThat(input.path("frames_per_second").asInt(), equalTo(24));
    assertThat(input.path("resolution").asText(), equalTo("720p"));
    assertThat(input.path("aspect_ratio").asText(), equalTo("16:9"));
    assertThat(server.requests("GET", "/v1/predictions/ufawqhfynnddngldkgtslldrkq"), hasSize(4));
  }

  @Test
  void framesAndFpsKeepTheDurationWithinTheModelsLimits() {
    assertThat(ReplicateBackend.framesAndFps(5, 24), equalTo(new int[] {121, 24}));
    assertThat(ReplicateBackend.framesAndFps(5, 30), equalTo(new int[] {121, 24}));
    assertThat(ReplicateBackend.framesAndFps(5, 16), equalTo(new int[] {81, 16}));
    assertThat(ReplicateBackend.framesAndFps(5, 12), equalTo(new int[] {81, 16}));
    assertThat(ReplicateBackend.framesAndFps(10, 24), equalTo(new int[] {121, 12}));
  }

  @Test
  void tooManyRequestsIsRetryableWithRetryAfter() throws Exception {
    server.script(
        "POST",
        "/v1/models/wan-video/wan-2\\.2-t2v-fast/predictions",
        Resp.json(
                429,
                "{\"title\":\"Request was throttled\",\"detail\":\"Request was throttled. Expected available in 3 seconds.\",\"status\":429}")
            .header("Retry-After", "3"));
    try (VideoBackend wan = open()) {
      BackendException e = assertThrows(BackendException.class, () -> wan.submit(request()));
      assertThat(e.kind(), equalTo(Kind.RETRYABLE));
      assertThat(e.httpStatus(), equalTo(429));
      assertThat(e.retryAfterMillis(), equalTo(3000L));
      assertThat(e.getMessage(), containsString("Expected available in 3 seconds"));
    }
  }

  @Test
  void serverErrorThenSuccess() throws Exception {
    polls(Resp.json(502, "<html>bad gateway</html>"), succeeded("/files/output.mp4"));
    try (VideoBackend wan = open()) {
      BackendException e = assertThrows(BackendException.class, () -> wan.poll("p1"));
      assertThat(e.kind(), equalTo(Kind.RETRYABLE));
      assertThat(e.httpStatus(), equalTo(502));
      assertThat(wan.poll("p1").status(), equalTo(PollResult.Status.SUCCEEDED));
    }
  }

  @Test
  void aSlowAnswerTimesOut() throws Exception {
    polls(prediction("p1", "processing", "null").delayed(3_000));
    try (VideoBackend wan =
        config(Duration.ofMillis(400), BackendConfig.DEFAULT_MAX_DOWNLOAD_BYTES)
            .open("replicate_wan")) {
      long t0 = System.nanoTime();
      BackendException e = assertThrows(BackendException.class, () -> wan.poll("p1"));
      assertThat(e.kind(), equalTo(Kind.RETRYABLE));
      assertThat(e.getMessage(), containsString("timeout"));
      assertThat((System.nanoTime() - t0) / 1_000_000, lessThan(2_000L));
    }
  }

  @Test
  void aStalledDownloadIsAbandoned() throws Exception {
    polls(succeeded("/files/slow.mp4"));
    server.script(
        "GET", "/files/slow\\.mp4", Resp.bytes(200, "video/mp4", mp4).repeated(2).stalling(3_000));
    try (VideoBackend wan =
        BackendConfig.builder()
            .backends(PricingTable.builtIn())
            .endpoint(BackendConfig.REPLICATE, server.base())
            .secrets(SecretSource.dir(secrets))
            .downloadStallTimeout(Duration.ofMillis(500))
            .build()
            .open("replicate_wan")) {
      PollResult r = wan.poll("p1");
      Path dest = tmp.resolve("out/slow.mp4");
      long t0 = System.nanoTime();
      BackendException e =
          assertThrows(BackendException.class, () -> wan.fetch(r, dest.toString()));
      assertThat(e.kind(), equalTo(Kind.RETRYABLE));
      assertThat(e.getMessage(), containsString("stalled"));
      assertThat((System.nanoTime() - t0) / 1_000_000, lessThan(2_500L));
      assertThat(Files.exists(dest), equalTo(false));
    }
  }

  @Test
  void privateOutputUrlsAreRefusedInTheArrayFormToo() throws Exception {
    List<String> urls =
        List.of(
            "http://169.254.169.254/computeMetadata/v1/",
            "https://[::1]/x.mp4",
            "https://0.0.0.0/x.mp4",
            "https://100.64.0.1/x.mp4",
            "https://198.18.0.1/x.mp4",
            "https://[64:ff9b::a9fe:a9fe]/x.mp4",
            "file:///etc/passwd");
    Resp[] answers = new Resp[urls.size()];
    for (int i = 0; i < urls.size(); i++) {
      answers[i] = prediction("p1", "succeeded", "[\"" + urls.get(i) + "\",\"ignored\"]");
    }
    polls(answers);
    try (VideoBackend wan = open()) {
      for (String url : urls) {
        PollResult r = wan.poll("p1");
        assertThat(r.outputUri(), equalTo(url));
        BackendException e =
            assertThrows(
                BackendException.class, () -> wan.fetch(r, tmp.resolve("x.mp4").toString()));
        assertThat(url, e.kind(), equalTo(Kind.PERMANENT));
        assertThat(url, e.getMessage(), containsString("refused"));
      }
    }
    assertThat(Files.exists(tmp.resolve("x.mp4")), equalTo(false));
  }

  @Test
  void aDownloadThatKeepsDrippingIsAbandonedAtTheOverallCap() throws Exception {
    polls(succeeded("/files/drip.mp4"));
    // A byte range every 200 ms: never stalled (stall timeout 2 s), but never done either.
    server.script(
        "GET", "/files/drip\\.mp4", Resp.bytes(200, "video/mp4", mp4).dripping(1_000, 200));
    try (VideoBackend wan =
        BackendConfig.builder()
            .backends(PricingTable.builtIn())
            .endpoint(BackendConfig.REPLICATE, server.base())
            .secrets(SecretSource.dir(secrets))
            .downloadStallTimeout(Duration.ofSeconds(2))
            .downloadTimeout(Duration.ofSeconds(1))
            .build()
            .open("replicate_wan")) {
      PollResult r = wan.poll("p1");
      Path dest = tmp.resolve("out/drip.mp4");
      BackendException e =
          assertThrows(BackendException.class, () -> wan.fetch(r, dest.toString()));
      assertThat(e.kind(), equalTo(Kind.RETRYABLE));
      assertThat(e.getMessage(), containsString("not finished within 1 s (download timeout)"));
      assertThat(Files.exists(dest), equalTo(false));
      assertThat(
          Files.exists(dest.getParent()) ? Files.list(dest.getParent()).count() : 0L, equalTo(0L));
    }
  }

  @Test
  void aFailedPredictionIsFailedWithItsError() throws Exception {
    polls(
        prediction("p1", "processing", "null"),
        Resp.json(
            200,
            "{\"id\":\"p1\",\"status\":\"failed\",\"output\":null,\"error\":\"CUDA out of memory\"}"));
    try (VideoBackend wan = open()) {
      assertThat(wan.poll("p1").status(), equalTo(PollResult.Status.RUNNING));
      PollResult r = wan.poll("p1");
      assertThat(r.status(), equalTo(PollResult.Status.FAILED));
      assertThat(r.error(), equalTo("Replicate prediction failed: CUDA out of memory"));
    }
  }

  @Test
  void malformedJsonIsPermanent() throws Exception {
    polls(Resp.json(200, "[\"not\", \"a prediction\"]"), Resp.json(200, "{\"status\":"));
    try (VideoBackend wan = open()) {
      BackendException e = assertThrows(BackendException.class, () -> wan.poll("p1"));
      assertThat(e.kind(), equalTo(Kind.PERMANENT));
      assertThat(e.getMessage(), containsString("malformed JSON"));
      BackendException e2 = assertThrows(BackendException.class, () -> wan.poll("p1"));
      assertThat(e2.getMessage(), containsString("malformed JSON"));
    }
  }

  @Test
  void anOutputThat404sIsPermanent() throws Exception {
    polls(succeeded("/files/expired.mp4"));
    try (VideoBackend wan = open()) {
      PollResult r = wan.poll("p1");
      BackendException e =
          assertThrows(BackendException.class, () -> wan.fetch(r, tmp.resolve("o.mp4").toString()));
      assertThat(e.kind(), equalTo(Kind.PERMANENT));
      assertThat(e.httpStatus(), equalTo(404));
      assertThat(Files.exists(tmp.resolve("o.mp4")), equalTo(false));
    }
  }

  @Test
  void hugeAnswersAreRefused() throws Exception {
    byte[] chunk = "[1,2,3,4,5,6,7,8,9,10],".repeat(4096).getBytes(StandardCharsets.UTF_8);
    polls(Resp.bytes(200, "application/json", chunk).repeated(100), succeeded("/files/big.mp4"));
    server.route(
        "GET",
        "/files/big\\.mp4",
        req -> {
          byte[] big = new byte[300 * 1024];
          System.arraycopy(mp4, 0, big, 0, Math.min(mp4.length, big.length));
          return Resp.bytes(200, "video/mp4", big); // with a Content-Length over the cap
        });
    try (VideoBackend wan = config(Duration.ofSeconds(5), 64 * 1024).open("replicate_wan")) {
      BackendException e = assertThrows(BackendException.class, () -> wan.poll("p1"));
      assertThat(e.kind(), equalTo(Kind.PERMANENT));
      assertThat(e.getMessage(), containsString("larger than"));
      PollResult r = wan.poll("p1");
      BackendException d =
          assertThrows(
              BackendException.class, () -> wan.fetch(r, tmp.resolve("big.mp4").toString()));
      assertThat(d.kind(), equalTo(Kind.PERMANENT));
      assertThat(d.getMessage(), containsString("declares 307200 bytes"));
      assertThat(Files.exists(tmp.resolve("big.mp4")), equalTo(false));
    }
  }

  @Test
  void aSucceededPredictionWithoutOutputIsPermanent() throws Exception {
    polls(prediction("p1", "succeeded", "null"));
    try (VideoBackend wan = open()) {
      BackendException e = assertThrows(BackendException.class, () -> wan.poll("p1"));
      assertThat(e.kind(), equalTo(Kind.PERMANENT));
      assertThat(e.getMessage(), containsString("succeeded without an output URL"));
    }
  }

  @Test
  void aRotatedTokenIsRefusedUntilRefreshed() throws Exception {
    try (VideoBackend wan = open()) {
      acceptedToken = "r8_second_token_4567";
      BackendException e = assertThrows(BackendException.class, () -> wan.submit(request()));
      assertThat(e.kind(), equalTo(Kind.AUTH));
      assertThat(
          e.getMessage(),
          allOf(containsString("HTTP 401"), containsString("valid authentication token")));
      assertThat(e.getMessage(), not(containsString("r8_first")));
      Loopback.writeSecret(secrets, ReplicateBackend.SECRET, acceptedToken);
      wan.refreshCredentials();
      assertThat(wan.submit(request()), equalTo("ufawqhfynnddngldkgtslldrkq"));
      assertThat(created.get(), equalTo(1));
    }
  }

  @Test
  void aSquareShotIsRefusedBeforeAnythingIsSent() throws Exception {
    RenderRequest square =
        new RenderRequest(
            "job-0001",
            0,
            1,
            PROMPT,
            5,
            7L,
            "1:1",
            1080,
            1080,
            24,
            "k",
            tmp.toString() + "/",
            1,
            5);
    try (VideoBackend wan = open()) {
      BackendException e = assertThrows(BackendException.class, () -> wan.submit(square));
      assertThat(e.kind(), equalTo(Kind.PERMANENT));
      assertThat(e.getMessage(), containsString("1:1"));
    }
    assertThat(server.requests("POST", "/v1/models/.*"), empty());
  }

  @Test
  void cancelPostsToTheCancelUrl() throws Exception {
    try (VideoBackend wan = open()) {
      wan.cancel("ufawqhfynnddngldkgtslldrkq");
    }
    List<Req> cancels = server.requests("POST", "/v1/predictions/.*/cancel");
    assertThat(cancels, hasSize(1));
    assertThat(cancels.get(0).header("Authorization"), equalTo("Bearer " + acceptedToken));
  }

  @Test
  void aModelWithAVersionUsesThePredictionsRoute() throws Exception {
    String version = "a".repeat(64);
    server.route(
        "POST",
        "/v1/predictions",
        req -> {
          JsonNode b = req.json();
          if (!version.equals(b.path("version").asText()) || !b.path("input").isObject()) {
            return invalid("version route needs version and input");
          }
          return checked(req, prediction("v1pred", "starting", "null"));
        });
    BackendConfig c =
        BackendConfig.builder()
            .backend("replicate_custom", BackendConfig.REPLICATE, "acme/wan-finetune:" + version)
            .endpoint(BackendConfig.REPLICATE, server.base())
            .secrets(SecretSource.dir(secrets))
            .build();
    try (VideoBackend b = c.open("replicate_custom")) {
      assertThat(b.submit(request()), equalTo("v1pred"));
    }
    assertThat(violations, empty());
    assertThrows(
        IllegalArgumentException.class,
        () ->
            BackendConfig.builder()
                .backend("bad", BackendConfig.REPLICATE, "../../v1/account")
                .secrets(SecretSource.dir(secrets))
                .build()
                .open("bad"));
  }
}
