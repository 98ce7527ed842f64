package com.aiprod.pipeline.audit;

import com.google.auto.value.AutoValue;
import javax.annotation.Nullable;
import org.apache.beam.sdk.schemas.AutoValueSchema;
import org.apache.beam.sdk.schemas.annotations.DefaultSchema;

/** One row of {@code audit_events} (DESIGN §8, §9). */
@DefaultSchema(AutoValueSchema.class)
@AutoValue
public abstract class AuditEvent {
  /** Deterministic: the same event retried is the same row. */
  public abstract String eventId();

  public abstract long eventTimeMillis();

  public abstract String eventType();

  public abstract String environment();

  public abstract String service();

  public abstract @Nullable String tenant();

  public abstract @Nullable String userId();

  public abstract String action();

  public abstract @Nullable String resource();

  public abstract String status();

  public abstract @Nullable String jobId();

  public abstract @Nullable String messageId();

  /** JSON object; never a token, a secret or a full prompt. */
  public abstract String details();

  public abstract @Nullable String signature();

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
