package com.aiprod.pipeline.render.backends;

import com.aiprod.pipeline.render.backends.BackendException.Kind;
import com.aiprod.pipeline.vertex.VertexAuth;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.annotation.Nullable;
import org.apache.beam.sdk.util.SerializableUtils;

/**
 * Vertex AI Veo (publisher model {@code google/{model}}, default {@value #DEFAULT_MODEL}), with the
 * worker's credentials ({@link VertexAuth}, no API key).
 *
 * <p>Lifecycle: {@code POST {endpoint}/v1/projects/{p}/locations/{l}/publishers/google/models/
 * {model}:predictLongRunning} with {@code instances: [{prompt}]} and {@code parameters:
 * {aspectRatio, durationSeconds, sampleCount: 1, storageUri, seed, resolution, generateAudio:
 * false}} answers a long-running operation whose {@code name} is the operation handle. It is polled
 * with {@code POST …/models/{model}:fetchPredictOperation {"operationName": name}}: not {@code
 * done} → RUNNING; {@code done} with {@code error} → FAILED (code and message); {@code done} with
 * {@code response.videos[0].gcsUri} → SUCCEEDED; {@code done} with no video but {@code
 * raiMediaFilteredCount > 0} → FAILED (filtered by Responsible AI, with the reasons given); {@code
 * done} with neither → PERMANENT (a lying answer). Veo writes the video itself under {@code
 * storageUri} (the request's {@link RenderRequest#outputPrefix()}, under {@code --outputLocation},
 * so production needs a {@code gs://} output location); an output outside that request's own {@code
 * storageUri} is refused as PERMANENT, so poll and fetch take the request. fetch copies it with
 * {@code FileSystems.copy} (server-side within GCS) after checking its size and its {@code ftyp}
 * box.
 *
 * <p>Not supported by the API, so not done: idempotent submission (predictLongRunning takes no
 * request id; the caller persists the operation name as soon as submit returns), cancellation
 * ({@link #cancel} only logs: the publisher-model operations have no cancel method, the generation
 * runs to its end and is billed), progress, a reported cost ({@link PollResult#reportedCostUsd()}
 * is null: the caller prices from pricing.json), 1:1 shots (Veo renders 16:9 and 9:16: PERMANENT).
 * On 401/403, {@link #refreshCredentials} drops the cached access token so the next call fetches a
 * new one.
 */
public final class VeoBackend implements VideoBackend {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(VeoBackend.class);

  public static final String DEFAULT_MODEL = "veo-3.0-generate-001";
  private static final Pattern LOCATION = Pattern.compile("[a-z0-9-]{1,40}");
  private static final Pattern PROJECT = Pattern.compile("[a-z0-9][a-z0-9.:-]{0,62}");
  private static final Pattern MODEL = Pattern.compile("[a-z0-9][a-z0-9.-]{0,127}");
  private static final Pattern OPERATION =
      Pattern.compile(
          "projects/([^/]{1,64})/locations/([a-z0-9-]{1,40})/publishers/google/models/([a-z0-9.-]{1,128})/operations/[A-Za-z0-9_-]{1,128}");

  private final String id;
  private final String model;
  private final String location;
  private final String modelPath;
  private final ProviderHttp http;
  private final @Nullable String outputLocation;
  private volatile VertexAuth auth;

  /** The last bearer value sent, removed from any provider text put in a message. */
  private volatile String lastAuthorization = "";

  VeoBackend(String id, BackendConfig config) {
    this.id = id;
    String m = config.modelOf(id);
    this.model = m != null ? m : DEFAULT_MODEL;
    if (!MODEL.matcher(model).matches()) {
      throw new IllegalArgumentException(
          "backend " + id + ": \"" + model + "\" is not a Veo model id");
    }
    String project = config.vertexProject();
    if (project == null || !PROJECT.matcher(project).matches()) {
      throw new IllegalStateException(
          "backend " + id + " needs the Vertex AI project (--project), got " + project);
    }
    this.location = config.vertexLocation();
    if (!LOCATION.matcher(location).matches()) {
      throw new IllegalArgumentException(
          "backend " + id + ": \"" + location + "\" is not a Vertex AI location");
    }
    String endpoint = config.endpoint(BackendConfig.VERTEX_VEO);
    String base =
        endpoint != null ? endpoint : "https://" + location + "-aiplatform.googleapis.com";
    this.http = new ProviderHttp("Vertex AI Veo", URI.create(base + "/"), config);
    this.modelPath =
        "v1/projects/" + project + "/locations/" + location + "/publishers/google/models/" + model;
    this.outputLocation = config.outputLocation();
    this.auth = config.vertexAuth();
  }

  @Override
  public String id() {
    return id;
  }

  /** The Veo model id this backend renders with. */
  public String model() {
    return model;
  }

  @Override
  public String submit(RenderRequest request) throws BackendException {
    if (!"16:9".equals(request.aspectRatio()) && !"9:16".equals(request.aspectRatio())) {
      throw BackendException.refused(
          0,
          "Vertex AI Veo cannot render aspect ratio "
              + request.aspectRatio()
              + " (16:9 and 9:16 only)");
    }
    ObjectNode body = ProviderHttp.MAPPER.createObjectNode();
    body.putArray("instances").addObject().put("prompt", request.prompt());
    ObjectNode p = body.putObject("parameters");
    p.put("aspectRatio", request.aspectRatio());
    p.put("durationSeconds", request.seconds());
    p.put("sampleCount", 1);
    p.put("storageUri", request.outputPrefix());
    p.put("seed", request.seed() & 0xFFFFFFFFL);
    p.put("resolution", Math.min(request.width(), request.height()) >= 1080 ? "1080p" : "720p");
    p.put("generateAudio", false);
    HttpRequest r =
        authorized(http.request(modelPath + ":predictLongRunning"))
            .header("Content-Type", "application/json")
            .POST(ProviderHttp.json(body))
            .build();
    JsonNode op = http.createJson(r, "predictLongRunning", request.prompt(), lastAuthorization);
    String name = op.path("name").asText("");
    try {
      checkOperation(name);
    } catch (BackendException e) {
      throw e.asOutcomeUnknown();
    }
    return name;
  }

  private void checkOperation(String name) throws BackendException {
    Matcher m = OPERATION.matcher(name == null ? "" : name);
    if (!m.matches() || !m.group(2).equals(location) || !m.group(3).equals(model)) {
      throw http.permanent("operation name is not one of this model's operations; refused");
    }
  }

  /**
   * Refused: a Veo output can only be accepted against the request's own {@code storageUri} (use
   * {@link #poll(String, RenderRequest)}).
   */
  @Override
  public PollResult poll(String operation) throws BackendException {
    throw BackendException.permanent(
        "Vertex AI Veo: an operation is polled with its request (its storageUri)");
  }

  @Override
  public PollResult poll(String operation, RenderRequest request) throws BackendException {
    checkOperation(operation);
    ObjectNode body = ProviderHttp.MAPPER.createObjectNode().put("operationName", operation);
    HttpRequest r =
        authorized(http.request(modelPath + ":fetchPredictOperation"))
            .header("Content-Type", "application/json")
            .POST(ProviderHttp.json(body))
            .build();
    JsonNode op = http.exchangeJson(r, "fetchPredictOperation", lastAuthorization);
    if (!op.path("done").asBoolean(false)) {
      return PollResult.running(null);
    }
    JsonNode error = op.get("error");
    if (error != null && error.isObject()) {
      String text =
          ProviderHttp.clean(
              "Veo operation failed (code "
                  + error.path("code").asText("?")
                  + "): "
                  + error.path("message").asText(""));
      // google.rpc.Code 3 INVALID_ARGUMENT and 9 FAILED_PRECONDITION blame the request.
      int code = error.path("code").asInt(-1);
      return code == 3 || code == 9 ? PollResult.failedByInput(text) : PollResult.failed(text);
    }
    JsonNode response = op.path("response");
    String uri = videoUri(response);
    if (uri == null) {
      int filtered = response.path("raiMediaFilteredCount").asInt(0);
      if (filtered > 0) {
        StringBuilder reasons = new StringBuilder();
        for (JsonNode reason : response.path("raiMediaFilteredReasons")) {
          reasons.append(reasons.length() == 0 ? "" : "; ").append(reason.asText());
        }
        return PollResult.failedByInput(
            ProviderHttp.clean(
                "Veo filtered the video (Responsible AI)"
                    + (reasons.length() == 0 ? "" : ": " + reasons)));
      }
      throw http.permanent(
          "fetchPredictOperation: done without a video and without an error (lying answer)");
    }
    checkOutput(uri, request);
    return PollResult.succeeded(uri, null);
  }

  private static @Nullable String videoUri(JsonNode response) {
    JsonNode videos = response.path("videos");
    if (videos.isArray() && videos.size() > 0) {
      JsonNode u = videos.get(0).get("gcsUri");
      if (u != null && u.isTextual() && !u.asText().isBlank()) {
        return u.asText();
      }
    }
    return null;
  }

  /**
   * The output must be where this request told Veo to write: under its own {@code storageUri}
   * ({@link RenderRequest#outputPrefix()}), itself under {@code --outputLocation} (or, without one,
   * in {@code gs://}), as a plain object path. Any other object, even another shot's or another
   * tenant's under the same output location, is refused.
   */
  private void checkOutput(String uri, RenderRequest request) throws BackendException {
    String prefix = request.outputPrefix();
    if (uri.contains("/../")
        || uri.endsWith("/..")
        || uri.contains("/./")
        || uri.contains("\\")
        || uri.indexOf('%') >= 0
        || uri.chars().anyMatch(Character::isISOControl)) {
      throw http.permanent(
          "output " + ProviderHttp.clean(uri) + " is not a plain object path; refused");
    }
    if (prefix == null || !prefix.endsWith("/") || prefix.contains("/../")) {
      throw http.permanent("the request's storageUri is not a folder; output refused");
    }
    if (outputLocation != null) {
      String root = outputLocation.endsWith("/") ? outputLocation : outputLocation + "/";
      if (!prefix.startsWith(root)) {
        throw http.permanent("the request's storageUri is outside --outputLocation; refused");
      }
    } else if (!prefix.startsWith("gs://")) {
      throw http.permanent("the request's storageUri is not in gs://; refused");
    }
    if (!uri.startsWith(prefix) || uri.length() == prefix.length()) {
      throw http.permanent(
          "output "
              + ProviderHttp.clean(uri)
              + " is outside the request's storageUri "
              + ProviderHttp.clean(prefix)
              + "; refused");
    }
  }

  /** Refused: see {@link #poll(String)}. */
  @Override
  public long fetch(PollResult succeeded, String destinationUri) throws BackendException {
    throw BackendException.permanent(
        "Vertex AI Veo: an output is fetched with its request (its storageUri)");
  }

  @Override
  public long fetch(PollResult succeeded, RenderRequest request, String destinationUri)
      throws BackendException {
    if (succeeded.status() != PollResult.Status.SUCCEEDED || succeeded.outputUri() == null) {
      throw new IllegalArgumentException("fetch needs a SUCCEEDED poll result with an output");
    }
    checkOutput(succeeded.outputUri(), request);
    return Mp4Sink.copy(
        succeeded.outputUri(), destinationUri, http.maxDownloadBytes(), http.provider());
  }

  /** Veo's publisher-model operations cannot be cancelled: the generation runs to its end. */
  @Override
  public void cancel(String operation) {
    LOG.info(
        "Vertex AI Veo has no cancel for operation {}: it runs to its end and is billed",
        operation);
  }

  @Override
  public void refreshCredentials() {
    // A fresh copy holds no cached access token: the next call fetches a new one.
    auth = SerializableUtils.clone(auth);
  }

  @Override
  public void close() {
    // HttpClient has no close in Java 17.
  }

  private HttpRequest.Builder authorized(HttpRequest.Builder b) throws BackendException {
    String header;
    try {
      header = auth.authorizationHeader();
    } catch (IOException | RuntimeException e) {
      throw new BackendException(
          Kind.AUTH,
          0,
          null,
          "Vertex AI Veo: no access token from " + auth + ": " + e.getClass().getSimpleName(),
          e);
    }
    lastAuthorization =
        header.startsWith("Bearer ") ? header.substring("Bearer ".length()) : header;
    return b.header("Authorization", header).header("Accept", "application/json");
  }

  @Override
  public String toString() {
    return "VeoBackend{" + id + ", model=" + model + ", location=" + location + "}";
  }
}
