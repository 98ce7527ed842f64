package com.aiprod.pipeline.vertex;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.Executors;
import java.util.function.Function;

/**
 * A loopback Vertex AI that speaks {@code generateContent}: checks the path, the bearer token and
 * the request's shape (contents with text and inlineData parts, generationConfig with
 * responseMimeType application/json and an OBJECT responseSchema), then plays scripted answers in
 * order (the last one repeats). Every request is recorded; a request that breaks the contract is
 * answered 400 with a Google error body and recorded in {@link #problems()}.
 */
public final class FakeGeminiServer implements AutoCloseable {
  public static final String TOKEN = "test-token-7f3a9c";
  public static final String PROJECT = "test-project";
  public static final String LOCATION = "us-central1";
  public static final String MODEL = "gemini-test";

  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** One scripted answer. */
  public record Answer(
      int status, String body, Map<String, String> headers, long delayMillis, long dripMillis) {
    public Answer(int status, String body, Map<String, String> headers, long delayMillis) {
      this(status, body, headers, delayMillis, 0);
    }

    /** A 200 generateContent answer whose candidate text is {@code text} (finishReason STOP). */
    public static Answer text(String text) {
      return candidate(text, "STOP");
    }

    public static Answer candidate(String text, String finishReason) {
      ObjectNode root = MAPPER.createObjectNode();
      ObjectNode c = root.putArray("candidates").addObject();
      ObjectNode content = c.putObject("content");
      content.put("role", "model");
      content.putArray("parts").addObject().put("text", text);
      c.put("finishReason", finishReason);
      c.put("index", 0);
      root.putObject("usageMetadata")
          .put("promptTokenCount", 1234)
          .put("candidatesTokenCount", 321)
          .put("totalTokenCount", 1555);
      root.put("modelVersion", MODEL + "-001");
      return new Answer(200, root.toString(), Map.of(), 0);
    }

    /** An answer whose text is {@code json} serialized. */
    public static Answer json(JsonNode json) {
      return text(json.toString());
    }

    /** A Google error body {@code {"error": {code, message, status}}}. */
    public static Answer error(int code, String status, String message) {
      ObjectNode root = MAPPER.createObjectNode();
      root.putObject("error").put("code", code).put("message", message).put("status", status);
      return new Answer(code, root.toString(), Map.of(), 0);
    }

    public static Answer raw(int status, String body) {
      return new Answer(status, body, Map.of(), 0);
    }

    public Answer withHeader(String name, String value) {
      Map<String, String> h = new java.util.HashMap<>(headers);
      h.put(name, value);
      return new Answer(status, body, h, delayMillis, dripMillis);
    }

    /** Headers after {@code millis}. */
    public Answer delayed(long millis) {
      return new Answer(status, body, headers, millis, dripMillis);
    }

    /** Headers at once, then the body in 20 pieces spread over {@code millis} (chunked). */
    public Answer dripping(long millis) {
      return new Answer(status, body, headers, delayMillis, millis);
    }
  }

  /** One recorded request. */
  public record Received(String method, String path, String authorization, JsonNode body) {
    /** The inlineData parts of the user turn. */
    public List<JsonNode> inlineParts() {
      List<JsonNode> out = new ArrayList<>();
      for (JsonNode c : body.path("contents")) {
        for (JsonNode p : c.path("parts")) {
          if (p.has("inlineData")) {
            out.add(p.get("inlineData"));
          }
        }
      }
      return out;
    }

    /** The text parts of the user turn, joined. */
    public String userText() {
      StringBuilder sb = new StringBuilder();
      for (JsonNode c : body.path("contents")) {
        for (JsonNode p : c.path("parts")) {
          if (p.has("text")) {
            sb.append(p.get("text").asText()).append('\n');
          }
        }
      }
      return sb.toString();
    }

    public JsonNode responseSchema() {
      return body.path("generationConfig").path("responseSchema");
    }
  }

  private final HttpServer server;
  private final Deque<Answer> script = new ConcurrentLinkedDeque<>();
  private final List<Received> received = Collections.synchronizedList(new ArrayList<>());
  private final List<String> problems = Collections.synchronizedList(new ArrayList<>());
  private volatile Function<Received, Answer> responder;

  public FakeGeminiServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setExecutor(Executors.newCachedThreadPool());
    server.createContext("/", this::handle);
    server.start();
  }

  /** Answers to play in order; the last one repeats. */
  public FakeGeminiServer script(Answer... answers) {
    script.clear();
    script.addAll(List.of(answers));
    return this;
  }

  /** Answers computed from each request (takes precedence over the script). */
  public FakeGeminiServer respondWith(Function<Received, Answer> f) {
    responder = f;
    return this;
  }

  public String endpoint() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  public String path() {
    return "/v1/projects/"
        + PROJECT
        + "/locations/"
        + LOCATION
        + "/publishers/google/models/"
        + MODEL
        + ":generateContent";
  }

  /** A configuration pointing here, with the fixed token, short timeout and backoffs. */
  public GeminiConfig config(int timeoutSeconds) {
    return GeminiConfig.of(
            endpoint(), PROJECT, LOCATION, MODEL, VertexAuth.fixedToken(TOKEN), timeoutSeconds)
        .withRetries(3, 10);
  }

  public List<Received> received() {
    synchronized (received) {
      return List.copyOf(received);
    }
  }

  public List<String> problems() {
    synchronized (problems) {
      return List.copyOf(problems);
    }
  }

  private Answer next(Received r) {
    Function<Received, Answer> f = responder;
    if (f != null) {
      return f.apply(r);
    }
    Answer a = script.size() > 1 ? script.pollFirst() : script.peekFirst();
    return a == null ? Answer.error(500, "INTERNAL", "no scripted answer") : a;
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      byte[] in = ex.getRequestBody().readAllBytes();
      JsonNode body;
      try {
        body = MAPPER.readTree(in);
      } catch (IOException e) {
        body = MAPPER.createObjectNode();
        problems.add("request body is not JSON");
      }
      String auth = ex.getRequestHeaders().getFirst("Authorization");
      Received r = new Received(ex.getRequestMethod(), ex.getRequestURI().getPath(), auth, body);
      received.add(r);
      String problem = check(r, ex.getRequestHeaders().getFirst("Content-Type"));
      Answer a;
      if (problem != null) {
        problems.add(problem);
        a =
            problem.startsWith("auth")
                ? Answer.error(
                    401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
                : Answer.error(400, "INVALID_ARGUMENT", problem);
      } else {
        a = next(r);
      }
      if (a.delayMillis() > 0) {
        try {
          Thread.sleep(a.delayMillis());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      byte[] out = a.body().getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().set("Content-Type", "application/json; charset=UTF-8");
      a.headers().forEach((k, v) -> ex.getResponseHeaders().set(k, v));
      ex.sendResponseHeaders(
          a.status(), a.dripMillis() > 0 ? 0 : out.length == 0 ? -1 : out.length);
      try (OutputStream os = ex.getResponseBody()) {
        if (a.dripMillis() > 0) {
          int piece = Math.max(1, out.length / 20);
          for (int i = 0; i < out.length; i += piece) {
            os.write(out, i, Math.min(piece, out.length - i));
            os.flush();
            Thread.sleep(a.dripMillis() / 20);
          }
        } else {
          os.write(out);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (IOException clientGone) {
        // the client gave up (timeout tests)
      }
    }
  }

  /** What is wrong with a request, or null. */
  private String check(Received r, String contentType) {
    if (!"POST".equals(r.method())) {
      return "method " + r.method();
    }
    if (!path().equals(r.path())) {
      return "path " + r.path();
    }
    if (!("Bearer " + TOKEN).equals(r.authorization())) {
      return "auth header missing or wrong";
    }
    if (contentType == null || !contentType.startsWith("application/json")) {
      return "content type " + contentType;
    }
    JsonNode contents = r.body().path("contents");
    if (!contents.isArray() || contents.isEmpty()) {
      return "contents must be a non-empty array";
    }
    for (JsonNode c : contents) {
      if (!"user".equals(c.path("role").asText())) {
        return "contents[].role must be user";
      }
      JsonNode parts = c.path("parts");
      if (!parts.isArray() || parts.isEmpty()) {
        return "contents[].parts must be a non-empty array";
      }
      for (JsonNode p : parts) {
        boolean text = p.path("text").isTextual();
        JsonNode inline = p.path("inlineData");
        boolean data =
            inline.isObject()
                && inline.path("mimeType").isTextual()
                && inline.path("data").isTextual();
        if (text == data) {
          return "each part must have exactly one of text or inlineData{mimeType,data}";
        }
        if (data) {
          try {
            java.util.Base64.getDecoder().decode(inline.path("data").asText());
          } catch (IllegalArgumentException e) {
            return "inlineData.data is not base64";
          }
        }
      }
    }
    JsonNode sys = r.body().path("systemInstruction").path("parts");
    if (!sys.isArray() || sys.isEmpty() || !sys.get(0).path("text").isTextual()) {
      return "systemInstruction.parts[0].text missing";
    }
    JsonNode gen = r.body().path("generationConfig");
    if (!"application/json".equals(gen.path("responseMimeType").asText())) {
      return "generationConfig.responseMimeType must be application/json";
    }
    JsonNode schema = gen.path("responseSchema");
    if (!"OBJECT".equals(schema.path("type").asText()) || !schema.path("properties").isObject()) {
      return "generationConfig.responseSchema must be an OBJECT schema with properties";
    }
    if (!gen.path("temperature").isNumber()) {
      return "generationConfig.temperature must be a number";
    }
    String unknown =
        unknownKeys(r.body(), List.of("contents", "systemInstruction", "generationConfig"));
    return unknown;
  }

  private static String unknownKeys(JsonNode node, List<String> allowed) {
    var it = node.fieldNames();
    while (it.hasNext()) {
      String k = it.next();
      if (!allowed.contains(k)) {
        return "unknown request field " + k;
      }
    }
    return null;
  }

  /** Counts the schema's property names at every depth (to check what the client asked for). */
  public static List<String> propertyNames(JsonNode schema) {
    List<String> out = new ArrayList<>();
    collect(schema, out);
    return out;
  }

  private static void collect(JsonNode schema, List<String> out) {
    JsonNode props = schema.path("properties");
    props
        .fieldNames()
        .forEachRemaining(
            n -> {
              out.add(n);
              collect(props.get(n), out);
            });
    if (schema.has("items")) {
      collect(schema.get("items"), out);
    }
  }

  public static ArrayNode array() {
    return MAPPER.createArrayNode();
  }

  public static ObjectNode object() {
    return MAPPER.createObjectNode();
  }

  @Override
  public void close() {
    server.stop(0);
    ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
  }
}
