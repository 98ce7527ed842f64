package com.aiprod.pipeline.model;

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
  public abstract long getTimestampMillis();

  public abstract @Nullable String getPayloadString();

  public abstract @Nullable byte[] getPayloadBytes();

  public abstract Map<String, String> getAttributes();

  public abstract String getErrorMessage();

  public abstract @Nullable String getStacktrace();

  public abstract String getReasonCode();

  public abstract String getStage();

  public abstract String getMessageId();

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
