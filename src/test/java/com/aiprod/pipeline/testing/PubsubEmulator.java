package com.aiprod.pipeline.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A Pub/Sub emulator ({@code gcloud beta emulators pubsub start}) on a free loopback port, for
 * tests, in project {@link #PROJECT}.
 *
 * <p>As a JUnit 5 extension: {@code @RegisterExtension static final PubsubEmulator PUBSUB = new
 * PubsubEmulator();} starts it before the class's tests and stops it after them. It is also an
 * {@link AutoCloseable} ({@link #start()} / {@link #close()}). Stopping destroys the whole process
 * tree (gcloud starts a shell which starts a JVM).
 *
 * <p>Topics, subscriptions, publishing and pulling go through the emulator's REST API. Names are
 * plain ids (3+ characters, the emulator's rule) or full paths. Beam reaches it with {@code
 * --pubsubRootUrl=}{@link #rootUrl()} and {@code NoopCredentialFactory}.
 */
public final class PubsubEmulator extends GcloudEmulator {
  /** The project every topic and subscription lives in. */
  public static final String PROJECT = "demo-aiprod";

  private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(90);
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** One pulled message (already acknowledged). */
  public record Received(
      String messageId, byte[] data, Map<String, String> attributes, Instant publishTime) {}

  public PubsubEmulator() {
    super("Pub/Sub", STARTUP_TIMEOUT);
  }

  @Override
  List<String> command(String hostPort) {
    return List.of(
        "gcloud",
        "beta",
        "emulators",
        "pubsub",
        "start",
        "--host-port=" + hostPort,
        "--project=" + PROJECT,
        "--quiet");
  }

  /** Starts the emulator and waits until it answers HTTP (at most 90 s). */
  public PubsubEmulator start() throws IOException, InterruptedException {
    startProcess();
    return this;
  }

  /** {@code http://127.0.0.1:PORT}, for {@code --pubsubRootUrl}. */
  public String rootUrl() {
    return "http://" + hostPort();
  }

  /** {@code projects/demo-aiprod/topics/NAME} (a full path is returned as it is). */
  public static String topicPath(String name) {
    return name.startsWith("projects/") ? name : "projects/" + PROJECT + "/topics/" + name;
  }

  /** {@code projects/demo-aiprod/subscriptions/NAME} (a full path is returned as it is). */
  public static String subscriptionPath(String name) {
    return name.startsWith("projects/") ? name : "projects/" + PROJECT + "/subscriptions/" + name;
  }

  /** Creates a topic; returns its path. */
  public String createTopic(String name) throws IOException, InterruptedException {
    String path = topicPath(name);
    call("PUT", path, "{}");
    return path;
  }

  /** Creates a pull subscription of {@code topic}; returns its path. */
  public String createSubscription(String subscription, String topic, int ackDeadlineSeconds)
      throws IOException, InterruptedException {
    String path = subscriptionPath(subscription);
    ObjectNode body = MAPPER.createObjectNode();
    body.put("topic", topicPath(topic));
    body.put("ackDeadlineSeconds", ackDeadlineSeconds);
    call("PUT", path, MAPPER.writeValueAsString(body));
    return path;
  }

  /** Publishes one message; returns its message id. */
  public String publish(String topic, byte[] data, Map<String, String> attributes)
      throws IOException, InterruptedException {
    ObjectNode body = MAPPER.createObjectNode();
    ObjectNode message = body.putArray("messages").addObject();
    if (data != null && data.length > 0) {
      message.put("data", Base64.getEncoder().encodeToString(data));
    }
    if (attributes != null && !attributes.isEmpty()) {
      ObjectNode attrs = message.putObject("attributes");
      attributes.forEach(attrs::put);
    }
    JsonNode r = call("POST", topicPath(topic) + ":publish", MAPPER.writeValueAsString(body));
    return r.path("messageIds").path(0).asText();
  }

  /**
   * Pulls up to {@code max} messages without waiting for more (possibly none) and acknowledges
   * them.
   */
  public List<Received> pull(String subscription, int max)
      throws IOException, InterruptedException {
    String path = subscriptionPath(subscription);
    ObjectNode body = MAPPER.createObjectNode();
    body.put("maxMessages", max);
    body.put("returnImmediately", true);
    JsonNode r = call("POST", path + ":pull", MAPPER.writeValueAsString(body));
    List<Received> out = new ArrayList<>();
    ObjectNode ack = MAPPER.createObjectNode();
    ArrayNode ackIds = ack.putArray("ackIds");
    for (JsonNode received : r.path("receivedMessages")) {
      JsonNode m = received.path("message");
      Map<String, String> attributes = new TreeMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = m.path("attributes").fields();
          it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        attributes.put(e.getKey(), e.getValue().asText());
      }
      byte[] data =
          m.hasNonNull("data") ? Base64.getDecoder().decode(m.get("data").asText()) : new byte[0];
      out.add(
          new Received(
              m.path("messageId").asText(),
              data,
              attributes,
              Instant.parse(m.path("publishTime").asText())));
      ackIds.add(received.path("ackId").asText());
    }
    if (!ackIds.isEmpty()) {
      call("POST", path + ":acknowledge", MAPPER.writeValueAsString(ack));
    }
    return out;
  }

  /**
   * Pulls until {@code count} messages have arrived or {@code timeout} has passed; returns what
   * arrived.
   */
  public List<Received> pullAtLeast(String subscription, int count, Duration timeout)
      throws IOException, InterruptedException {
    List<Received> out = new ArrayList<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (out.size() < count && System.nanoTime() < deadline) {
      List<Received> batch = pull(subscription, Math.max(10, count - out.size()));
      out.addAll(batch);
      if (batch.isEmpty()) {
        Thread.sleep(200);
      }
    }
    return out;
  }

  private JsonNode call(String method, String path, String json)
      throws IOException, InterruptedException {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(rootUrl() + "/v1/" + path))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofString(json))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IOException(
          method + " " + path + " failed: HTTP " + r.statusCode() + " " + r.body());
    }
    return r.body().isBlank() ? MAPPER.createObjectNode() : MAPPER.readTree(r.body());
  }
}
