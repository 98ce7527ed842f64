package com.aiprod.pipeline.persist;

import com.aiprod.pipeline.kernel.DeadLetters;
import com.aiprod.pipeline.model.DeadLetter;
import com.aiprod.pipeline.model.Redaction;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.io.gcp.pubsub.PubsubClient;
import org.apache.beam.sdk.io.gcp.pubsub.PubsubJsonClient;
import org.apache.beam.sdk.io.gcp.pubsub.PubsubMessage;
import org.apache.beam.sdk.io.gcp.pubsub.PubsubOptions;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.values.PCollection;
import org.joda.time.Instant;

/**
 * Publishes dead letters to {@code --deadLetterTopic} ({@code projects/P/topics/T}), one Pub/Sub
 * message per dead letter, so that operators can replay or inspect them with Pub/Sub tools.
 *
 * <p>The message data is the dead letter's payload: {@code payloadBytes} when set (a body that is
 * not UTF-8), else {@code payloadString} as UTF-8, else the {@code errorMessage}. Attributes:
 * {@code reason_code}, {@code stage}, {@code message_id} and {@code error_message} (at most 1,000
 * characters and 1,024 UTF-8 bytes, Pub/Sub's limit for an attribute value). The original
 * attributes are not copied, so no {@code authorization} value can leave through this topic; dead
 * letters are redacted when built ({@link DeadLetters}), and text is redacted once more here.
 *
 * <p>Set {@code --pubsubRootUrl} to publish to an emulator.
 */
public final class PublishDeadLetters
    extends PTransform<PCollection<DeadLetter>, PCollection<DeadLetter>> {
  /** Attribute names of a published dead letter. */
  public static final String REASON_CODE = "reason_code";

  public static final String STAGE = "stage";
  public static final String MESSAGE_ID = "message_id";
  public static final String ERROR_MESSAGE = "error_message";

  /** Longest {@code error_message} attribute, in characters. */
  public static final int MAX_ERROR_MESSAGE_CHARS = 1_000;

  private static final int MAX_ATTRIBUTE_VALUE_BYTES = 1_024;

  private final String topic;

  private PublishDeadLetters(String topic) {
    this.topic = topic;
  }

  /** Publishes to {@code topic}, a full path {@code projects/P/topics/T}. */
  public static PublishDeadLetters to(String topic) {
    if (topic == null || !topic.startsWith("projects/") || !topic.contains("/topics/")) {
      throw new IllegalArgumentException(
          "--deadLetterTopic must be a topic path projects/PROJECT/topics/TOPIC, got " + topic);
    }
    return new PublishDeadLetters(topic);
  }

  /**
   * Publishes every dead letter and outputs it once Pub/Sub has accepted it, so that the
   * dead_letters row written after it (the message's outcome, which lets {@code PendingAcks}
   * acknowledge the input message) never precedes the topic message. A publish that fails fails the
   * bundle, which the runner retries; a repeated publish is possible, a lost one is not.
   */
  @Override
  public PCollection<DeadLetter> expand(PCollection<DeadLetter> input) {
    return input.apply("PublishToTopic", ParDo.of(new PublishFn(topic))).setCoder(input.getCoder());
  }

  /** Publishes a bundle's dead letters in batches at its end, then outputs them. */
  static final class PublishFn extends DoFn<DeadLetter, DeadLetter> {
    private static final int BATCH = 100;
    private final String topic;
    private final Counter published = Metrics.counter("aiprod", "dead_letters_published");
    private transient PubsubClient client;
    private transient List<Pending> buffer;

    private record Pending(DeadLetter deadLetter, Instant timestamp, BoundedWindow window) {}

    PublishFn(String topic) {
      this.topic = topic;
    }

    @StartBundle
    public void startBundle(StartBundleContext c) throws IOException {
      if (client == null) {
        client =
            PubsubJsonClient.FACTORY.newClient(
                null, null, c.getPipelineOptions().as(PubsubOptions.class));
      }
      buffer = new ArrayList<>();
    }

    @ProcessElement
    public void process(@Element DeadLetter d, @Timestamp Instant timestamp, BoundedWindow window) {
      buffer.add(new Pending(d, timestamp, window));
    }

    @FinishBundle
    public void finishBundle(FinishBundleContext c) throws IOException {
      PubsubClient.TopicPath path = PubsubClient.topicPathFromPath(topic);
      for (int i = 0; i < buffer.size(); i += BATCH) {
        List<Pending> batch = buffer.subList(i, Math.min(buffer.size(), i + BATCH));
        List<PubsubClient.OutgoingMessage> messages = new ArrayList<>(batch.size());
        for (Pending p : batch) {
          messages.add(
              PubsubClient.OutgoingMessage.of(
                  toMessage(p.deadLetter()), p.timestamp().getMillis(), null, null));
        }
        client.publish(path, messages);
        published.inc(batch.size());
        for (Pending p : batch) {
          c.output(p.deadLetter(), p.timestamp(), p.window());
        }
      }
      buffer = null;
    }

    @Teardown
    public void teardown() throws IOException {
      if (client != null) {
        client.close();
        client = null;
      }
    }
  }

  /** The Pub/Sub message of one dead letter. */
  public static PubsubMessage toMessage(DeadLetter d) {
    byte[] data;
    if (d.getPayloadBytes() != null) {
      data = d.getPayloadBytes();
    } else if (d.getPayloadString() != null) {
      data = Redaction.redactText(d.getPayloadString()).getBytes(StandardCharsets.UTF_8);
    } else {
      data = Redaction.redactText(d.getErrorMessage()).getBytes(StandardCharsets.UTF_8);
    }
    Map<String, String> attributes = new HashMap<>();
    attributes.put(REASON_CODE, d.getReasonCode());
    attributes.put(STAGE, d.getStage());
    attributes.put(MESSAGE_ID, limit(Redaction.redactText(d.getMessageId()), Integer.MAX_VALUE));
    attributes.put(
        ERROR_MESSAGE, limit(Redaction.redactText(d.getErrorMessage()), MAX_ERROR_MESSAGE_CHARS));
    return new PubsubMessage(data, attributes);
  }

  /**
   * At most {@code maxChars} characters (without splitting a surrogate pair) and at most 1,024
   * UTF-8 bytes.
   */
  static String limit(String s, int maxChars) {
    String out = s;
    if (out.length() > maxChars) {
      int end = maxChars;
      if (Character.isHighSurrogate(out.charAt(end - 1))) {
        end--;
      }
      out = out.substring(0, end);
    }
    while (out.getBytes(StandardCharsets.UTF_8).length > MAX_ATTRIBUTE_VALUE_BYTES) {
      int end = out.offsetByCodePoints(out.length(), -1);
      out = out.substring(0, end);
    }
    return out;
  }
}
