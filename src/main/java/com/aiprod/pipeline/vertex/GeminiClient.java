package com.aiprod.pipeline.vertex;

import com.aiprod.pipeline.model.Redaction;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.annotation.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Gemini {@code generateContent} call on Vertex AI with a JSON response schema (DESIGN §6).
 *
 * <p>{@code POST
 * {endpoint}/v1/projects/{p}/locations/{l}/publishers/google/models/{model}:generateContent} with
 * {@code Authorization: Bearer <worker token>}; body {@code systemInstruction}, one {@code user}
 * content of text and {@code inlineData} parts, {@code generationConfig} with {@code
 * responseMimeType: application/json}, {@code responseSchema} and {@code temperature}. The answer
 * is the text of {@code candidates[0].content.parts}, with its {@code finishReason} and {@code
 * usageMetadata}.
 *
 * <p>Limits: every exchange (connect, headers and body) ends within the configured timeout; a body
 * over {@value #MAX_RESPONSE_BYTES} bytes is abandoned. 429, 5xx, timeouts and network errors are
 * retried up to {@link GeminiConfig#maxAttempts()} exchanges in all, with exponential backoff and
 * jitter (a server's {@code Retry-After} is honoured up to {@link
 * GeminiConfig#MAX_BACKOFF_MILLIS}); other 4xx and unusable 200 answers are not. Planning and
 * scoring calls are short, so the retries stay inside the call (a few seconds at most). Error
 * messages carry the HTTP status, Vertex's {@code error.status} and a shortened, redacted {@code
 * error.message}; never the token, never the prompt.
 *
 * <p>Thread-safe; one instance per DoFn instance (built in {@code @Setup}).
 */
public final class GeminiClient {
  private static final Logger LOG = LoggerFactory.getLogger(GeminiClient.class);
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** Largest response body read: 1 MiB. */
  public static final int MAX_RESPONSE_BYTES = 1 << 20;

  /** Longest excerpt of a provider error message kept in our messages. */
  static final int MAX_ERROR_MESSAGE = 200;

  /** One part of the user turn: text, or inline bytes with a MIME type. */
  public record Part(@Nullable String text, @Nullable String mimeType, @Nullable byte[] data) {
    public static Part text(String text) {
      return new Part(Objects.requireNonNull(text), null, null);
    }

    public static Part inline(String mimeType, byte[] data) {
      return new Part(null, Objects.requireNonNull(mimeType), Objects.requireNonNull(data));
    }
  }

  /**
   * A request.
   *
   * @param systemInstruction what the model is and must do
   * @param parts the user turn
   * @param responseSchema Vertex AI's OpenAPI-subset schema of the JSON answer
   * @param temperature sampling temperature
   */
  public record Request(
      String systemInstruction, List<Part> parts, ObjectNode responseSchema, double temperature) {
    public Request {
      parts = List.copyOf(parts);
    }
  }

  /** {@code usageMetadata}: tokens billed. Zero when the answer did not say. */
  public record Usage(long promptTokens, long candidatesTokens, long totalTokens)
      implements java.io.Serializable {}

  /**
   * A usable answer.
   *
   * @param text the JSON text the model wrote
   * @param finishReason {@code STOP} (or empty when the answer gave none)
   * @param attempts HTTP exchanges made
   * @param latencyMillis wall time, backoffs included
   * @param modelVersion {@code modelVersion} of the answer, or null
   */
  public record Response(
      String text,
      String finishReason,
      Usage usage,
      int attempts,
      long latencyMillis,
      @Nullable String modelVersion) {}

  private final GeminiConfig config;
  private final HttpClient http;

  public GeminiClient(GeminiConfig config) {
    this.config = config;
    HttpClient.Builder b =
        HttpClient.newBuilder()
            .connectTimeout(config.timeout())
            .followRedirects(HttpClient.Redirect.NEVER);
    if (config.endpoint().startsWith("http://")) {
      b.version(HttpClient.Version.HTTP_1_1); // loopback test servers; no h2c upgrade
    }
    this.http = b.build();
  }

  public GeminiConfig config() {
    return config;
  }

  /** Calls generateContent, retrying transient failures; see the class comment. */
  public Response generate(Request request) throws GeminiException {
    byte[] body = requestBody(request);
    long start = System.nanoTime();
    GeminiException last = null;
    for (int attempt = 1; attempt <= config.maxAttempts(); attempt++) {
      long retryAfterMillis = -1;
      try {
        return exchange(body, attempt, start);
      } catch (Failed f) {
        last = f.error.withAttempts(attempt, millisSince(start));
        retryAfterMillis = f.retryAfterMillis;
      }
      if (!last.retryable() || attempt == config.maxAttempts()) {
        break;
      }
      long wait = backoff(attempt, retryAfterMillis);
      LOG.warn(
          "Gemini {} attempt {}/{} failed ({}); retrying in {} ms",
          config.model(),
          attempt,
          config.maxAttempts(),
          last.getMessage(),
          wait);
      try {
        Thread.sleep(wait);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new GeminiException(
            GeminiException.Kind.TIMEOUT,
            last.httpStatus(),
            "interrupted while waiting to retry: " + last.getMessage(),
            attempt,
            millisSince(start),
            null);
      }
    }
    throw last;
  }

  /**
   * Wait before attempt {@code attempt + 1}: base × 2^(attempt-1), half of it jittered; or
   * Retry-After.
   */
  long backoff(int attempt, long retryAfterMillis) {
    if (retryAfterMillis >= 0) {
      return Math.min(retryAfterMillis, GeminiConfig.MAX_BACKOFF_MILLIS);
    }
    long base =
        Math.min(
            GeminiConfig.MAX_BACKOFF_MILLIS, config.backoffMillis() << Math.min(attempt - 1, 10));
    return base / 2 + (base <= 1 ? 0 : ThreadLocalRandom.current().nextLong(base / 2 + 1));
  }

  /** One failed exchange, for the retry loop. */
  private static final class Failed extends Exception {
    private static final long serialVersionUID = 1L;
    final transient GeminiException error;
    final long retryAfterMillis;

    Failed(GeminiException error, long retryAfterMillis) {
      super(null, null, false, false);
      this.error = error;
      this.retryAfterMillis = retryAfterMillis;
    }
  }

  private static Failed fail(GeminiException.Kind kind, int status, String message) {
    return fail(kind, status, message, null, -1);
  }

  private static Failed fail(
      GeminiException.Kind kind,
      int status,
      String message,
      @Nullable Usage usage,
      long retryAfterMillis) {
    return new Failed(new GeminiException(kind, status, message, 0, 0, usage), retryAfterMillis);
  }

  private Response exchange(byte[] body, int attempt, long start) throws Failed {
    String authorization;
    try {
      authorization = config.auth().authorizationHeader();
    } catch (IOException | RuntimeException e) {
      // The credential library's message names the credential source, never a token.
      throw fail(
          GeminiException.Kind.AUTH,
          0,
          "no access token for Vertex AI: " + shorten(e.getMessage()));
    }
    HttpRequest req =
        HttpRequest.newBuilder(config.generateContentUri())
            .timeout(config.timeout())
            .header("Authorization", authorization)
            .header("Content-Type", "application/json; charset=utf-8")
            .header("Accept", "application/json")
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build();
    CompletableFuture<HttpResponse<byte[]>> future =
        http.sendAsync(
            req, info -> new CappedBody(info.headers().firstValueAsLong("content-length")));
    HttpResponse<byte[]> resp;
    try {
      resp = future.get(config.timeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      future.cancel(true);
      throw fail(
          GeminiException.Kind.TIMEOUT,
          0,
          "no complete answer within " + config.timeout().toSeconds() + " s");
    } catch (InterruptedException e) {
      future.cancel(true);
      Thread.currentThread().interrupt();
      throw fail(GeminiException.Kind.TIMEOUT, 0, "interrupted");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof TooLarge) {
        throw fail(
            GeminiException.Kind.RESPONSE_TOO_LARGE,
            0,
            "answer larger than " + MAX_RESPONSE_BYTES + " bytes, abandoned");
      }
      if (cause instanceof HttpTimeoutException) {
        throw fail(
            GeminiException.Kind.TIMEOUT,
            0,
            "no answer within " + config.timeout().toSeconds() + " s");
      }
      throw fail(
          GeminiException.Kind.NETWORK,
          0,
          "request failed: "
              + (cause == null
                  ? e.toString()
                  : cause.getClass().getSimpleName() + " " + shorten(cause.getMessage())));
    }
    int status = resp.statusCode();
    if (status != 200) {
      String what = "HTTP " + status + errorSummary(resp.body());
      long retryAfter = retryAfterMillis(resp);
      if (status == 429) {
        throw fail(GeminiException.Kind.RATE_LIMITED, status, what, null, retryAfter);
      }
      if (status >= 500) {
        throw fail(GeminiException.Kind.SERVER, status, what, null, retryAfter);
      }
      throw fail(GeminiException.Kind.CLIENT, status, what);
    }
    return parse(resp.body(), attempt, start);
  }

  private Response parse(byte[] body, int attempt, long start) throws Failed {
    JsonNode root;
    try {
      root = MAPPER.readTree(body);
    } catch (IOException e) {
      throw fail(GeminiException.Kind.BAD_RESPONSE, 200, "HTTP 200 but the body is not JSON");
    }
    if (root == null || !root.isObject()) {
      throw fail(
          GeminiException.Kind.BAD_RESPONSE, 200, "HTTP 200 but the body is not a JSON object");
    }
    Usage usage = usage(root.path("usageMetadata"));
    JsonNode candidates = root.path("candidates");
    if (!candidates.isArray() || candidates.isEmpty()) {
      String block = root.path("promptFeedback").path("blockReason").asText("");
      if (!block.isEmpty()) {
        throw fail(
            GeminiException.Kind.BLOCKED, 200, "prompt blocked: " + shorten(block), usage, -1);
      }
      throw fail(GeminiException.Kind.BAD_RESPONSE, 200, "HTTP 200 without candidates", usage, -1);
    }
    JsonNode first = candidates.get(0);
    String finish = first.path("finishReason").asText("");
    if (!finish.isEmpty()
        && !"STOP".equals(finish)
        && !"FINISH_REASON_UNSPECIFIED".equals(finish)) {
      GeminiException.Kind kind =
          "MAX_TOKENS".equals(finish)
              ? GeminiException.Kind.BAD_RESPONSE
              : GeminiException.Kind.BLOCKED;
      throw fail(kind, 200, "answer stopped with finishReason " + shorten(finish), usage, -1);
    }
    StringBuilder text = new StringBuilder();
    JsonNode parts = first.path("content").path("parts");
    if (parts.isArray()) {
      for (JsonNode p : parts) {
        if (p.path("thought").asBoolean(false)) {
          continue; // a thinking summary, not the answer
        }
        if (p.path("text").isTextual()) {
          text.append(p.path("text").asText());
        }
      }
    }
    if (text.toString().isBlank()) {
      throw fail(
          GeminiException.Kind.BAD_RESPONSE,
          200,
          "HTTP 200 whose candidate has no text",
          usage,
          -1);
    }
    JsonNode version = root.path("modelVersion");
    return new Response(
        text.toString(),
        finish,
        usage,
        attempt,
        millisSince(start),
        version.isTextual() ? version.asText() : null);
  }

  static Usage usage(JsonNode u) {
    return new Usage(
        u.path("promptTokenCount").asLong(0),
        u.path("candidatesTokenCount").asLong(0),
        u.path("totalTokenCount").asLong(0));
  }

  /** {@code ": STATUS: message"} from a Google error body, shortened and redacted; "" otherwise. */
  static String errorSummary(byte[] body) {
    try {
      JsonNode err = MAPPER.readTree(body).path("error");
      if (!err.isObject()) {
        return "";
      }
      String status = err.path("status").asText("");
      String message = err.path("message").asText("");
      StringBuilder out = new StringBuilder();
      if (!status.isEmpty()) {
        out.append(' ').append(shorten(status));
      }
      if (!message.isEmpty()) {
        out.append(": ").append(shorten(message));
      }
      return out.toString();
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  /** One line, at most {@value #MAX_ERROR_MESSAGE} characters, tokens masked. */
  static String shorten(@Nullable String s) {
    if (s == null) {
      return "";
    }
    String one = Redaction.redactText(s.replaceAll("[\\p{Cntrl}]+", " ").strip());
    return one.length() <= MAX_ERROR_MESSAGE ? one : one.substring(0, MAX_ERROR_MESSAGE) + "…";
  }

  private static long retryAfterMillis(HttpResponse<?> resp) {
    return resp.headers()
        .firstValue("retry-after")
        .map(
            v -> {
              try {
                long seconds = Long.parseLong(v.strip());
                return seconds < 0 ? -1L : seconds * 1000;
              } catch (NumberFormatException e) {
                return -1L; // an HTTP date: use our own backoff
              }
            })
        .orElse(-1L);
  }

  private static long millisSince(long startNanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
  }

  /** The JSON body of {@code request}. */
  static byte[] requestBody(Request request) {
    ObjectNode root = MAPPER.createObjectNode();
    root.putObject("systemInstruction")
        .putArray("parts")
        .addObject()
        .put("text", request.systemInstruction());
    ObjectNode content = root.putArray("contents").addObject();
    content.put("role", "user");
    ArrayNode parts = content.putArray("parts");
    Base64.Encoder b64 = Base64.getEncoder();
    for (Part p : request.parts()) {
      if (p.text() != null) {
        parts.addObject().put("text", p.text());
      } else {
        parts
            .addObject()
            .putObject("inlineData")
            .put("mimeType", p.mimeType())
            .put("data", b64.encodeToString(p.data()));
      }
    }
    ObjectNode gen = root.putObject("generationConfig");
    gen.put("responseMimeType", "application/json");
    gen.set("responseSchema", request.responseSchema());
    gen.put("temperature", request.temperature());
    gen.put("candidateCount", 1);
    try {
      return MAPPER.writeValueAsBytes(root);
    } catch (IOException e) {
      throw new IllegalStateException("cannot serialize a Jackson tree", e);
    }
  }

  /** Signals a body over the cap. */
  static final class TooLarge extends IOException {
    private static final long serialVersionUID = 1L;

    TooLarge() {
      super("response too large");
    }
  }

  /** Collects a body up to {@link #MAX_RESPONSE_BYTES}, cancelling the stream past it. */
  static final class CappedBody implements HttpResponse.BodySubscriber<byte[]> {
    private final CompletableFuture<byte[]> result = new CompletableFuture<>();
    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    private final OptionalLong declaredLength;
    private Flow.Subscription subscription;

    CappedBody(OptionalLong declaredLength) {
      this.declaredLength = declaredLength;
    }

    @Override
    public CompletionStage<byte[]> getBody() {
      return result;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
      subscription = s;
      if (declaredLength.isPresent() && declaredLength.getAsLong() > MAX_RESPONSE_BYTES) {
        s.cancel();
        result.completeExceptionally(new TooLarge());
        return;
      }
      s.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(List<ByteBuffer> items) {
      if (result.isDone()) {
        return;
      }
      for (ByteBuffer b : items) {
        if (buffer.size() + (long) b.remaining() > MAX_RESPONSE_BYTES) {
          subscription.cancel();
          result.completeExceptionally(new TooLarge());
          return;
        }
        byte[] chunk = new byte[b.remaining()];
        b.get(chunk);
        buffer.write(chunk, 0, chunk.length);
      }
    }

    @Override
    public void onError(Throwable t) {
      result.completeExceptionally(t);
    }

    @Override
    public void onComplete() {
      result.complete(buffer.toByteArray());
    }
  }
}
