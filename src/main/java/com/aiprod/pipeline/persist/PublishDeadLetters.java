package com.aiprod.pipeline.persist;

import com.aiprod.pipeline.ingest.Redaction;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.apache.beam.sdk.io.gcp.pubsub.PubsubIO;
import org.apache.beam.sdk.io.gcp.pubsub.PubsubMessage;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.SimpleFunction;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PDone;

/**
 * Publishes dead letters to {@code --deadLetterTopic} ({@code projects/P/topics/T}), one Pub/Sub
 * message per dead letter, so that operators can replay or inspect them with Pub/Sub tools.
 *
 * <p>The message data is the dead letter's payload: {@code payloadBytes} when set (a body that is
 * not UTF-8), else {@code payloadString} as UTF-8, else the {@code errorMessage}. Attributes:
 * {@code reason_code}, {@code stage}, {@code message_id} and {@code error_message} (at most 1,000
 * characters and 1,024 UTF-8 bytes, Pub/Sub's limit for an attribute value). The original
 * attributes are not copied, so no {@code authorization} value can leave through this topic;
 * dead letters are redacted when built ({@link DeadLetters}), and text is redacted once more here.
 *
 * <p>Set {@code --pubsubRootUrl} to publish to an emulator.
 */
public final class PublishDeadLetters extends PTransform<PCollection<DeadLetter>, PDone> {
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

  @Override
  public PDone expand(PCollection<DeadLetter> input) {
    return input
        .apply("ToPubsubMessages", MapElements.via(new ToMessage()))
        .apply("PublishDeadLetters", PubsubIO.writeMessages().to(topic));
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
    attributes.put(ERROR_MESSAGE, limit(Redaction.redactText(d.getErrorMessage()), MAX_ERROR_MESSAGE_CHARS));
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

  private static final class ToMessage extends SimpleFunction<DeadLetter, PubsubMessage> {
    @Override
    public PubsubMessage apply(DeadLetter d) {
      return toMessage(d);
    }
  }
}
