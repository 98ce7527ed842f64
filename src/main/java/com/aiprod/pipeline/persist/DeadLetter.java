package com.aiprod.pipeline.persist;

import com.google.auto.value.AutoValue;
import java.util.Map;
import javax.annotation.Nullable;
import org.apache.beam.sdk.schemas.AutoValueSchema;
import org.apache.beam.sdk.schemas.annotations.DefaultSchema;

/**
 * One row of {@code dead_letters}: the DataflowTemplates shape plus reason_code, stage and
 * message_id. The {@code authorization} attribute is always redacted before a DeadLetter is built.
 */
@DefaultSchema(AutoValueSchema.class)
@AutoValue
public abstract class DeadLetter {
  public abstract long timestampMillis();

  public abstract @Nullable String payloadString();

  public abstract @Nullable byte[] payloadBytes();

  public abstract Map<String, String> attributes();

  public abstract String errorMessage();

  public abstract @Nullable String stacktrace();

  public abstract String reasonCode();

  public abstract String stage();

  public abstract String messageId();

  public static Builder builder() {
    return new AutoValue_DeadLetter.Builder();
  }

  @AutoValue.Builder
  public abstract static class Builder {
    public abstract Builder setTimestampMillis(long v);

    public abstract Builder setPayloadString(@Nullable String v);

    public abstract Builder setPayloadBytes(@Nullable byte[] v);

    public abstract Builder setAttributes(Map<String, String> v);

    public abstract Builder setErrorMessage(String v);

    public abstract Builder setStacktrace(@Nullable String v);

    public abstract Builder setReasonCode(String v);

    public abstract Builder setStage(String v);

    public abstract Builder setMessageId(String v);

    public abstract DeadLetter build();
  }
}
