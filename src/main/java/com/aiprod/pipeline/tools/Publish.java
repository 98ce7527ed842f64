package com.aiprod.pipeline.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.auth.oauth2.GoogleCredentials;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Publishes a JSONL file of request envelopes to a Pub/Sub topic, one message per non-blank line,
 * over the Pub/Sub REST API ({@code POST /v1/{topic}:publish}, at most 100 messages per request).
 *
 * <p>A line in the batch envelope format of DESIGN §2 ({@code {"attributes":{...},"data":{...}}} or
 * {@code "data_b64": "<base64>"}) becomes a message with those attributes and that data (the JSON
 * of {@code data}, or the decoded bytes of {@code data_b64}, which need not be JSON). Any other
 * line is published as it is, as the data of a message without attributes, so that broken input
 * reaches the pipeline too. Signed sample files ({@code SignSamples}) are in this format.
 *
 * <p>Usage: {@code Publish FILE --topic projects/P/topics/T [--pubsubRootUrl
 * http://127.0.0.1:PORT]}. Without {@code --pubsubRootUrl} it publishes to {@code
 * https://pubsub.googleapis.com} with Application Default Credentials. Prints the message ids to
 * stdout, one a line, and the count to stderr.
 */
public final class Publish {
  /** Pub/Sub's default endpoint. */
  public static final String DEFAULT_ROOT_URL = "https://pubsub.googleapis.com";

  /** Most messages in one publish request (Pub/Sub allows 1,000; smaller requests fail less). */
  public static final int MAX_BATCH_MESSAGES = 100;

  /** Pub/Sub's limit on a publish request is 10 MB; keep well below it. */
  private static final long MAX_BATCH_BYTES = 8L * 1024 * 1024;

  private static final Pattern TOPIC = Pattern.compile("projects/[^/]+/topics/[^/]+");
  private static final Set<String> ENVELOPE_MEMBERS = Set.of("attributes", "data", "data_b64");
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private final String rootUrl;
  private final GoogleCredentials credentials;

  /** One message to publish. */
  public record Message(byte[] data, Map<String, String> attributes) {}

  private Publish(String rootUrl, GoogleCredentials credentials) {
    this.rootUrl = rootUrl.endsWith("/") ? rootUrl.substring(0, rootUrl.length() - 1) : rootUrl;
    this.credentials = credentials;
  }

  /**
   * A publisher against {@code rootUrl}; Application Default Credentials are used only for {@code
   * https} endpoints (emulators take no credentials).
   */
  public static Publish to(String rootUrl) throws IOException {
    GoogleCredentials credentials = null;
    if (rootUrl.startsWith("https://")) {
      credentials =
          GoogleCredentials.getApplicationDefault()
              .createScoped(List.of("https://www.googleapis.com/auth/pubsub"));
    }
    return new Publish(rootUrl, credentials);
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> a = Args.parse(args);
    String file = a.get("_");
    String topic = a.get("topic");
    if (file == null || file.contains("\n") || topic == null) {
      System.err.println(
          "usage: Publish FILE --topic projects/P/topics/T [--pubsubRootUrl http://127.0.0.1:PORT]");
      System.exit(2);
    }
    List<String> ids;
    try {
      ids =
          to(a.getOrDefault("pubsubRootUrl", DEFAULT_ROOT_URL)).publishFile(Paths.get(file), topic);
    } catch (IOException | IllegalArgumentException e) {
      System.err.println("publish failed: " + e.getMessage());
      System.exit(1);
      return;
    }
    ids.forEach(System.out::println);
    System.err.println("published " + ids.size() + " messages from " + file + " to " + topic);
  }

  /** Publishes every non-blank line of {@code file}; returns the message ids in line order. */
  public List<String> publishFile(Path file, String topic)
      throws IOException, InterruptedException {
    List<Message> messages = new ArrayList<>();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      if (!line.isBlank()) {
        messages.add(toMessage(line));
      }
    }
    return publish(topic, messages);
  }

  /** Publishes {@code messages} in order, in requests of at most 100; returns their ids. */
  public List<String> publish(String topic, List<Message> messages)
      throws IOException, InterruptedException {
    if (!TOPIC.matcher(topic).matches()) {
      throw new IllegalArgumentException(
          "--topic must be projects/PROJECT/topics/TOPIC, got " + topic);
    }
    List<String> ids = new ArrayList<>();
    List<Message> batch = new ArrayList<>();
    long batchBytes = 0;
    for (Message m : messages) {
      long size = m.data().length * 4L / 3 + 64;
      for (Map.Entry<String, String> e : m.attributes().entrySet()) {
        size += e.getKey().length() + e.getValue().length() + 8;
      }
      if (!batch.isEmpty()
          && (batch.size() == MAX_BATCH_MESSAGES || batchBytes + size > MAX_BATCH_BYTES)) {
        ids.addAll(publishBatch(topic, batch));
        batch.clear();
        batchBytes = 0;
      }
      batch.add(m);
      batchBytes += size;
    }
    if (!batch.isEmpty()) {
      ids.addAll(publishBatch(topic, batch));
    }
    return ids;
  }

  private List<String> publishBatch(String topic, List<Message> batch)
      throws IOException, InterruptedException {
    ObjectNode body = MAPPER.createObjectNode();
    ArrayNode array = body.putArray("messages");
    for (Message m : batch) {
      ObjectNode node = array.addObject();
      if (m.data().length > 0) {
        node.put("data", Base64.getEncoder().encodeToString(m.data()));
      }
      if (!m.attributes().isEmpty()) {
        ObjectNode attrs = node.putObject("attributes");
        m.attributes().forEach(attrs::put);
      }
    }
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(rootUrl + "/v1/" + topic + ":publish"))
            .timeout(Duration.ofSeconds(60))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofByteArray(MAPPER.writeValueAsBytes(body)));
    if (credentials != null) {
      credentials.refreshIfExpired();
      request.header("Authorization", "Bearer " + credentials.getAccessToken().getTokenValue());
    }
    HttpResponse<String> response =
        http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IOException(
          "publishing to "
              + topic
              + " failed: HTTP "
              + response.statusCode()
              + " "
              + response.body());
    }
    JsonNode messageIds = MAPPER.readTree(response.body()).path("messageIds");
    if (!messageIds.isArray() || messageIds.size() != batch.size()) {
      throw new IOException("unexpected publish response from " + topic + ": " + response.body());
    }
    List<String> ids = new ArrayList<>();
    messageIds.forEach(id -> ids.add(id.asText()));
    return ids;
  }

  /**
   * The message of one line: the envelope's attributes and data, or the raw line (UTF-8) with no
   * attributes when the line is not such an envelope.
   */
  public static Message toMessage(String line) {
    Message envelope = parseEnvelope(line);
    return envelope != null
        ? envelope
        : new Message(line.getBytes(StandardCharsets.UTF_8), Map.of());
  }

  private static Message parseEnvelope(String line) {
    JsonNode root;
    try {
      root = MAPPER.readTree(line);
    } catch (IOException e) {
      return null;
    }
    if (root == null || !root.isObject()) {
      return null;
    }
    for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
      if (!ENVELOPE_MEMBERS.contains(it.next())) {
        return null;
      }
    }
    Map<String, String> attributes = new LinkedHashMap<>();
    JsonNode attrs = root.get("attributes");
    if (attrs != null && !attrs.isNull()) {
      if (!attrs.isObject()) {
        return null;
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = attrs.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (!e.getValue().isTextual()) {
          return null;
        }
        attributes.put(e.getKey(), e.getValue().asText());
      }
    }
    JsonNode data = root.get("data");
    JsonNode dataB64 = root.get("data_b64");
    if ((data == null) == (dataB64 == null)) {
      return null;
    }
    byte[] payload;
    if (data != null) {
      try {
        payload = MAPPER.writeValueAsBytes(data);
      } catch (IOException e) {
        return null;
      }
    } else {
      if (!dataB64.isTextual()) {
        return null;
      }
      String b64 = dataB64.asText().trim();
      try {
        payload =
            b64.indexOf('-') >= 0 || b64.indexOf('_') >= 0
                ? Base64.getUrlDecoder().decode(b64)
                : Base64.getDecoder().decode(b64);
      } catch (IllegalArgumentException e) {
        return null;
      }
    }
    if (payload.length == 0 && attributes.isEmpty()) {
      // Pub/Sub refuses a message with neither data nor attributes: send the line itself.
      return null;
    }
    return new Message(payload, attributes);
  }
}
