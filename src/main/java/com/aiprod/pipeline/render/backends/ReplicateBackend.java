package com.aiprod.pipeline.render.backends;

import com.aiprod.pipeline.secrets.SecretResolver;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpRequest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replicate's HTTP API ({@code https://api.replicate.com}, {@code Authorization: Bearer} the secret
 * {@value #SECRET}).
 *
 * <p>Lifecycle: {@code POST /v1/models/{owner}/{name}/predictions} (an official model, named {@code
 * owner/name} in pricing.json's {@code model}) or {@code POST /v1/predictions} with {@code version}
 * (a model named {@code owner/name:version}) creates a prediction; its {@code id} is the operation
 * handle. The client never sends {@code Prefer: wait} (it would hold a worker thread up to 60 s);
 * it sends {@code Cancel-After: }{@value #CANCEL_AFTER}, so a prediction stuck at the provider
 * stops (and stops billing) by itself within the longest preset deadline. {@code GET
 * /v1/predictions/{id}} is polled: {@code starting}, {@code processing} → RUNNING; {@code
 * succeeded} → the output URL ({@code output} is a URL string, or an array whose first element is
 * one); {@code failed} → FAILED with {@code error}; {@code canceled} and {@code aborted} → FAILED.
 * A succeeded prediction without an output URL, or an unknown status, is PERMANENT. Cancel is
 * {@code POST /v1/predictions/{id}/cancel}.
 *
 * <p>Input: the Wan 2.2 text-to-video schema ({@code wan-video/wan-2.2-t2v-fast}): {@code prompt},
 * {@code num_frames} (81–121), {@code frames_per_second} (5–30), {@code resolution} ({@code
 * 480p}/{@code 720p}), {@code aspect_ratio} ({@code 16:9}/{@code 9:16}), {@code seed}. The clip
 * length is {@code (num_frames − 1) / frames_per_second}: the requested fps is kept when {@code
 * seconds × fps + 1} frames fit in 121, else lowered until they do (5 s → at most 24 fps), so the
 * duration is exact and the fps may be below the preset's (technical QA then says so). A 1:1 shot
 * is refused (PERMANENT): the model renders 16:9 and 9:16 only.
 *
 * <p>Idempotency: Replicate documents no idempotency key. A create whose answer was lost (timeout,
 * reset, 5xx) is looked for in the prediction list before any other create ({@link
 * #findSubmitted}); what is found is polled (or cancelled), so no prediction is left untracked.
 * {@code Cancel-After} bounds the cost of one that could not be found. Cost: predictions report
 * {@code metrics.predict_time} (hardware seconds), but official models such as Wan are billed per
 * output (video seconds at 16 fps), not per hardware second, and the answer carries no price:
 * {@link PollResult#reportedCostUsd()} is null and the caller prices the attempt from pricing.json.
 */
public final class ReplicateBackend implements VideoBackend {
  private static final Logger LOG = LoggerFactory.getLogger(ReplicateBackend.class);

  public static final String DEFAULT_ENDPOINT = "https://api.replicate.com";
  public static final String SECRET = "replicate-api-token";
  public static final String DEFAULT_MODEL = "wan-video/wan-2.2-t2v-fast";
  public static final String CANCEL_AFTER = "30m";

  static final int MIN_FRAMES = 81;
  static final int MAX_FRAMES = 121;
  static final int MIN_FPS = 5;
  static final int MAX_FPS = 30;
  private static final Pattern MODEL =
      Pattern.compile(
          "([a-z0-9][a-z0-9._-]{0,63})/([a-z0-9][a-z0-9._-]{0,127})(?::([0-9a-f]{64}))?");
  private static final Pattern PREDICTION_ID = Pattern.compile("[A-Za-z0-9_-]{1,128}");

  private final String id;
  private final String model;
  private final Matcher modelParts;
  private final ProviderHttp http;
  private final SecretResolver resolver;
  private volatile String token;

  ReplicateBackend(String id, BackendConfig config, SecretResolver secrets) {
    this.id = id;
    String m = config.modelOf(id);
    this.model = m != null ? m : DEFAULT_MODEL;
    this.modelParts = MODEL.matcher(model);
    if (!modelParts.matches()) {
      throw new IllegalArgumentException(
          "backend "
              + id
              + ": Replicate model \""
              + model
              + "\" is not owner/name or owner/name:version");
    }
    String endpoint = config.endpoint(BackendConfig.REPLICATE);
    this.http =
        new ProviderHttp(
            "Replicate",
            URI.create((endpoint != null ? endpoint : DEFAULT_ENDPOINT) + "/"),
            config);
    if (secrets == null) {
      throw new IllegalStateException(
          "backend "
              + id
              + " needs --secretSource holding secret "
              + SECRET
              + " (Replicate API token)");
    }
    this.resolver = secrets;
    this.token = resolver.resolve(SECRET).text();
  }

  @Override
  public String id() {
    return id;
  }

  /** The Replicate model this backend renders with. */
  public String model() {
    return model;
  }

  @Override
  public String submit(RenderRequest request) throws BackendException {
    ObjectNode input = ProviderHttp.MAPPER.createObjectNode();
    input.put("prompt", request.prompt());
    int[] framesFps = framesAndFps(request.seconds(), request.fps());
    input.put("num_frames", framesFps[0]);
    input.put("frames_per_second", framesFps[1]);
    input.put("resolution", Math.min(request.width(), request.height()) >= 720 ? "720p" : "480p");
    if (!"16:9".equals(request.aspectRatio()) && !"9:16".equals(request.aspectRatio())) {
      throw BackendException.refused(
          0,
          "Replicate "
              + model
              + " cannot render aspect ratio "
              + request.aspectRatio()
              + " (16:9 and 9:16 only)");
    }
    input.put("aspect_ratio", request.aspectRatio());
    input.put("seed", request.seed() & 0x7FFFFFFFL);
    ObjectNode body = ProviderHttp.MAPPER.createObjectNode();
    String path;
    String version = modelParts.group(3);
    if (version != null) {
      body.put("version", version);
      path = "v1/predictions";
    } else {
      path = "v1/models/" + modelParts.group(1) + "/" + modelParts.group(2) + "/predictions";
    }
    body.set("input", input);
    HttpRequest r =
        authorized(http.request(path))
            .header("Content-Type", "application/json")
            .header("Cancel-After", CANCEL_AFTER)
            .POST(ProviderHttp.json(body))
            .build();
    JsonNode prediction = http.createJson(r, "create prediction", token, request.prompt());
    String predictionId = prediction.path("id").asText("");
    if (!PREDICTION_ID.matcher(predictionId).matches()) {
      throw http.permanent("create prediction: the answer has no usable prediction id")
          .asOutcomeUnknown();
    }
    return predictionId;
  }

  @Override
  public boolean findsLostSubmits() {
    return true;
  }

  /**
   * Looks through {@code GET /v1/predictions} (newest first, at most {@value #FIND_PAGES} pages of
   * 100) for a prediction created since {@code sinceMillis} (less {@value #CLOCK_SKEW_MILLIS} ms of
   * clock skew) whose input carries this request's marker: its prompt, seed and frame count.
   * Replicate predictions take no metadata, and the seed is the shot's own (hash of job and index),
   * so prompt and seed together name the shot. Pages are followed through their {@code cursor} on
   * the API's own origin only.
   */
  @Override
  public String findSubmitted(RenderRequest request, long sinceMillis) throws BackendException {
    int[] framesFps = framesAndFps(request.seconds(), request.fps());
    long seed = request.seed() & 0x7FFFFFFFL;
    long since = sinceMillis - CLOCK_SKEW_MILLIS;
    String path = "v1/predictions";
    for (int page = 0; page < FIND_PAGES; page++) {
      HttpRequest r = authorized(http.request(path)).GET().build();
      JsonNode list = http.exchangeJson(r, "list predictions", token, request.prompt());
      JsonNode results = list.path("results");
      if (!results.isArray()) {
        throw http.permanent("list predictions: the answer has no results (malformed answer)");
      }
      boolean older = false;
      for (JsonNode p : results) {
        long created;
        try {
          created = java.time.Instant.parse(p.path("created_at").asText("")).toEpochMilli();
        } catch (java.time.format.DateTimeParseException e) {
          continue;
        }
        if (created < since) {
          older = true;
          continue;
        }
        JsonNode in = p.path("input");
        String id = p.path("id").asText("");
        if (PREDICTION_ID.matcher(id).matches()
            && request.prompt().equals(in.path("prompt").asText(null))
            && in.path("seed").asLong(-1) == seed
            && in.path("num_frames").asInt(-1) == framesFps[0]) {
          return id;
        }
      }
      String next = list.path("next").asText("");
      String cursor = cursor(next);
      if (older || cursor == null) {
        return null;
      }
      path = "v1/predictions?cursor=" + cursor;
    }
    return null;
  }

  static final int FIND_PAGES = 3;
  static final long CLOCK_SKEW_MILLIS = 120_000;
  private static final Pattern CURSOR = Pattern.compile("[?&]cursor=([A-Za-z0-9%._~-]{1,512})");

  /** The cursor of a {@code next} URL on the API's origin; null when there is none. */
  private @javax.annotation.Nullable String cursor(String next) {
    if (next.isEmpty()) {
      return null;
    }
    try {
      if (!ProviderHttp.sameOrigin(URI.create(next), http.apiBase())) {
        return null;
      }
    } catch (IllegalArgumentException e) {
      return null;
    }
    Matcher m = CURSOR.matcher(next);
    return m.find() ? m.group(1) : null;
  }

  /** {num_frames, frames_per_second} for a clip of {@code seconds} at about {@code fps}. */
  static int[] framesAndFps(int seconds, int fps) {
    int f = Math.max(MIN_FPS, Math.min(MAX_FPS, fps));
    f = Math.min(f, (MAX_FRAMES - 1) / Math.max(1, seconds));
    f = Math.max(f, (MIN_FRAMES - 1 + seconds - 1) / Math.max(1, seconds));
    int frames = Math.max(MIN_FRAMES, Math.min(MAX_FRAMES, seconds * f + 1));
    return new int[] {frames, f};
  }

  @Override
  public PollResult poll(String operation) throws BackendException {
    checkId(operation);
    HttpRequest r = authorized(http.request("v1/predictions/" + operation)).GET().build();
    JsonNode p = http.exchangeJson(r, "poll prediction", token);
    String status = p.path("status").asText("");
    switch (status) {
      case "starting":
      case "processing":
        return PollResult.running(null);
      case "succeeded":
        String url = outputUrl(p.get("output"));
        if (url == null) {
          throw http.permanent(
              "poll prediction: status succeeded without an output URL (lying answer)");
        }
        return PollResult.succeeded(url, null);
      case "failed":
        String error = p.path("error").isTextual() ? p.path("error").asText() : "";
        String text =
            ProviderHttp.clean(
                "Replicate prediction failed" + (error.isEmpty() ? "" : ": " + error), token);
        return inputFailure(error) ? PollResult.failedByInput(text) : PollResult.failed(text);
      case "canceled":
      case "aborted":
        return PollResult.failed("Replicate prediction " + status);
      default:
        throw http.permanent(
            "poll prediction: unknown status \""
                + ProviderHttp.clean(status, token)
                + "\" (malformed answer)");
    }
  }

  /**
   * Whether a failed prediction's {@code error} blames the input. Replicate gives no code, only the
   * model's text: safety checkers ("NSFW content detected", "flagged as sensitive") and input
   * validation ("invalid input", "prompt ...") blame the request; anything else (out of memory, a
   * crashed worker, an empty error) is Replicate's.
   */
  static boolean inputFailure(String error) {
    return INPUT_FAILURE.matcher(error).find();
  }

  private static final Pattern INPUT_FAILURE =
      Pattern.compile(
          "(?i)nsfw|sensitive|safety|content polic|moderat|flagged|invalid input|input validation"
              + "|prompt");

  private static String outputUrl(JsonNode output) {
    JsonNode o = output;
    if (o != null && o.isArray() && o.size() > 0) {
      o = o.get(0);
    }
    if (o != null && o.isTextual() && !o.asText().isBlank()) {
      return o.asText();
    }
    return null;
  }

  @Override
  public long fetch(PollResult succeeded, String destinationUri) throws BackendException {
    if (succeeded.status() != PollResult.Status.SUCCEEDED || succeeded.outputUri() == null) {
      throw new IllegalArgumentException("fetch needs a SUCCEEDED poll result with an output");
    }
    return http.download(succeeded.outputUri(), destinationUri, "Bearer " + token);
  }

  @Override
  public long fetch(PollResult succeeded, RenderRequest request, String destinationUri)
      throws BackendException {
    if (succeeded.status() != PollResult.Status.SUCCEEDED || succeeded.outputUri() == null) {
      throw new IllegalArgumentException("fetch needs a SUCCEEDED poll result with an output");
    }
    return http.download(
        succeeded.outputUri(), destinationUri, "Bearer " + token, request.notAfterMillis());
  }

  @Override
  public void cancel(String operation) {
    http.cancelQuietly(
        "Replicate",
        operation,
        () -> {
          checkId(operation);
          return authorized(http.request("v1/predictions/" + operation + "/cancel"))
              .POST(HttpRequest.BodyPublishers.noBody())
              .build();
        },
        "cancel prediction",
        token);
  }

  @Override
  public void refreshCredentials() {
    try {
      token = resolver.refresh(SECRET).text();
    } catch (RuntimeException e) {
      LOG.warn("Replicate: cannot refresh secret {}: {}", SECRET, e.getMessage());
    }
  }

  @Override
  public void close() {
    // HttpClient has no close in Java 17.
  }

  private HttpRequest.Builder authorized(HttpRequest.Builder b) {
    return b.header("Authorization", "Bearer " + token).header("Accept", "application/json");
  }

  private static void checkId(String operation) throws BackendException {
    if (operation == null || !PREDICTION_ID.matcher(operation).matches()) {
      throw BackendException.permanent("Replicate: \"" + operation + "\" is not a prediction id");
    }
  }

  @Override
  public String toString() {
    return "ReplicateBackend{" + id + ", model=" + model + "}";
  }
}
