package com.aiprod.pipeline.model;

import com.google.auto.value.AutoValue;
import javax.annotation.Nullable;
import org.apache.beam.sdk.schemas.AutoValueSchema;
import org.apache.beam.sdk.schemas.annotations.DefaultSchema;

/** One row of {@code audit_events} (DESIGN §8, §9). */
@DefaultSchema(AutoValueSchema.class)
@AutoValue
public abstract class AuditEvent {
  /** Deterministic: the same event retried is the same row. */
  public abstract String getEventId();

  public abstract long getEventTimeMillis();

  public abstract String getEventType();

  public abstract String getEnvironment();

  public abstract String getService();

  public abstract @Nullable String getTenant();

  public abstract @Nullable String getUserId();

  public abstract String getAction();

  public abstract @Nullable String getResource();

  public abstract String getStatus();

  public abstract @Nullable String getJobId();

  public abstract @Nullable String getMessageId();

  /** JSON object; never a token, a secret or a full prompt. */
  public abstract String getDetails();

  public abstract @Nullable String getSignature();

  public abstract Builder toBuilder();

  public static Builder builder() {
    return new AutoValue_AuditEvent.Builder().setService("aiprod-pipeline").setDetails("{}");
  }

  @AutoValue.Builder
  public abstract static class Builder {
    public abstract Builder setEventId(String v);

    public abstract Builder setEventTimeMillis(long v);

    public abstract Builder setEventType(String v);

    public abstract Builder setEnvironment(String v);

    public abstract Builder setService(String v);

    public abstract Builder setTenant(@Nullable String v);

    public abstract Builder setUserId(@Nullable String v);

    public abstract Builder setAction(String v);

    public abstract Builder setResource(@Nullable String v);

    public abstract Builder setStatus(String v);

    public abstract Builder setJobId(@Nullable String v);

    public abstract Builder setMessageId(@Nullable String v);

    public abstract Builder setDetails(String v);

    public abstract Builder setSignature(@Nullable String v);

    public abstract AuditEvent build();
  }
}
