package com.aiprod.pipeline.testing;

import com.aiprod.pipeline.catalog.PricingTable;
import com.aiprod.pipeline.render.backends.BackendConfig;
import com.aiprod.pipeline.render.backends.Loopback;
import com.aiprod.pipeline.render.backends.Loopback.Req;
import com.aiprod.pipeline.render.backends.Loopback.Resp;
import com.aiprod.pipeline.render.backends.ReplicateBackend;
import com.aiprod.pipeline.render.backends.RunwayBackend;
import com.aiprod.pipeline.secrets.SecretSource;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Two fake providers on loopback servers, speaking the Runway task API and the Replicate
 * predictions API as the real clients call them (bearer keys checked, tasks that run for a few
 * polls, then succeed with a downloadable MP4 or fail), with knobs a test turns: how many polls a
 * generation runs, answers that replace a create or a poll (429, 500, 400, failed generations). The
 * secrets directory holds both API keys.
 */
public final class FakeProviders implements AutoCloseable {
  public static final String RUNWAY_KEY = "rk_test_0123456789";
  public static final String REPLICATE_TOKEN = "r8_test_0123456789";

  public final Provider runway;
  public final Provider replicate;
  public final Path secrets;

  /** The video every succeeded generation serves (a tiny 128×72 sample until set). */
  public volatile byte[] mp4;

  /** One fake provider and its knobs. */
  public static final class Provider {
    public final Loopback server;
    private final String key;

    /** Polls a generation answers "running" before it is done. */
    public volatile int pollsBeforeDone = 1;

    /** When set, answers a create instead of accepting it (null: accept). Sees the request body. */
    public volatile Function<JsonNode, Resp> onCreate;

    /** When set, answers a poll instead of the task's state (null: the task's state). */
    public volatile Function<String, Resp> onPoll;

    /**
     * The path (on this provider's server) a succeeded generation's output is announced at, from
     * the task's create body; null or a null answer: {@code /files/<id>.mp4}, which serves {@link
     * FakeProviders#mp4}. Any other path answers 404 (an output that cannot be fetched).
     */
    public volatile Function<JsonNode, String> outputPath;

    /**
     * When set, a generation whose create body matches runs forever (never succeeds nor fails),
     * whatever {@link #pollsBeforeDone} says: a provider task that never finishes.
     */
    public volatile java.util.function.Predicate<JsonNode> runsForever;

    /**
     * A generation also runs at least this long after its create (0: only {@link #pollsBeforeDone}
     * counts): a slow provider, whose tasks stay in flight across a test's events.
     */
    public volatile long runsForMillis;

    /** When true, generations end failed instead of succeeded. */
    public volatile boolean generationsFail;

    /**
     * The reason a failed generation gives: Runway's {@code failureCode} (e.g. {@code
     * SAFETY.INPUT.TEXT}, {@code INTERNAL.BAD_OUTPUT.CODE01}), Replicate's {@code error} text;
     * null: a generic failure with no code.
     */
    public volatile String failureReason;

    /**
     * The next this many creates make (and bill) their task, then lose the answer: {@link
     * #lostAnswer} is sent instead of the task id.
     */
    public final AtomicInteger createAnswersToLose = new AtomicInteger();

    /** What a create whose answer is lost sends (default: a 502 from a gateway). */
    public volatile Resp lostAnswer = Resp.json(502, "{\"error\":\"bad gateway\"}");

    /** Task ids made, in order; with their create body and time. */
    public final java.util.List<String> made =
        java.util.Collections.synchronizedList(new java.util.ArrayList<>());

    final Map<String, JsonNode> bodies = new ConcurrentHashMap<>();
    final Map<String, java.time.Instant> createdAt = new ConcurrentHashMap<>();

    /** Tasks polled until they ended, and tasks cancelled. */
    public final java.util.Set<String> seenToTheEnd = ConcurrentHashMap.newKeySet();

    public final java.util.Set<String> cancelled = ConcurrentHashMap.newKeySet();

    /** Calls of the task list (Replicate's {@code GET /v1/predictions}). */
    public final AtomicInteger lists = new AtomicInteger();

    /** Tasks made that nobody followed to their end nor cancelled: billed and untracked. */
    public java.util.List<String> orphans() {
      synchronized (made) {
        return made.stream()
            .filter(id -> !seenToTheEnd.contains(id) && !cancelled.contains(id))
            .toList();
      }
    }

    /** The bytes served as every generation's output file (null: a real small MP4). */
    public volatile byte[] file;

    public final AtomicInteger creates = new AtomicInteger();
    public final AtomicInteger accepted = new AtomicInteger();
    public final AtomicInteger polls = new AtomicInteger();
    public final AtomicInteger cancels = new AtomicInteger();
    final Map<String, AtomicInteger> pollsById = new ConcurrentHashMap<>();

    Provider(String key) throws IOException {
      this.server = new Loopback();
      this.key = key;
    }

    boolean authorized(Req req) {
      return ("Bearer " + key).equals(req.header("Authorization"));
    }

    Resp create(Req req, Function<String, Resp> accept) {
      creates.incrementAndGet();
      if (!authorized(req)) {
        return Resp.json(401, "{\"error\":\"bad key\"}");
      }
      Function<JsonNode, Resp> override = onCreate;
      if (override != null) {
        Resp r = override.apply(req.json());
        if (r != null) {
          return r;
        }
      }
      accepted.incrementAndGet();
      String id = UUID.randomUUID().toString().replace("-", "").substring(0, 26);
      pollsById.put(id, new AtomicInteger());
      made.add(id);
      bodies.put(id, req.json());
      createdAt.put(id, java.time.Instant.now());
      if (createAnswersToLose.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        return lostAnswer;
      }
      return accept.apply(id);
    }

    /** How a provider shows a generation's state ("running", "failed", "succeeded"). */
    interface Answer {
      Resp of(String state, String id, String outputUrl);
    }

    /** A poll of the generation in the route's first group: auth, counting, overrides, state. */
    Resp poll(Req req, String deniedJson, Answer answer) {
      if (!authorized(req)) {
        return Resp.json(401, deniedJson);
      }
      polls.incrementAndGet();
      String id = req.match().group(1);
      Function<String, Resp> override = onPoll;
      if (override != null) {
        Resp r = override.apply(id);
        if (r != null) {
          return r;
        }
      }
      Function<JsonNode, String> path = outputPath;
      String custom = path == null || bodies.get(id) == null ? null : path.apply(bodies.get(id));
      return answer.of(
          state(id), id, server.base() + (custom == null ? "/files/" + id + ".mp4" : custom));
    }

    /** "running", "succeeded" or "failed" for the poll of task {@code id} now. */
    String state(String id) {
      AtomicInteger n = pollsById.computeIfAbsent(id, k -> new AtomicInteger());
      java.util.function.Predicate<JsonNode> forever = runsForever;
      JsonNode body = bodies.get(id);
      java.time.Instant created = createdAt.get(id);
      boolean young =
          runsForMillis > 0
              && created != null
              && java.time.Instant.now().isBefore(created.plusMillis(runsForMillis));
      if (n.incrementAndGet() <= pollsBeforeDone
          || young
          || (forever != null && body != null && forever.test(body))) {
        return "running";
      }
      seenToTheEnd.add(id);
      return generationsFail ? "failed" : "succeeded";
    }
  }

  public FakeProviders(Path dir) throws IOException {
    secrets = Files.createDirectories(dir.resolve("provider-secrets"));
    Loopback.writeSecret(secrets, RunwayBackend.SECRET, RUNWAY_KEY);
    Loopback.writeSecret(secrets, ReplicateBackend.SECRET, REPLICATE_TOKEN);
    mp4 = Loopback.sampleMp4(Files.createDirectories(dir.resolve("provider-mp4")));
    runway = new Provider(RUNWAY_KEY);
    replicate = new Provider(REPLICATE_TOKEN);
    installRunway();
    installReplicate();
  }

  private void installRunway() {
    Provider p = runway;
    p.server.route(
        "POST",
        "/v1/image_to_video",
        req -> p.create(req, id -> Resp.json(200, "{\"id\":\"" + id + "\"}")));
    p.server.route(
        "POST",
        "/v1/text_to_video",
        req -> p.create(req, id -> Resp.json(200, "{\"id\":\"" + id + "\"}")));
    p.server.route(
        "GET",
        "/v1/tasks/([A-Za-z0-9-]+)",
        req ->
            p.poll(
                req,
                "{\"error\":\"bad key\"}",
                (state, id, output) ->
                    switch (state) {
                      case "running" -> task(id, "RUNNING", ",\"progress\":0.5");
                      case "failed" ->
                          task(
                              id,
                              "FAILED",
                              ",\"failure\":\"The fake provider failed this generation\""
                                  + (p.failureReason == null
                                      ? ""
                                      : ",\"failureCode\":\"" + p.failureReason + "\""));
                      default -> task(id, "SUCCEEDED", ",\"output\":[\"" + output + "\"]");
                    }));
    p.server.route(
        "DELETE",
        "/v1/tasks/([A-Za-z0-9-]+)",
        req -> {
          p.cancels.incrementAndGet();
          p.cancelled.add(req.match().group(1));
          return new Resp(204, Map.of(), new byte[0], 0, 1, 0);
        });
    p.server.route(
        "GET",
        "/files/[A-Za-z0-9]+\\.mp4",
        req -> Resp.bytes(200, "video/mp4", p.file != null ? p.file : mp4));
  }

  private static Resp task(String id, String status, String extra) {
    return Resp.json(
        200,
        "{\"id\":\""
            + id
            + "\",\"status\":\""
            + status
            + "\",\"createdAt\":\"2026-11-24T11:00:00Z\""
            + extra
            + "}");
  }

  private void installReplicate() {
    Provider p = replicate;
    p.server.route(
        "POST",
        "/v1/models/[^/]+/[^/]+/predictions",
        req -> p.create(req, id -> prediction(id, "starting", "null")));
    p.server.route(
        "GET",
        "/v1/predictions/([a-z0-9]+)",
        req ->
            p.poll(
                req,
                "{\"detail\":\"bad token\"}",
                (state, id, output) ->
                    switch (state) {
                      case "running" -> prediction(id, "processing", "null");
                      case "failed" -> prediction(id, "failed", "null");
                      default -> prediction(id, "succeeded", "\"" + output + "\"");
                    }));
    p.server.route(
        "POST",
        "/v1/predictions/([a-z0-9]+)/cancel",
        req -> {
          p.cancels.incrementAndGet();
          p.cancelled.add(req.match().group(1));
          return prediction(req.match().group(1), "canceled", "null");
        });
    // The list of predictions, newest first, one page (Replicate pages by 100 with a cursor).
    p.server.route(
        "GET",
        "/v1/predictions",
        req -> {
          if (!p.authorized(req)) {
            return Resp.json(401, "{\"detail\":\"bad token\"}");
          }
          p.lists.incrementAndGet();
          StringBuilder results = new StringBuilder();
          java.util.List<String> ids;
          synchronized (p.made) {
            ids = new java.util.ArrayList<>(p.made);
          }
          java.util.Collections.reverse(ids);
          for (String id : ids) {
            String json = new String(prediction(id, "processing", "null").body(), "UTF-8");
            JsonNode body = p.bodies.get(id);
            String input = body == null ? "{}" : body.path("input").toString();
            json =
                json.replace("\"input\":{}", "\"input\":" + input)
                    .replace("2026-11-24T11:00:00.000Z", p.createdAt.get(id).toString());
            results.append(results.length() == 0 ? "" : ",").append(json);
          }
          return Resp.json(200, "{\"previous\":null,\"next\":null,\"results\":[" + results + "]}");
        });
    p.server.route("GET", "/files/[A-Za-z0-9]+\\.mp4", req -> Resp.bytes(200, "video/mp4", mp4));

    p.server.route(
        "GET",
        "/files/[A-Za-z0-9]+\\.mp4",
        req -> Resp.bytes(200, "video/mp4", p.file != null ? p.file : mp4));
  }

  private Resp prediction(String id, String status, String outputJson) {
    String base = replicate.server.base();
    String reason =
        replicate.failureReason == null
            ? "The fake provider failed this prediction"
            : replicate.failureReason;
    String error = "failed".equals(status) ? "\"" + reason + "\"" : "null";
    return Resp.json(
        200,
        "{\"id\":\""
            + id
            + "\",\"model\":\"wan-video/wan-2.2-t2v-fast\",\"version\":\"hidden\","
            + "\"input\":{},\"logs\":\"\",\"output\":"
            + outputJson
            + ",\"data_removed\":false,\"error\":"
            + error
            + ",\"status\":\""
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
            + "/cancel\"}}");
  }

  /**
   * A clip technical QA passes for a 5 s quick_social shot: H.264, 1280×720, 5 s (2 fps keeps it
   * small), written under {@code dir}.
   */
  public static byte[] qaPassingClip(Path dir) throws IOException {
    Path f = Files.createDirectories(dir).resolve("qa-passing-clip.mp4");
    com.aiprod.pipeline.media.PreviewEncoder.encode(
        f,
        com.aiprod.pipeline.media.PreviewCard.builder()
            .setTitle("a provider's clip")
            .setShotIndex(0)
            .setShotCount(1)
            .setJobId("job-provider")
            .setDurationSec(5.0)
            .setWidth(1280)
            .setHeight(720)
            .setFps(2)
            .build());
    return Files.readAllBytes(f);
  }

  /** Clients of both fakes (and every other backend of the default pricing table). */
  public BackendConfig config(String outputLocation) {
    return BackendConfig.builder()
        .backends(PricingTable.builtIn())
        .endpoint(BackendConfig.RUNWAY, runway.server.base())
        .endpoint(BackendConfig.REPLICATE, replicate.server.base())
        .secrets(SecretSource.dir(secrets))
        .requestTimeout(Duration.ofSeconds(5))
        .outputLocation(outputLocation)
        .build();
  }

  @Override
  public void close() {
    runway.server.close();
    replicate.server.close();
  }
}
