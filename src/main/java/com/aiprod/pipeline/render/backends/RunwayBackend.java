package com.aiprod.pipeline.render.backends;

import com.aiprod.pipeline.secrets.SecretResolver;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.util.Base64;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runway's developer API ({@code https://api.dev.runwayml.com}, header {@code X-Runway-Version:
 * }{@value #API_VERSION}, {@code Authorization: Bearer} the secret {@value #SECRET}).
 *
 * <p>Lifecycle: {@code POST /v1/image_to_video} (or {@code /v1/text_to_video}) answers {@code
 * {"id": …}}, the task id, which is the operation handle; {@code GET /v1/tasks/{id}} is polled:
 * {@code PENDING}, {@code THROTTLED}, {@code RUNNING} → RUNNING (with {@code progress} 0..1);
 * {@code SUCCEEDED} → the first URL of {@code output} (a signed URL that expires within 24–48 h, so
 * it is downloaded at once); {@code FAILED} → FAILED with {@code failureCode} and {@code failure};
 * {@code CANCELLED} → FAILED. A SUCCEEDED task without an output URL, or an unknown status, is a
 * lying answer: PERMANENT. Cancel is {@code DELETE /v1/tasks/{id}} (cancels a running task, deletes
 * a finished one).
 *
 * <p>Text-only prompts: {@code gen4_turbo} is an image-to-video model — {@code promptImage} is
 * required by the API and {@code text_to_video} does not accept it (it serves {@code veo3}, {@code
 * veo3.1}, {@code veo3.1_fast}). Our plans have no keyframe images, so for an image-to-video model
 * the client sends a neutral flat grey first frame (a PNG data URI of the output size) and the
 * prompt as {@code promptText}: the clip opens on that neutral frame and the prompt carries the
 * content. A {@code model} of pricing.json in {@link #TEXT_TO_VIDEO_MODELS} goes to {@code
 * /v1/text_to_video} instead (true text-to-video, 4/6/8 s clips).
 *
 * <p>Idempotency: Runway's API documents no idempotency key, so a submit whose answer was lost may
 * start (and bill) a second task; the caller persists the task id as soon as submit returns and
 * never resubmits a shot that has one. Cost: tasks report no cost (Runway bills credits per output
 * second), so {@link PollResult#reportedCostUsd()} is null and the caller prices the attempt from
 * pricing.json. Prompts longer than Runway's 1000 UTF-16 units are cut to 1000.
 */
public final class RunwayBackend implements VideoBackend {
  private static final Logger LOG = LoggerFactory.getLogger(RunwayBackend.class);

  public static final String DEFAULT_ENDPOINT = "https://api.dev.runwayml.com";
  public static final String API_VERSION = "2024-11-06";
  public static final String SECRET = "runway-api-key";
  public static final String DEFAULT_MODEL = "gen4_turbo";

  /** Models {@code POST /v1/text_to_video} accepts; any other model goes to image_to_video. */
  public static final Set<String> TEXT_TO_VIDEO_MODELS = Set.of("veo3", "veo3.1", "veo3.1_fast");

  static final int MAX_PROMPT_UTF16 = 1000;
  private static final Pattern TASK_ID = Pattern.compile("[A-Za-z0-9_-]{1,128}");

  /** This client's keyframes by ratio (a client lives as long as its worker's DoFn). */
  private final Map<String, String> keyframes = new ConcurrentHashMap<>();

  private final String id;
  private final String model;
  private final ProviderHttp http;
  private final SecretResolver resolver;
  private volatile String apiKey;

  RunwayBackend(String id, BackendConfig config, SecretResolver secrets) {
    this.id = id;
    String m = config.modelOf(id);
    this.model = m != null ? m : DEFAULT_MODEL;
    String endpoint = config.endpoint(BackendConfig.RUNWAY);
    this.http =
        new ProviderHttp(
            "Runway", URI.create((endpoint != null ? endpoint : DEFAULT_ENDPOINT) + "/"), config);
    if (secrets == null) {
      throw new IllegalStateException(
          "backend " + id + " needs --secretSource holding secret " + SECRET + " (Runway API key)");
    }
    this.resolver = secrets;
    this.apiKey = resolver.resolve(SECRET).text();
  }

  @Override
  public String id() {
    return id;
  }

  /** The Runway model this backend renders with. */
  public String model() {
    return model;
  }

  @Override
  public String submit(RenderRequest request) throws BackendException {
    boolean textToVideo = TEXT_TO_VIDEO_MODELS.contains(model);
    String prompt = truncateUtf16(request.prompt(), MAX_PROMPT_UTF16);
    ObjectNode body = ProviderHttp.MAPPER.createObjectNode();
    body.put("model", model);
    body.put("promptText", prompt);
    String ratio = ratio(request, textToVideo);
    body.put("ratio", ratio);
    body.put("duration", request.seconds());
    if (!textToVideo) {
      body.put("promptImage", keyframe(ratio));
      body.put("seed", request.seed() & 0xFFFFFFFFL);
    }
    String path = textToVideo ? "v1/text_to_video" : "v1/image_to_video";
    HttpRequest r =
        authorized(http.request(path))
            .header("Content-Type", "application/json")
            .POST(ProviderHttp.json(body))
            .build();
    JsonNode answer = http.createJson(r, "create task", apiKey, request.prompt(), prompt);
    String taskId = answer.path("id").asText("");
    if (!TASK_ID.matcher(taskId).matches()) {
      throw http.permanent("create task: the answer has no usable task id").asOutcomeUnknown();
    }
    return taskId;
  }

  @Override
  public PollResult poll(String operation) throws BackendException {
    checkTaskId(operation);
    HttpRequest r = authorized(http.request("v1/tasks/" + operation)).GET().build();
    JsonNode task = http.exchangeJson(r, "poll task", apiKey);
    String status = task.path("status").asText("");
    switch (status) {
      case "PENDING":
      case "THROTTLED":
      case "RUNNING":
        JsonNode p = task.get("progress");
        Double progress =
            p != null && p.isNumber() && p.asDouble() >= 0 && p.asDouble() <= 1
                ? p.asDouble()
                : null;
        return PollResult.running(progress);
      case "SUCCEEDED":
        JsonNode out = task.path("output");
        String url =
            out.isArray() && out.size() > 0 && out.get(0).isTextual() ? out.get(0).asText() : "";
        if (url.isBlank()) {
          throw http.permanent("poll task: status SUCCEEDED without an output URL (lying answer)");
        }
        return PollResult.succeeded(url, null);
      case "FAILED":
        String code = task.path("failureCode").asText("");
        String reason = task.path("failure").asText("");
        String text =
            ProviderHttp.clean(
                "Runway task FAILED"
                    + (code.isEmpty() ? "" : " (" + code + ")")
                    + (reason.isEmpty() ? "" : ": " + reason),
                apiKey);
        return inputFailure(code) ? PollResult.failedByInput(text) : PollResult.failed(text);
      case "CANCELLED":
      case "CANCELED":
        return PollResult.failed("Runway task CANCELLED");
      default:
        throw http.permanent(
            "poll task: unknown status \""
                + ProviderHttp.clean(status, apiKey)
                + "\" (malformed answer)");
    }
  }

  @Override
  public long fetch(PollResult succeeded, String destinationUri) throws BackendException {
    if (succeeded.status() != PollResult.Status.SUCCEEDED || succeeded.outputUri() == null) {
      throw new IllegalArgumentException("fetch needs a SUCCEEDED poll result with an output");
    }
    return http.download(succeeded.outputUri(), destinationUri, "Bearer " + apiKey);
  }

  @Override
  public long fetch(PollResult succeeded, RenderRequest request, String destinationUri)
      throws BackendException {
    if (succeeded.status() != PollResult.Status.SUCCEEDED || succeeded.outputUri() == null) {
      throw new IllegalArgumentException("fetch needs a SUCCEEDED poll result with an output");
    }
    return http.download(
        succeeded.outputUri(), destinationUri, "Bearer " + apiKey, request.notAfterMillis());
  }

  @Override
  public void cancel(String operation) {
    http.cancelQuietly(
        "Runway",
        operation,
        () -> {
          checkTaskId(operation);
          return authorized(http.request("v1/tasks/" + operation)).DELETE().build();
        },
        "cancel task",
        apiKey);
  }

  @Override
  public void refreshCredentials() {
    try {
      apiKey = resolver.refresh(SECRET).text();
    } catch (RuntimeException e) {
      LOG.warn("Runway: cannot refresh secret {}: {}", SECRET, e.getMessage());
    }
  }

  @Override
  public void close() {
    // HttpClient has no close in Java 17; its threads end when it is unreachable.
  }

  private HttpRequest.Builder authorized(HttpRequest.Builder b) {
    return b.header("Authorization", "Bearer " + apiKey)
        .header("X-Runway-Version", API_VERSION)
        .header("Accept", "application/json");
  }

  private void checkTaskId(String operation) throws BackendException {
    if (operation == null || !TASK_ID.matcher(operation).matches()) {
      throw BackendException.permanent("Runway: \"" + operation + "\" is not a task id");
    }
  }

  /**
   * Whether a {@code failureCode} blames the request: content moderation of inputs or outputs
   * ({@code SAFETY.*}), input preprocessing and invalid assets. {@code INTERNAL.*} and unknown or
   * missing codes are Runway's own failures.
   */
  static boolean inputFailure(String failureCode) {
    String c = failureCode.toUpperCase(java.util.Locale.ROOT);
    return c.startsWith("SAFETY.")
        || c.startsWith("INPUT_PREPROCESSING.")
        || c.startsWith("ASSET.");
  }

  /** Runway's {@code ratio} (output resolution) for the request's aspect ratio. */
  private String ratio(RenderRequest r, boolean textToVideo) throws BackendException {
    boolean hd = Math.min(r.width(), r.height()) >= 1080;
    switch (r.aspectRatio()) {
      case "16:9":
        return textToVideo && hd ? "1920:1080" : "1280:720";
      case "9:16":
        return textToVideo && hd ? "1080:1920" : "720:1280";
      case "1:1":
        if (!textToVideo) {
          return "960:960";
        }
      // fall through: Veo on Runway renders 16:9 and 9:16 only
      default:
        throw BackendException.refused(
            0, "Runway " + model + " cannot render aspect ratio " + r.aspectRatio());
    }
  }

  /**
   * A flat neutral grey PNG of the ratio's size, as a data URI (cached per ratio by this client).
   */
  String keyframe(String ratio) {
    return keyframes.computeIfAbsent(
        ratio,
        k -> {
          String[] wh = k.split(":");
          int w = Integer.parseInt(wh[0]);
          int h = Integer.parseInt(wh[1]);
          BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
          int grey = 0x808080;
          for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
              img.setRGB(x, y, grey);
            }
          }
          ByteArrayOutputStream out = new ByteArrayOutputStream();
          try {
            ImageIO.write(img, "png", out);
          } catch (IOException e) {
            throw new IllegalStateException("cannot encode the keyframe PNG", e);
          }
          return "data:image/png;base64," + Base64.getEncoder().encodeToString(out.toByteArray());
        });
  }

  /** The first {@code max} UTF-16 units, never splitting a surrogate pair. */
  static String truncateUtf16(String s, int max) {
    if (s.length() <= max) {
      return s;
    }
    int end = max;
    if (Character.isHighSurrogate(s.charAt(end - 1))) {
      end--;
    }
    return s.substring(0, end);
  }

  @Override
  public String toString() {
    return "RunwayBackend{" + id + ", model=" + model + "}";
  }
}
