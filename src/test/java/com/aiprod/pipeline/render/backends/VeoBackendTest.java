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
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.aiprod.pipeline.catalog.PricingTable;
import com.aiprod.pipeline.render.backends.BackendException.Kind;
import com.aiprod.pipeline.render.backends.Loopback.Req;
import com.aiprod.pipeline.render.backends.Loopback.Resp;
import com.aiprod.pipeline.vertex.VertexAuth;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.beam.sdk.util.SerializableUtils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link VeoBackend} against a loopback server speaking Vertex AI's long-running predict API for
 * publisher models: the fake checks the bearer token, the content type, the {@code instances} /
 * {@code parameters} shape, answers operation names, and on success "writes" the video under the
 * request's {@code storageUri} (here a local directory under the output location) as Veo does in
 * GCS.
 */
class VeoBackendTest {
  private static final String PROJECT = "demo-proj";
  private static final String TOKEN = "ya29.loopback-token";
  private static final String MODEL_PATH =
      "/v1/projects/"
          + PROJECT
          + "/locations/us-central1/publishers/google/models/veo-3\\.0-generate-001";
  private static final String PROMPT =
      "Aerial shot over a glacier at sunrise, cinematic, cold palette";
  private static final Set<String> PARAMETERS =
      Set.of(
          "aspectRatio",
          "durationSeconds",
          "sampleCount",
          "storageUri",
          "seed",
          "resolution",
          "generateAudio",
          "negativePrompt",
          "personGeneration",
          "enhancePrompt");

  @TempDir static Path shared;
  private static byte[] mp4;

  @TempDir Path tmp;
  private Path outputLocation;
  private Loopback server;
  private final List<String> violations = new ArrayList<>();

  /** storageUri per operation name, as Vertex remembers it. */
  private final Map<String, String> storage = new ConcurrentHashMap<>();

  @BeforeAll
  static void encodeSample() throws Exception {
    mp4 = Loopback.sampleMp4(shared);
  }

  @BeforeEach
  void start() throws Exception {
    outputLocation = Files.createDirectory(tmp.resolve("outputs"));
    server = new Loopback();
    server.route("POST", MODEL_PATH + ":predictLongRunning", this::predictLongRunning);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private Resp predictLongRunning(Req req) {
    Resp d = denied(req);
    if (d != null) {
      return d;
    }
    JsonNode b = req.json();
    if (b == null || !b.path("instances").isArray() || b.path("instances").size() != 1) {
      return invalid("instances must hold one instance");
    }
    JsonNode inst = b.path("instances").get(0);
    if (inst.size() != 1 || inst.path("prompt").asText("").isEmpty()) {
      return invalid("a text-to-video instance has a prompt only");
    }
    JsonNode p = b.path("parameters");
    for (Iterator<String> it = p.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!PARAMETERS.contains(k)) {
        return invalid("unknown parameter " + k);
      }
    }
    if (!Set.of(4, 6, 8).contains(p.path("durationSeconds").asInt(-1))) {
      return invalid("durationSeconds must be 4, 6 or 8");
    }
    if (!Set.of("16:9", "9:16").contains(p.path("aspectRatio").asText())) {
      return invalid("aspectRatio must be 16:9 or 9:16");
    }
    if (!p.path("generateAudio").isBoolean()) {
      return invalid("generateAudio is required for Veo 3 models");
    }
    if (!Set.of("720p", "1080p").contains(p.path("resolution").asText())) {
      return invalid("resolution must be 720p or 1080p");
    }
    if (p.path("sampleCount").asInt(0) < 1 || p.path("sampleCount").asInt(0) > 4) {
      return invalid("sampleCount must be 1..4");
    }
    long seed = p.path("seed").asLong(-1);
    if (seed < 0 || seed > 4294967295L) {
      return invalid("seed must be a uint32");
    }
    String storageUri = p.path("storageUri").asText("");
    if (!storageUri.endsWith("/")) {
      return invalid("storageUri must be a prefix ending with /");
    }
    String name =
        "projects/"
            + PROJECT
            + "/locations/us-central1/publishers/google/models/veo-3.0-generate-001/operations/"
            + UUID.randomUUID();
    storage.put(name, storageUri);
    return Resp.json(200, "{\"name\":\"" + name + "\"}");
  }

  private Resp invalid(String why) {
    violations.add(why);
    return Resp.json(
        400,
        "{\"error\":{\"code\":400,\"message\":\"" + why + "\",\"status\":\"INVALID_ARGUMENT\"}}");
  }

  private Resp denied(Req req) {
    if (!("Bearer " + TOKEN).equals(req.header("Authorization"))) {
      return Resp.json(
          401,
          "{\"error\":{\"code\":401,\"message\":\"Request had invalid authentication credentials.\",\"status\":\"UNAUTHENTICATED\"}}");
    }
    if (!"application/json".equals(req.header("Content-Type"))) {
      return invalid("Content-Type must be application/json");
    }
    return null;
  }

  interface OpAnswer {
    Resp answer(String operationName) throws Exception;
  }

  /** The fetchPredictOperation script: each poll takes the next answer, the last repeats. */
  private void polls(OpAnswer... answers) {
    Iterator<OpAnswer> it = List.of(answers).iterator();
    OpAnswer[] last = new OpAnswer[1];
    server.route(
        "POST",
        MODEL_PATH + ":fetchPredictOperation",
        req -> {
          Resp d = denied(req);
          if (d != null) {
            return d;
          }
          JsonNode b = req.json();
          String name = b == null ? "" : b.path("operationName").asText("");
          if (b == null || b.size() != 1 || name.isEmpty()) {
            return invalid("body must be {operationName}");
          }
          synchronized (it) {
            if (it.hasNext()) {
              last[0] = it.next();
            }
          }
          return last[0].answer(name);
        });
  }

  private static OpAnswer running() {
    return name -> Resp.json(200, "{\"name\":\"" + name + "\",\"done\":false}");
  }

  /** Done: writes the video under the operation's storageUri and reports it. */
  private OpAnswer done(byte[] video) {
    return name -> {
      String prefix = storage.get(name);
      Path f = Path.of(prefix).resolve("8841204512/sample_0.mp4");
      Files.createDirectories(f.getParent());
      Files.write(f, video);
      return doneWith(
          name,
          "{\"videos\":[{\"gcsUri\":\""
              + f
              + "\",\"mimeType\":\"video/mp4\"}],\"raiMediaFilteredCount\":0}");
    };
  }

  private static Resp doneWith(String name, String responseJson) {
    return Resp.json(
        200,
        "{\"name\":\""
            + name
            + "\",\"done\":true,\"response\":{\"@type\":"
            + "\"type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse\","
            + responseJson.substring(1)
            + "}");
  }

  private BackendConfig config(Duration timeout, long maxDownload) {
    return BackendConfig.builder()
        .backends(PricingTable.builtIn())
        .endpoint(BackendConfig.VERTEX_VEO, server.base())
        .vertex(PROJECT, "us-central1")
        .vertexAuth(VertexAuth.fixedToken(TOKEN))
        .outputLocation(outputLocation.toString())
        .requestTimeout(timeout)
        .maxDownloadBytes(maxDownload)
        .build();
  }

  /** Opened from a serialised copy of the configuration, as a worker's {@code @Setup} does. */
  private VideoBackend open() {
    return SerializableUtils.clone(
            config(Duration.ofSeconds(5), BackendConfig.DEFAULT_MAX_DOWNLOAD_BYTES))
        .open("veo3");
  }

  private RenderRequest request() {
    return Loopback.request(
        PROMPT, 8, outputLocation.resolve("tenant-a/job-0001/veo/shot-2/") + "/");
  }

  @Test
  void rendersAfterSeveralPollsAndCopiesTheVideo() throws Exception {
    polls(running(), running(), done(mp4));
    try (VideoBackend veo = open()) {
      assertThat(((VeoBackend) veo).model(), equalTo("veo-3.0-generate-001"));
      String op = veo.submit(request());
      assertThat(violations, empty());
      assertThat(
          op,
          startsWith(
              "projects/demo-proj/locations/us-central1/publishers/google/models/veo-3.0-generate-001/operations/"));
      List<PollResult> seen = new ArrayList<>();
      PollResult r;
      do {
        r = veo.poll(op, request());
        seen.add(r);
      } while (!r.terminal() && seen.size() < 10);
      assertThat(seen, hasSize(3));
      assertThat(r.status(), equalTo(PollResult.Status.SUCCEEDED));
      assertThat(r.reportedCostUsd(), nullValue());
      assertThat(r.outputUri(), startsWith(outputLocation.toString()));
      Path dest = outputLocation.resolve("tenant-a/job-0001/shots/shot_002.mp4");
      assertThat(veo.fetch(r, request(), dest.toString()), equalTo((long) mp4.length));
      assertThat(Files.readAllBytes(dest), equalTo(mp4));
    }
    JsonNode p = server.requests("POST", ".*:predictLongRunning").get(0).json().path("parameters");
    assertThat(p.path("durationSeconds").asInt(), equalTo(8));
    assertThat(p.path("aspectRatio").asText(), equalTo("16:9"));
    assertThat(p.path("resolution").asText(), equalTo("720p"));
    assertThat(p.path("generateAudio").asBoolean(true), equalTo(false));
    assertThat(p.path("storageUri").asText(), equalTo(request().outputPrefix()));
    assertThat(
        server
            .requests("POST", ".*:predictLongRunning")
            .get(0)
            .json()
            .path("instances")
            .get(0)
            .path("prompt")
            .asText(),
        equalTo(PROMPT));
  }

  @Test
  void quotaExhaustedIsRetryableWithRetryAfter() throws Exception {
    server.script(
        "POST",
        MODEL_PATH + ":predictLongRunning",
        Resp.json(
                429,
                "{\"error\":{\"code\":429,\"message\":\"Quota exceeded for online_prediction_requests_per_base_model\",\"status\":\"RESOURCE_EXHAUSTED\"}}")
            .header("Retry-After", "30"));
    try (VideoBackend veo = open()) {
      BackendException e = assertThrows(BackendException.class, () -> veo.submit(request()));
      assertThat(e.kind(), equalTo(Kind.RETRYABLE));
      assertThat(e.retryAfterMillis(), equalTo(30_000L));
      assertThat(
          e.getMessage(),
          allOf(containsString("HTTP 429"), containsString("RESOURCE_EXHAUSTED: Quota exceeded")));
    }
  }

  @Test
  void serverErrorThenSuccess() throws Exception {
    polls(
        name ->
            Resp.json(
                503,
                "{\"error\":{\"code\":503,\"message\":\"The service is currently unavailable.\",\"status\":\"UNAVAILABLE\"}}"),
        done(mp4));
    try (VideoBackend veo = open()) {
      String op = veo.submit(request());
      BackendException e = assertThrows(BackendException.class, () -> veo.poll(op, request()));
      assertThat(e.kind(), equalTo(Kind.RETRYABLE));
      assertThat(e.httpStatus(), equalTo(503));
      assertThat(veo.poll(op, request()).status(), equalTo(PollResult.Status.SUCCEEDED));
    }
  }

  @Test
  void aSlowAnswerTimesOut() throws Exception {
    polls(name -> Resp.json(200, "{\"done\":false}").delayed(3_000));
    try (VideoBackend veo =
        config(Duration.ofMillis(400), BackendConfig.DEFAULT_MAX_DOWNLOAD_BYTES).open("veo3")) {
      String op = veo.submit(request());
      long t0 = System.nanoTime();
      BackendException e = assertThrows(BackendException.class, () -> veo.poll(op, request()));
      assertThat(e.kind(), equalTo(Kind.RETRYABLE));
      assertThat(e.getMessage(), containsString("timeout"));
      assertThat((System.nanoTime() - t0) / 1_000_000, lessThan(2_000L));
    }
  }

  @Test
  void aFailedOrFilteredGenerationIsFailed() throws Exception {
    polls(
        name ->
            Resp.json(
                200,
                "{\"name\":\""
                    + name
                    + "\",\"done\":true,\"error\":{\"code\":3,\"message\":\"Unsupported duration for this model\"}}"),
        name ->
            doneWith(
                name,
                "{\"raiMediaFilteredCount\":1,\"raiMediaFilteredReasons\":[\"The prompt could not be submitted (support code 29310472)\"]}"));
    try (VideoBackend veo = open()) {
      String op = veo.submit(request());
      PollResult failed = veo.poll(op, request());
      assertThat(failed.status(), equalTo(PollResult.Status.FAILED));
      assertThat(
          failed.error(),
          equalTo("Veo operation failed (code 3): Unsupported duration for this model"));
      PollResult filtered = veo.poll(op, request());
      assertThat(filtered.status(), equalTo(PollResult.Status.FAILED));
      assertThat(
          filtered.error(), allOf(containsString("Responsible AI"), containsString("29310472")));
    }
  }

  @Test
  void malformedJsonIsPermanent() throws Exception {
    polls(name -> Resp.json(200, "{\"done\": tru"));
    try (VideoBackend veo = open()) {
      String op = veo.submit(request());
      BackendException e = assertThrows(BackendException.class, () -> veo.poll(op, request()));
      assertThat(e.kind(), equalTo(Kind.PERMANENT));
      assertThat(e.getMessage(), containsString("malformed JSON"));
    }
  }

  @Test
  void anOutputThatIsNotThereIsPermanent() throws Exception {
    polls(
        name ->
            doneWith(
                name,
                "{\"videos\":[{\"gcsUri\":\""
                    + outputLocation.resolve("tenant-a/job-0001/veo/shot-2/never-written.mp4")
                    + "\",\"mimeType\":\"video/mp4\"}]}"));
    try (VideoBackend veo = open()) {
      PollResult r = veo.poll(veo.submit(request()), request());
      BackendException e =
          assertThrows(
              BackendException.class,
              () -> veo.fetch(r, request(), tmp.resolve("o.mp4").toString()));
      assertThat(e.kind(), equalTo(Kind.PERMANENT));
      assertThat(e.httpStatus(), equalTo(404));
      assertThat(Files.exists(tmp.resolve("o.mp4")), equalTo(false));
    }
  }

  @Test
  void anOutputOutsideTheOutputLocationIsALie() throws Exception {
    Path secret = Files.writeString(tmp.resolve("elsewhere.mp4"), "not for you");
    polls(
        name -> doneWith(name, "{\"videos\":[{\"gcsUri\":\"" + secret + "\"}]}"),
        name ->
            doneWith(
                name, "{\"videos\":[{\"gcsUri\":\"" + outputLocation + "/../elsewhere.mp4\"}]}"));
    try (VideoBackend veo = open()) {
      String op = veo.submit(request());
      BackendException e = assertThrows(BackendException.class, () -> veo.poll(op, request()));
      assertThat(e.kind(), equalTo(Kind.PERMANENT));
      assertThat(e.getMessage(), containsString("outside the request's storageUri"));
      BackendException dots = assertThrows(BackendException.class, () -> veo.poll(op, request()));
      assertThat(dots.getMessage(), containsString("not a plain object path"));
      // fetch checks again, whatever poll result it is given
      BackendException f =
          assertThrows(
              BackendException.class,
              () ->
                  veo.fetch(
                      PollResult.succeeded(secret.toString(), null),
                      request(),
                      tmp.resolve("x.mp4").toString()));
      assertThat(f.kind(), equalTo(Kind.PERMANENT));
    }
  }

  @Test
  void anotherRequestsObjectUnderTheOutputLocationIsRefused() throws Exception {
    // Real MP4s under --outputLocation, but not under this request's storageUri: another tenant's
    // shot, a sibling shot of the same job, and a folder whose name only starts like ours.
    Path otherTenant = outputLocation.resolve("tenant-b/job-0009/shots/shot-000.mp4");
    Path sibling = outputLocation.resolve("tenant-a/job-0001/veo/shot-3/x/sample_0.mp4");
    Path lookalike = outputLocation.resolve("tenant-a/job-0001/veo/shot-2-evil/sample_0.mp4");
    for (Path f : List.of(otherTenant, sibling, lookalike)) {
      Files.createDirectories(f.getParent());
      Files.write(f, mp4);
    }
    List<Path> answers = new ArrayList<>(List.of(otherTenant, sibling, lookalike));
    polls(name -> doneWith(name, "{\"videos\":[{\"gcsUri\":\"" + answers.remove(0) + "\"}]}"));
    try (VideoBackend veo = open()) {
      String op = veo.submit(request());
      for (int i = 0; i < 3; i++) {
        BackendException e = assertThrows(BackendException.class, () -> veo.poll(op, request()));
        assertThat(e.kind(), equalTo(Kind.PERMANENT));
        assertThat(e.getMessage(), containsString("outside the request's storageUri"));
      }
      // fetch checks again against the request, whatever poll result it is handed
      Path dest = outputLocation.resolve("tenant-a/job-0001/shots/shot_002.mp4");
      BackendException f =
          assertThrows(
              BackendException.class,
              () ->
                  veo.fetch(
                      PollResult.succeeded(otherTenant.toString(), null),
                      request(),
                      dest.toString()));
      assertThat(f.getMessage(), containsString("outside the request's storageUri"));
      assertThat(Files.exists(dest), equalTo(false));
      // without its request nothing is accepted
      assertThrows(BackendException.class, () -> veo.poll(op));
      assertThrows(
          BackendException.class,
          () -> veo.fetch(PollResult.succeeded(sibling.toString(), null), dest.toString()));
    }
  }

  @Test
  void hugeAnswersAndOutputsAreRefused() throws Exception {
    byte[] chunk = ("{\"pad\":\"" + "y".repeat(32 * 1024) + "\"}").getBytes(StandardCharsets.UTF_8);
    byte[] big = new byte[200 * 1024];
    System.arraycopy(mp4, 0, big, 0, Math.min(mp4.length, big.length));
    polls(name -> Resp.bytes(200, "application/json", chunk).repeated(64), done(big));
    try (VideoBackend veo = config(Duration.ofSeconds(5), 64 * 1024).open("veo3")) {
      String op = veo.submit(request());
      BackendException e = assertThrows(BackendException.class, () -> veo.poll(op, request()));
      assertThat(e.kind(), equalTo(Kind.PERMANENT));
      assertThat(e.getMessage(), containsString("larger than"));
      PollResult r = veo.poll(op, request());
      Path dest = outputLocation.resolve("shot.mp4");
      BackendException d =
          assertThrows(BackendException.class, () -> veo.fetch(r, request(), dest.toString()));
      assertThat(d.kind(), equalTo(Kind.PERMANENT));
      assertThat(d.getMessage(), containsString("more than the limit of 65536"));
      assertThat(Files.exists(dest), equalTo(false));
    }
  }

  @Test
  void doneWithoutAVideoOrAnErrorIsPermanent() throws Exception {
    polls(name -> doneWith(name, "{\"raiMediaFilteredCount\":0}"));
    try (VideoBackend veo = open()) {
      String op = veo.submit(request());
      BackendException e = assertThrows(BackendException.class, () -> veo.poll(op, request()));
      assertThat(e.kind(), equalTo(Kind.PERMANENT));
      assertThat(e.getMessage(), containsString("done without a video"));
    }
  }

  @Test
  void anOutputThatIsNotAnMp4IsRefused() throws Exception {
    polls(done("<html>error page</html>".getBytes(StandardCharsets.UTF_8)));
    try (VideoBackend veo = open()) {
      PollResult r = veo.poll(veo.submit(request()), request());
      Path dest = outputLocation.resolve("shot.mp4");
      BackendException e =
          assertThrows(BackendException.class, () -> veo.fetch(r, request(), dest.toString()));
      assertThat(e.kind(), equalTo(Kind.PERMANENT));
      assertThat(e.getMessage(), containsString("not an MP4"));
      assertThat(Files.exists(dest), equalTo(false));
    }
  }

  @Test
  void refusedCredentialsAreAuth() throws Exception {
    BackendConfig wrong =
        BackendConfig.builder()
            .backends(PricingTable.builtIn())
            .endpoint(BackendConfig.VERTEX_VEO, server.base())
            .vertex(PROJECT, "us-central1")
            .vertexAuth(VertexAuth.fixedToken("ya29.revoked"))
            .build();
    try (VideoBackend veo = wrong.open("veo3")) {
      BackendException e = assertThrows(BackendException.class, () -> veo.submit(request()));
      assertThat(e.kind(), equalTo(Kind.AUTH));
      assertThat(e.httpStatus(), equalTo(401));
      assertThat(e.getMessage(), containsString("UNAUTHENTICATED"));
      veo.refreshCredentials(); // a fresh credential object; the fixed token stays refused
      assertThat(
          assertThrows(BackendException.class, () -> veo.submit(request())).kind(),
          equalTo(Kind.AUTH));
    }
  }

  @Test
  void aForeignOperationNameIsRefusedAndNeverPolled() throws Exception {
    server.script(
        "POST",
        MODEL_PATH + ":predictLongRunning",
        Resp.json(
            200,
            "{\"name\":\"projects/demo-proj/locations/us-central1/publishers/google/models/other-model/operations/1\"}"));
    polls(running());
    try (VideoBackend veo = open()) {
      BackendException e = assertThrows(BackendException.class, () -> veo.submit(request()));
      assertThat(e.kind(), equalTo(Kind.PERMANENT));
      assertThrows(
          BackendException.class,
          () ->
              veo.poll(
                  "projects/x/locations/us-central1/publishers/google/models/veo-3.0-generate-001/operations/../../y",
                  request()));
      veo.cancel("anything"); // Veo has no cancel: nothing is sent
    }
    assertThat(server.requests("POST", ".*:fetchPredictOperation"), empty());
    assertThat(server.requests("POST", ".*cancel.*"), empty());
  }

  @Test
  void aSquareShotIsRefused() throws Exception {
    RenderRequest square =
        new RenderRequest(
            "job-0001",
            0,
            1,
            PROMPT,
            8,
            1L,
            "1:1",
            1080,
            1080,
            24,
            "k",
            outputLocation + "/x/",
            1,
            8);
    try (VideoBackend veo = open()) {
      BackendException e = assertThrows(BackendException.class, () -> veo.submit(square));
      assertThat(e.kind(), equalTo(Kind.PERMANENT));
      assertThat(e.getMessage(), not(containsString("glacier")));
    }
    assertThat(server.requests("POST", ".*"), empty());
  }
}
