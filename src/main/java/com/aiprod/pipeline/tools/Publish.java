package com.aiprod.pipeline.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.api.core.ApiFuture;
import com.google.api.gax.batching.BatchingSettings;
import com.google.api.gax.core.NoCredentialsProvider;
import com.google.api.gax.grpc.GrpcTransportChannel;
import com.google.api.gax.rpc.FixedTransportChannelProvider;
import com.google.cloud.pubsub.v1.Publisher;
import com.google.protobuf.ByteString;
import com.google.pubsub.v1.PubsubMessage;
import com.google.pubsub.v1.TopicName;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import javax.annotation.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code publish}: publishes a JSONL file of request envelopes to a Pub/Sub topic, one message per
 * non-blank line, with the Pub/Sub client library's {@link Publisher} (batches of at most 100
 * messages, the library's retries).
 *
 * <p>A line in the batch envelope format of DESIGN §2 ({@code {"attributes":{...},"data":{...}}} or
 * {@code "data_b64": "<base64>"}) becomes a message with those attributes and that data (the JSON
 * of {@code data}, or the decoded bytes of {@code data_b64}, which need not be JSON). Any other
 * line is published as it is, as the data of a message without attributes, so that broken input
 * reaches the pipeline too. Signed sample files ({@code SignSamples}) are in this format.
 *
 * <p>{@code --pubsub-root-url http://HOST:PORT} (or {@code PUBSUB_EMULATOR_HOST=HOST:PORT}) talks
 * to an emulator over a plaintext gRPC channel without credentials; otherwise it publishes to
 * Pub/Sub with Application Default Credentials. Prints the message ids to stdout, one a line, and
 * the count to stderr.
 */
@Command(
    name = "publish",
    sortOptions = false,
    description = {
      "Publishes each non-blank line of a JSONL file to a Pub/Sub topic (envelope lines"
          + " {\"attributes\":{...},\"data\":{...}} or \"data_b64\"; any other line raw, without"
          + " attributes). Prints the message ids on stdout and the count on stderr."
    })
public final class Publish extends Tool {
  /** Pub/Sub's default endpoint. */
  public static final String DEFAULT_ROOT_URL = "https://pubsub.googleapis.com";

  /** Most messages in one publish request (Pub/Sub allows 1,000; smaller requests fail less). */
  public static final int MAX_BATCH_MESSAGES = 100;

  /** Pub/Sub's limit on a publish request is 10 MB; keep well below it. */
  private static final long MAX_BATCH_BYTES = 8L * 1024 * 1024;

  private static final Pattern TOPIC = Pattern.compile("projects/[^/]+/topics/[^/]+");
  private static final Set<String> ENVELOPE_MEMBERS = Set.of("attributes", "data", "data_b64");
  private static final ObjectMapper MAPPER = new ObjectMapper();

  @Parameters(index = "0", paramLabel = "FILE", description = "The JSONL file to publish.")
  Path file;

  @Option(
      names = "--topic",
      required = true,
      paramLabel = "projects/P/topics/T",
      description = "The topic.")
  String topic;

  @Option(
      names = "--pubsub-root-url",
      paramLabel = "URL",
      description =
          "http://HOST:PORT of a Pub/Sub emulator (default: http://$PUBSUB_EMULATOR_HOST when"
              + " set, else "
              + DEFAULT_ROOT_URL
              + " with Application Default Credentials).")
  String rootUrl;

  /** One message to publish. */
  public record Message(byte[] data, Map<String, String> attributes) {}

  /** The command (picocli); {@link #to} makes a publisher for code. */
  public Publish() {}

  /**
   * A publisher against {@code rootUrl}: {@code http://HOST:PORT} is an emulator (plaintext, no
   * credentials), {@code https://…} Pub/Sub with Application Default Credentials.
   */
  public static Publish to(String rootUrl) {
    Publish p = new Publish();
    p.rootUrl = rootUrl;
    return p;
  }

  /** The root URL of the flag, else of {@code PUBSUB_EMULATOR_HOST}, else Pub/Sub's. */
  static String rootUrl(@Nullable String flag) {
    if (flag != null && !flag.isBlank()) {
      return flag;
    }
    String emulator = System.getenv("PUBSUB_EMULATOR_HOST");
    return emulator != null && !emulator.isBlank() ? "http://" + emulator : DEFAULT_ROOT_URL;
  }

  @Override
  public Integer call() {
    if (!TOPIC.matcher(topic).matches()) {
      throw usage("--topic must be projects/PROJECT/topics/TOPIC, got " + topic);
    }
    if (!Files.isRegularFile(file)) {
      throw usage("no such file: " + file);
    }
    rootUrl = rootUrl(rootUrl);
    List<String> ids;
    try {
      ids = publishFile(file, topic);
    } catch (IOException | IllegalArgumentException e) {
      err().println("publish: publishing to " + topic + " failed: " + Cli.describe(e));
      return 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      err().println("publish: interrupted");
      return 1;
    }
    ids.forEach(out()::println);
    out().flush();
    err().println("published " + ids.size() + " messages from " + file + " to " + topic);
    return 0;
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

  /**
   * Publishes {@code messages} with one {@link Publisher} (batches of at most 100 messages or 8 MB,
   * the library's retries); returns their ids in order. Fails if any message is not published.
   */
  public List<String> publish(String topic, List<Message> messages)
      throws IOException, InterruptedException {
    if (!TOPIC.matcher(topic).matches()) {
      throw new IllegalArgumentException(
          "--topic must be projects/PROJECT/topics/TOPIC, got " + topic);
    }
    if (messages.isEmpty()) {
      return List.of();
    }
    String root = rootUrl(rootUrl);
    Connection connection = connect(topic, org.threeten.bp.Duration.ofMillis(20));
    Publisher publisher = connection.publisher();
    List<ApiFuture<String>> futures = new ArrayList<>();
    try {
      for (Message m : messages) {
        futures.add(
            publisher.publish(
                PubsubMessage.newBuilder()
                    .setData(ByteString.copyFrom(m.data()))
                    .putAllAttributes(m.attributes())
                    .build()));
      }
      publisher.publishAllOutstanding();
      List<String> ids = new ArrayList<>();
      for (ApiFuture<String> f : futures) {
        try {
          ids.add(f.get());
        } catch (ExecutionException e) {
          throw new IOException(
              "publishing to "
                  + topic
                  + " at "
                  + root
                  + " failed after "
                  + ids.size()
                  + " of "
                  + messages.size()
                  + " messages: "
                  + Cli.describe(e.getCause() == null ? e : e.getCause()),
              e);
        }
      }
      return ids;
    } finally {
      connection.close();
    }
  }

  /** A publisher and, against an emulator, the plaintext channel it owns (close both). */
  record Connection(Publisher publisher, @Nullable ManagedChannel channel) {
    /** Publishes what is outstanding, then shuts the publisher and the channel down. */
    void close() throws InterruptedException {
      publisher.shutdown();
      publisher.awaitTermination(30, TimeUnit.SECONDS);
      if (channel != null) {
        channel.shutdownNow();
        channel.awaitTermination(10, TimeUnit.SECONDS);
      }
    }
  }

  /**
   * A {@link Publisher} on {@code topic} against this command's root URL (an emulator over
   * plaintext without credentials, or Pub/Sub), batching at most 100 messages or {@code delay}.
   */
  Connection connect(String topic, org.threeten.bp.Duration delay) throws IOException {
    String root = rootUrl(rootUrl);
    ManagedChannel channel = null;
    Publisher.Builder builder =
        Publisher.newBuilder(TopicName.parse(topic))
            .setBatchingSettings(
                BatchingSettings.newBuilder()
                    .setElementCountThreshold((long) MAX_BATCH_MESSAGES)
                    .setRequestByteThreshold(MAX_BATCH_BYTES)
                    .setDelayThreshold(delay)
                    .build());
    URI uri = URI.create(root);
    if ("http".equals(uri.getScheme())) {
      channel =
          ManagedChannelBuilder.forAddress(uri.getHost(), uri.getPort() < 0 ? 80 : uri.getPort())
              .usePlaintext()
              .build();
      builder
          .setChannelProvider(
              FixedTransportChannelProvider.create(GrpcTransportChannel.create(channel)))
          .setCredentialsProvider(NoCredentialsProvider.create());
    } else if (!DEFAULT_ROOT_URL.equals(root.replaceAll("/+$", ""))) {
      builder.setEndpoint(uri.getHost() + ":" + (uri.getPort() < 0 ? 443 : uri.getPort()));
    }
    return new Connection(builder.build(), channel);
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
