package com.aiprod.pipeline.render.backends;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThan;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.aiprod.pipeline.catalog.PricingTable;
import com.aiprod.pipeline.render.backends.BackendException.Kind;
import com.aiprod.pipeline.render.backends.Loopback.Req;
import com.aiprod.pipeline.render.backends.Loopback.Resp;
import com.aiprod.pipeline.secrets.SecretSource;
import com.fasterxml.jackson.databind.JsonNode;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link RunwayBackend} against a loopback server speaking Runway's task API: the fake checks the
 * bearer key, {@code X-Runway-Version}, the content type and the image_to_video body (model,
 * promptText, promptImage PNG of the ratio's size, ratio, duration, seed), and answers each test's
 * script.
 */
class RunwayBackendTest {
  private static final String PROMPT = "A lighthouse at dusk, waves, warm palette, slow dolly in";
  private static final Set<String> BODY_KEYS =
      Set.of("model", "promptText", "promptImage", "ratio", "duration", "seed");

  @TempDir static Path shared;
  private static byte[] mp4;

  @TempDir Path tmp;
  private Path secrets;
  private Loopback server;
  private volatile String acceptedKey = "rk_one_0123456789";
  private final List<String> violations = new ArrayList<>();

  @BeforeAll
  static void encodeSample() throws Exception {
    mp4 = Loopback.sampleMp4(shared);
  }

  @BeforeEach
  void start() throws Exception {
    secrets = Files.createDirectory(tmp.resolve("secrets"));
    Loopback.writeSecret(secrets, RunwayBackend.SECRET, acceptedKey);
    server = new Loopback();
    server.route("POST", "/v1/image_to_video", this::create);
    server.route(
        "DELETE",
        "/v1/tasks/([A-Za-z0-9-]+)",
        req -> checked(req, new Resp(204, java.util.Map.of(), new byte[0], 0, 1, 0)));
    server.script("GET", "/files/out\\.mp4", Resp.bytes(200, "video/mp4", mp4));
  }

  @AfterEach
  void stop() {
    server.close();
  }

  /** The fake's create endpoint: every check a real Runway makes that we can make. */
  private Resp create(Req req) {
    Resp denied = denied(req);
    if (denied != null) {
      return denied;
    }
    if (!"application/json".equals(req.header("Content-Type"))) {
      return bad("Content-Type must be application/json");
    }
    JsonNode b = req.json();
    if (b == null || !b.isObject()) {
      return bad("body is not JSON");
    }
    for (Iterator<String> it = b.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!BODY_KEYS.contains(k)) {
        return bad("unknown field " + k);
      }
    }
    if (!"gen4_turbo".equals(b.path("model").asText())) {
      return bad("model must be gen4_turbo");
    }
    String text = b.path("promptText").asText("");
    if (text.isEmpty() || text.length() > 1000) {
      return bad("promptText must be 1..1000 UTF-16 units");
    }
    String ratio = b.path("ratio").asText();
    if (!Set.of("1280:720", "720:1280", "1104:832", "832:1104", "960:960", "1584:672")
        .contains(ratio)) {
      return bad("ratio " + ratio + " not allowed for gen4_turbo");
    }
    if (!b.path("duration").isInt()
        || b.path("duration").asInt() < 2
        || b.path("duration").asInt() > 10) {
      return bad("duration must be an integer 2..10");
    }
    long seed = b.path("seed").asLong(-1);
    if (!b.path("seed").isIntegralNumber() || seed < 0 || seed > 4294967295L) {
      return bad("seed must be 0..4294967295");
    }
    String image = b.path("promptImage").asText("");
    if (!image.startsWith("data:image/png;base64,")) {
      return bad("promptImage must be an image data URI");
    }
    try {
      BufferedImage img =
          ImageIO.read(
              new ByteArrayInputStream(
                  Base64.getDecoder().decode(image.substring(image.indexOf(',') + 1))));
      String[] wh = ratio.split(":");
      if (img.getWidth() != Integer.parseInt(wh[0]) || img.getHeight() != Integer.parseInt(wh[1])) {
        return bad("promptImage is " + img.getWidth() + "x" + img.getHeight() + ", not " + ratio);
      }
    } catch (Exception e) {
      return bad("promptImage is not a decodable PNG");
    }
    return Resp.json(200, "{\"id\":\"" + UUID.randomUUID() + "\"}");
  }

  private Resp bad(String why) {
    violations.add(why);
    return Resp.json(400, "{\"error\":\"" + why + "\"}");
  }

  private Resp denied(Req req) {
    if (!("Bearer " + acceptedKey).equals(req.header("Authorization"))) {
      return Resp.json(401, "{\"error\":\"Invalid API key\"}");
    }
    if (!RunwayBackend.API_VERSION.equals(req.header("X-Runway-Version"))) {
      violations.add("X-Runway-Version " + req.header("X-Runway-Version"));
      return Resp.json(400, "{\"error\":\"Missing or invalid X-Runway-Version header\"}");
    }
    return null;
  }

  private Resp checked(Req req, Resp ok) {
    Resp denied = denied(req);
    return denied != null ? denied : ok;
  }

  /** Installs the poll script: the answers of GET /v1/tasks/{id}, in order (the last repeats). */
  private void polls(Resp... answers) {
    Iterator<Resp> it = List.of(answers).iterator();
    Resp[] last = new Resp[1];
    server.route(
        "GET",
        "/v1/tasks/([A-Za-z0-9-]+)",
        req -> {
          Resp denied = denied(req);
          if (denied != null) {
            return denied;
          }
          synchronized (it) {
            if (it.hasNext()) {
              last[0] = it.next();
            }
            return last[0];
          }
        });
  }

  private static Resp task(String status, String extra) {
    return Resp.json(
        200,
        "{\"id\":\"t\",\"status\":\""
            + status
            + "\",\"createdAt\":\"2026-11-24T11:00:00Z\""
            + extra
            + "}");
  }

  private Resp succeeded(String path) {
    return task("SUCCEEDED", ",\"output\":[\"" + server.base() + path + "\"]");
  }

  private BackendConfig config(Duration timeout, long maxDownload) {
    return BackendConfig.builder()
        .backend("runway_gen4_turbo", BackendConfig.RUNWAY, "gen4_turbo")
        .endpoint(BackendConfig.RUNWAY, server.base())
        .secrets(SecretSource.dir(secrets))
        .requestTimeout(timeout)
        .maxDownloadBytes(maxDownload)
        .build();
  }

  private VideoBackend open() {
    return config(Duration.ofSeconds(5), BackendConfig.DEFAULT_MAX_DOWNLOAD_BYTES)
        .open("runway_gen4_turbo");
  }

  private RenderRequest request() {
    return Loopback.request(PROMPT, 5, tmp.resolve("prefix").toString() + "/");
  }

  @Test
  void rendersAfterSeveralPollsAndDownloadsTheMp4() throws Exception {
    polls(
        task("PENDING", ""),
        task("THROTTLED", ""),
        task("RUNNING", ",\"progress\":0.4"),
        succeeded("/files/out.mp4"));
    try (VideoBackend runway = open()) {
      String taskId = runway.submit(request());
      assertThat(violations, empty());
      List<PollResult> seen = new ArrayList<>();
      PollResult r;
      do {
        r = runway.poll(taskId);
        seen.add(r);
      } while (!r.terminal() && seen.size() < 10);
      assertThat(seen, hasSize(4));
      assertThat(seen.get(2).progress(), closeTo(0.4, 1e-9));
      assertThat(r.status(), equalTo(PollResult.Status.SUCCEEDED));
      assertThat(r.reportedCostUsd(), nullValue());
      Path dest = tmp.resolve("out/job-0001/shot_002.mp4");
      long n = runway.fetch(r, dest.toString());
      assertThat(n, equalTo((long) mp4.length));
      assertThat(Files.readAllBytes(dest), equalTo(mp4));
      assertThat(partFiles(dest.getParent()), empty());
    }
    Req create = server.requests("POST", "/v1/image_to_video").get(0);
    JsonNode body = create.json();
    assertThat(body.path("promptText").asText(), equalTo(PROMPT));
    assertThat(body.path("ratio").asText(), equalTo("1280:720"));
    assertThat(body.path("duration").asInt(), equalTo(5));
    assertThat(body.path("seed").asLong(), equalTo(0x2345_6789L));
    // The download went to the output URL without the API key (it is not the API's path).
    Req download = server.requests("GET", "/files/out\\.mp4").get(0);
    assertThat(download.header("X-Runway-Version"), nullValue());
  }

  @Test
  void tooManyRequestsIsRetryableWithRetryAfterInSecondsOrAsADate() throws Exception {
    server.script(
        "POST",
        "/v1/image_to_video",
        Resp.json(429, "{\"error\":\"Too many requests\"}").header("Retry-After", "7"));
    String date =
        DateTimeFormatter.RFC_1123_DATE_TIME.format(
            ZonedDateTime.now(ZoneOffset.UTC).plusSeconds(120));
    polls(Resp.json(429, "{\"error\":\"slow down\"}").header("Retry-After", date));
    try (VideoBackend runway = open()) {
      BackendException e = assertThrows(BackendException.class, () -> runway.submit(request()));
      assertThat(e.kind(), equalTo(Kind.RETRYABLE));
      assertThat(e.httpStatus(), equalTo(429));
      assertThat(e.retryAfterMillis(), equalTo(7000L));
      assertThat(
          e.getMessage(), allOf(containsString("HTTP 429"), containsString("Too many requests")));
      BackendException p = assertThrows(BackendException.class, () -> runway.poll("task-1"));
      assertThat(p.kind(), equalTo(Kind.RETRYABLE));
      assertThat(p.retryAfterMillis(), allOf(greaterThan(100_000L), lessThanOrEqualTo(120_000L)));
    }
  }

  @Test
  void serverErrorIsRetryableAndTheNextPollSucceeds() throws Exception {
    polls(
        Resp.json(500, "{\"error\":\"internal\"}"),
        Resp.json(503, "upstream busy"),
        succeeded("/files/out.mp4"));
    try (VideoBackend runway = open()) {
      BackendException e = assertThrows(BackendException.class, () -> runway.poll("task-1"));
      assertThat(e.kind(), equalTo(Kind.RETRYABLE));
      assertThat(e.httpStatus(), equalTo(500));
      BackendException e2 = assertThrows(BackendException.class, () -> runway.poll("task-1"));
      assertThat(e2.getMessage(), containsString("HTTP 503: upstream busy"));
      assertThat(runway.poll("task-1").status(), equalTo(PollResult.Status.SUCCEEDED));
    }
  }

  @Test
  void aSlowAnswerTimesOutAsRetryableWithoutHoldingTheThread() throws Exception {
    polls(task("RUNNING", "").delayed(3_000));
    server.script("POST", "/v1/image_to_video", Resp.json(200, "{\"id\":\"abc\"}").stalling(3_000));
    try (VideoBackend runway =
        config(Duration.ofMillis(400), BackendConfig.DEFAULT_MAX_DOWNLOAD_BYTES)
            .open("runway_gen4_turbo")) {
      long t0 = System.nanoTime();
      BackendException e = assertThrows(BackendException.class, () -> runway.poll("task-1"));
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertThat(e.kind(), equalTo(Kind.RETRYABLE));
      assertThat(e.getMessage(), containsString("timeout"));
      assertThat(ms, lessThan(2_000L));
      // Headers at once, then the body stalls: the request timeout still bounds the exchange.
      t0 = System.nanoTime();
      BackendException s = assertThrows(BackendException.class, () -> runway.submit(request()));
      assertThat(s.kind(), equalTo(Kind.RETRYABLE));
      assertThat((System.nanoTime() - t0) / 1_000_000, lessThan(2_000L));
    }
  }

  @Test
  void aFailedGenerationIsFailedWithTheProvidersReason() throws Exception {
    polls(
        task("RUNNING", ""),
        task(
            "FAILED", ",\"failure\":\"Prompt was flagged\",\"failureCode\":\"SAFETY.INPUT.TEXT\""));
    try (VideoBackend runway = open()) {
      assertThat(runway.poll("task-1").status(), equalTo(PollResult.Status.RUNNING));
      PollResult r = runway.poll("task-1");
      assertThat(r.status(), equalTo(PollResult.Status.FAILED));
      assertThat(
          r.error(),
          allOf(containsString("SAFETY.INPUT.TEXT"), containsString("Prompt was flagged")));
    }
  }

  @Test
  void malformedJsonAndUnknownStatusesArePermanent() throws Exception {
    polls(Resp.json(200, "{\"status\": \"RUNN"), task("DANCING", ""));
    try (VideoBackend runway = open()) {
      BackendException e = assertThrows(BackendException.class, () -> runway.poll("task-1"));
      assertThat(e.kind(), equalTo(Kind.PERMANENT));
      assertThat(e.getMessage(), containsString("malformed JSON"));
      BackendException u = assertThrows(BackendException.class, () -> runway.poll("task-1"));
      assertThat(u.kind(), equalTo(Kind.PERMANENT));
      assertThat(u.getMessage(), containsString("unknown status"));
    }
  }

  @Test
  void anOutputThat404sIsPermanentAndLeavesNoFile() throws Exception {
    polls(succeeded("/files/gone.mp4"));
    try (VideoBackend runway = open()) {
      PollResult r = runway.poll("task-1");
      Path dest = tmp.resolve("out/shot.mp4");
      BackendException e =
          assertThrows(BackendException.class, () -> runway.fetch(r, dest.toString()));
      assertThat(e.kind(), equalTo(Kind.PERMANENT));
      assertThat(e.httpStatus(), equalTo(404));
      assertThat(Files.exists(dest), equalTo(false));
    }
  }

  @Test
  void hugeAnswersAreRefusedWithoutReadingThemWhole() throws Exception {
    byte[] chunk = ("{\"pad\":\"" + "x".repeat(64 * 1024) + "\",").getBytes(StandardCharsets.UTF_8);
    polls(Resp.bytes(200, "application/json", chunk).repeated(200), succeeded("/files/huge.mp4"));
    byte[] bigMp4 = new byte[256 * 1024];
    System.arraycopy(mp4, 0, bigMp4, 0, Math.min(mp4.length, bigMp4.length));
    server.script("GET", "/files/huge\\.mp4", Resp.bytes(200, "video/mp4", bigMp4).repeated(8));
    try (VideoBackend runway =
        config(Duration.ofSeconds(5), 100 * 1024).open("runway_gen4_turbo")) {
      BackendException e = assertThrows(BackendException.class, () -> runway.poll("task-1"));
      assertThat(e.kind(), equalTo(Kind.PERMANENT));
      assertThat(e.getMessage(), containsString("larger than " + BackendConfig.MAX_JSON_BYTES));
      PollResult r = runway.poll("task-1");
      Path dest = tmp.resolve("out/huge.mp4");
      BackendException d =
          assertThrows(BackendException.class, () -> runway.fetch(r, dest.toString()));
      assertThat(d.kind(), equalTo(Kind.PERMANENT));
      assertThat(d.getMessage(), containsString("limit of 102400 bytes"));
      assertThat(Files.exists(dest), equalTo(false));
      assertThat(partFiles(dest.getParent()), empty());
    }
  }

  @Test
  void aSucceededTaskWithoutAnOutputIsPermanent() throws Exception {
    polls(task("SUCCEEDED", ",\"output\":[]"));
    try (VideoBackend runway = open()) {
      BackendException e = assertThrows(BackendException.class, () -> runway.poll("task-1"));
      assertThat(e.kind(), equalTo(Kind.PERMANENT));
      assertThat(e.getMessage(), containsString("SUCCEEDED without an output URL"));
    }
  }

  @Test
  void anOutputThatIsNotAnMp4IsRefused() throws Exception {
    polls(succeeded("/files/page.mp4"));
    server.script(
        "GET",
        "/files/page\\.mp4",
        Resp.bytes(200, "text/html", "<html>not a video</html>".getBytes(StandardCharsets.UTF_8)));
    try (VideoBackend runway = open()) {
      PollResult r = runway.poll("task-1");
      Path dest = tmp.resolve("out/page.mp4");
      BackendException e =
          assertThrows(BackendException.class, () -> runway.fetch(r, dest.toString()));
      assertThat(e.kind(), equalTo(Kind.PERMANENT));
      assertThat(e.getMessage(), containsString("not an MP4"));
      assertThat(Files.exists(dest), equalTo(false));
    }
  }

  @Test
  void outputUrlsOffTheApiOriginMustBeHttps() throws Exception {
    polls(
        task("SUCCEEDED", ",\"output\":[\"http://169.254.169.254/computeMetadata/v1/\"]"),
        task("SUCCEEDED", ",\"output\":[\"https://169.254.169.254/computeMetadata/v1/\"]"),
        task("SUCCEEDED", ",\"output\":[\"https://localhost:8443/x.mp4\"]"),
        task("SUCCEEDED", ",\"output\":[\"https://metadata.google.internal/x.mp4\"]"));
    try (VideoBackend runway = open()) {
      PollResult r = runway.poll("task-1");
      BackendException e =
          assertThrows(
              BackendException.class, () -> runway.fetch(r, tmp.resolve("x.mp4").toString()));
      assertThat(e.kind(), equalTo(Kind.PERMANENT));
      assertThat(e.getMessage(), containsString("not https"));
      for (int i = 0; i < 3; i++) {
        PollResult p = runway.poll("task-1");
        BackendException h =
            assertThrows(
                BackendException.class, () -> runway.fetch(p, tmp.resolve("x.mp4").toString()));
        assertThat(h.kind(), equalTo(Kind.PERMANENT));
        assertThat(h.getMessage(), containsString("not a public DNS name"));
      }
    }
    assertThat(server.requests("GET", "/computeMetadata.*"), empty());
  }

  @Test
  void outputHostsOfEveryPrivateRangeAreRefused() throws Exception {
    for (String literal :
        List.of(
            "0.0.0.0",
            "127.0.0.1",
            "10.1.2.3",
            "169.254.169.254",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "100.127.255.254",
            "198.18.0.1",
            "198.19.255.255",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::a00:1",
            "2002:7f00:1::1",
            "2001:0:1::1")) {
      assertThat(literal, ProviderHttp.forbidden(InetAddress.getByName(literal)), is(true));
    }
    for (String literal :
        List.of("8.8.8.8", "100.63.255.255", "100.128.0.1", "198.17.255.255", "198.20.0.1")) {
      assertThat(literal, ProviderHttp.forbidden(InetAddress.getByName(literal)), is(false));
    }
    // Names resolving into the new ranges are refused before any connection.
    Map<String, String> dns =
        Map.of(
            "cgnat.example.test", "100.64.3.4",
            "bench.example.test", "198.18.7.7",
            "nat64.example.test", "64:ff9b::a9fe:a9fe",
            "nat64b.example.test", "64:ff9b:1::7f00:1",
            "mixed.example.test", "8.8.8.8,10.0.0.1");
    ProviderHttp http = http(dns, new AtomicInteger());
    for (String host : dns.keySet()) {
      BackendException e =
          assertThrows(
              BackendException.class,
              () ->
                  http.download(
                      "https://" + host + "/x.mp4", tmp.resolve("x.mp4").toString(), null));
      assertThat(e.kind(), equalTo(Kind.PERMANENT));
      assertThat(e.getMessage(), containsString("resolves to a private address"));
    }
    for (String url :
        List.of(
            "https://[::1]/x.mp4",
            "https://0.0.0.0/x.mp4",
            "https://100.64.0.1/x.mp4",
            "https://[64:ff9b::a9fe:a9fe]/x.mp4",
            "https://localhost./x.mp4",
            "https://metadata/x.mp4")) {
      BackendException e =
          assertThrows(
              BackendException.class,
              () -> http.download(url, tmp.resolve("x.mp4").toString(), null));
      assertThat(url, e.getMessage(), containsString("not a public DNS name"));
    }
    assertThat(Files.exists(tmp.resolve("x.mp4")), is(false));
  }

  @Test
  void redirectsAreFollowedAtMostThreeTimesAndOnlyToCheckedHttpsUrls() throws Exception {
    for (int i = 1; i <= 4; i++) {
      server.script(
          "GET",
          "/hop/" + i,
          new Resp(302, Map.of("Location", "/hop/" + (i + 1)), new byte[0], 0, 1, 0));
    }
    server.script("GET", "/hop/5", Resp.bytes(200, "video/mp4", mp4));
    server.script(
        "GET",
        "/to-http",
        new Resp(302, Map.of("Location", "http://cdn.example.test/x.mp4"), new byte[0], 0, 1, 0));
    server.script(
        "GET",
        "/to-cgnat",
        new Resp(
            301, Map.of("Location", "https://cgnat.example.test/x.mp4"), new byte[0], 0, 1, 0));
    server.script(
        "GET",
        "/to-metadata",
        new Resp(
            307,
            Map.of("Location", "https://169.254.169.254/computeMetadata/v1/"),
            new byte[0],
            0,
            1,
            0));
    AtomicInteger lookups = new AtomicInteger();
    ProviderHttp http = http(Map.of("cgnat.example.test", "100.100.100.100"), lookups);

    // Three redirects: followed, each hop checked (API origin), the file arrives.
    Path three = tmp.resolve("three.mp4");
    assertThat(
        http.download(server.base() + "/hop/2", three.toString(), null),
        equalTo((long) mp4.length));
    assertThat(Files.readAllBytes(three), equalTo(mp4));

    // A fourth redirect is refused; its target is never asked for.
    int before = server.requests("GET", "/hop/5").size();
    BackendException four =
        assertThrows(
            BackendException.class,
            () ->
                http.download(server.base() + "/hop/1", tmp.resolve("four.mp4").toString(), null));
    assertThat(four.kind(), equalTo(Kind.PERMANENT));
    assertThat(four.getMessage(), containsString("more than 3 redirects"));
    assertThat(server.requests("GET", "/hop/5"), hasSize(before));

    BackendException plain =
        assertThrows(
            BackendException.class,
            () -> http.download(server.base() + "/to-http", tmp.resolve("h.mp4").toString(), null));
    assertThat(plain.getMessage(), containsString("not https"));
    BackendException cgnat =
        assertThrows(
            BackendException.class,
            () ->
                http.download(server.base() + "/to-cgnat", tmp.resolve("c.mp4").toString(), null));
    assertThat(cgnat.getMessage(), containsString("resolves to a private address"));
    BackendException meta =
        assertThrows(
            BackendException.class,
            () ->
                http.download(
                    server.base() + "/to-metadata", tmp.resolve("m.mp4").toString(), null));
    assertThat(meta.getMessage(), containsString("not a public DNS name"));
    assertThat(partFiles(tmp), empty());
  }

  @Test
  void theConnectionGoesToTheAddressThatWasChecked() throws Exception {
    // DNS rebinding: the first answer is the one checked; a second lookup would get an address
    // nothing listens on. The download works only if the checked answer is the one connected to.
    AtomicInteger lookups = new AtomicInteger();
    URI api = URI.create(server.base() + "/");
    ProviderHttp http =
        new ProviderHttp("Test", api, config(Duration.ofSeconds(5), 1 << 20))
            .withResolver(
                host -> {
                  int n = lookups.incrementAndGet();
                  return new InetAddress[] {
                    InetAddress.getByName(n == 1 ? "127.0.0.1" : "127.255.255.254")
                  };
                });
    Path dest = tmp.resolve("pinned.mp4");
    assertThat(
        http.download(server.base() + "/files/out.mp4", dest.toString(), null),
        equalTo((long) mp4.length));
    assertThat(lookups.get(), equalTo(1));
  }

  /** A provider client on the loopback API origin whose DNS is {@code dns} (comma: several). */
  private ProviderHttp http(Map<String, String> dns, AtomicInteger lookups) {
    return new ProviderHttp(
            "Test", URI.create(server.base() + "/"), config(Duration.ofSeconds(5), 1 << 20))
        .withResolver(
            host -> {
              lookups.incrementAndGet();
              if (host.equals("127.0.0.1")) {
                return new InetAddress[] {InetAddress.getByName(host)};
              }
              String v = dns.get(host);
              if (v == null) {
                throw new java.net.UnknownHostException(host);
              }
              String[] parts = v.split(",");
              InetAddress[] out = new InetAddress[parts.length];
              for (int i = 0; i < parts.length; i++) {
                out[i] = InetAddress.getByName(parts[i]);
              }
              return out;
            });
  }

  @Test
  void aRotatedKeyIsRefusedUntilTheCredentialsAreRefreshed() throws Exception {
    try (VideoBackend runway = open()) {
      acceptedKey = "rk_two_9876543210";
      BackendException e = assertThrows(BackendException.class, () -> runway.submit(request()));
      assertThat(e.kind(), equalTo(Kind.AUTH));
      assertThat(e.httpStatus(), equalTo(401));
      assertThat(e.getMessage(), not(containsString("rk_one")));
      Loopback.writeSecret(secrets, RunwayBackend.SECRET, acceptedKey);
      runway.refreshCredentials();
      assertThat(runway.submit(request()), not(equalTo("")));
      assertThat(violations, empty());
    }
  }

  @Test
  void providerErrorTextNeverCarriesTheKeyOrThePrompt() throws Exception {
    server.route(
        "POST",
        "/v1/image_to_video",
        req ->
            Resp.json(
                400,
                "{\"error\":\"bad request from "
                    + req.header("Authorization")
                    + " for "
                    + req.json().path("promptText").asText()
                    + "\"}"));
    try (VideoBackend runway = open()) {
      BackendException e = assertThrows(BackendException.class, () -> runway.submit(request()));
      assertThat(e.kind(), equalTo(Kind.PERMANENT));
      assertThat(e.httpStatus(), equalTo(400));
      assertThat(
          e.getMessage(),
          allOf(
              startsWith("Runway create task: HTTP 400: bad request"),
              containsString("[redacted]")));
      assertThat(
          e.getMessage(),
          allOf(not(containsString(acceptedKey)), not(containsString("lighthouse"))));
    }
  }

  @Test
  void cancelDeletesTheTask() throws Exception {
    try (VideoBackend runway = open()) {
      runway.cancel("0f3c2b9e-1111-4222-8333-944455556666");
      runway.cancel("../../v1/organization"); // not a task id: nothing sent
    }
    List<Req> deletes = server.requests("DELETE", "/v1/tasks/.*");
    assertThat(deletes, hasSize(1));
    assertThat(deletes.get(0).path(), equalTo("/v1/tasks/0f3c2b9e-1111-4222-8333-944455556666"));
    assertThat(deletes.get(0).header("Authorization"), equalTo("Bearer " + acceptedKey));
  }

  @Test
  void thePricingTableNamesTheModelAndOpensTheClient() throws Exception {
    PricingTable table = PricingTable.builtIn();
    assertThat(table.get("runway_gen4_turbo").model(), equalTo("gen4_turbo"));
    BackendConfig config =
        BackendConfig.builder()
            .backends(table)
            .endpoint(BackendConfig.RUNWAY, server.base())
            .secrets(SecretSource.dir(secrets))
            .build();
    try (VideoBackend runway = config.open("runway_gen4_turbo")) {
      assertThat(runway, org.hamcrest.Matchers.instanceOf(RunwayBackend.class));
      assertThat(((RunwayBackend) runway).model(), equalTo("gen4_turbo"));
      assertThat(runway.id(), equalTo("runway_gen4_turbo"));
    }
  }

  @Test
  void aTextToVideoModelUsesTheTextToVideoRoute() throws Exception {
    server.route(
        "POST",
        "/v1/text_to_video",
        req -> {
          Resp denied = denied(req);
          if (denied != null) {
            return denied;
          }
          JsonNode b = req.json();
          if (!"veo3.1_fast".equals(b.path("model").asText())
              || b.has("promptImage")
              || b.has("seed")
              || !Set.of(4, 6, 8).contains(b.path("duration").asInt())
              || !Set.of("1280:720", "720:1280", "1080:1920", "1920:1080")
                  .contains(b.path("ratio").asText())
              || !PROMPT.equals(b.path("promptText").asText())) {
            return bad("not a text_to_video body for veo3.1_fast: " + b);
          }
          return Resp.json(200, "{\"id\":\"t2v-task\"}");
        });
    BackendConfig c =
        BackendConfig.builder()
            .backend("runway_veo_fast", BackendConfig.RUNWAY, "veo3.1_fast")
            .endpoint(BackendConfig.RUNWAY, server.base())
            .secrets(SecretSource.dir(secrets))
            .build();
    try (VideoBackend runway = c.open("runway_veo_fast")) {
      assertThat(
          runway.submit(Loopback.request(PROMPT, 8, tmp.toString() + "/")), equalTo("t2v-task"));
    }
    assertThat(violations, empty());
    assertThat(server.requests("POST", "/v1/image_to_video"), empty());
  }

  private static List<Path> partFiles(Path dir) throws Exception {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().contains(".part-")).toList();
    }
  }
}
