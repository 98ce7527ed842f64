package com.aiprod.pipeline.model;

import com.google.auto.value.AutoValue;
import java.util.Map;
import javax.annotation.Nullable;
import org.apache.beam.sdk.schemas.AutoValueSchema;
import org.apache.beam.sdk.schemas.annotations.DefaultSchema;

/**
 * One input message as read from a file line or a Pub/Sub message, before authentication. When the
 * message could not be read (oversized, not JSON) {@link #readErrorCode()} says why; it still goes
 * through Authenticate so that every message gets exactly one auth audit event.
 */
@DefaultSchema(AutoValueSchema.class)
@AutoValue
public abstract class RequestMessage {
  /** Pub/Sub message id, or {@code <file>:<line>} in batch. */
  public abstract String getMessageId();

  /** The job id used when the message has no {@code job_id} attribute. */
  public abstract String getDefaultJobId();

  /** Orders messages of one run (line number in batch, publish time in streaming). */
  public abstract long getOrdinal();

  public abstract long getReceivedAtMillis();

  /** Message attributes, including {@code authorization} until Authenticate removes it. */
  public abstract Map<String, String> getAttributes();

  /** The request body (UTF-8 JSON), when it could be read. */
  public abstract @Nullable byte[] getPayload();

  /** Redacted text of an unreadable input, kept for its dead letter. */
  public abstract @Nullable String getRawText();

  public abstract @Nullable String getReadErrorCode();

  public abstract @Nullable String getReadErrorMessage();

  /** Where it came from: the input file, or the subscription; keys auth-failure burst detection. */
  public abstract @Nullable String getSource();

  public abstract Builder toBuilder();

  /** Never prints the token (attributes are redacted) nor the payload (only its size). */
  @Override
  public final String toString() {
    return "RequestMessage{messageId="
        + getMessageId()
        + ", attributes="
        + Redaction.redactAttributes(getAttributes())
        + ", payloadBytes="
        + (getPayload() == null ? 0 : getPayload().length)
        + ", readError="
        + getReadErrorCode()
        + "}";
  }

  public static Builder builder() {
    return new AutoValue_RequestMessage.Builder();
  }

  @AutoValue.Builder
  public abstract static class Builder {
    public abstract Builder setMessageId(String v);

    public abstract Builder setDefaultJobId(String v);

    public abstract Builder setOrdinal(long v);

    public abstract Builder setReceivedAtMillis(long v);

    public abstract Builder setAttributes(Map<String, String> v);

    public abstract Builder setPayload(@Nullable byte[] v);

    public abstract Builder setRawText(@Nullable String v);

    public abstract Builder setReadErrorCode(@Nullable String v);

    public abstract Builder setReadErrorMessage(@Nullable String v);

    public abstract Builder setSource(@Nullable String v);

    public abstract RequestMessage build();
  }
}
