package com.aiprod.pipeline.model;

import com.google.auto.value.AutoValue;
import javax.annotation.Nullable;
import org.apache.beam.sdk.schemas.AutoValueSchema;
import org.apache.beam.sdk.schemas.annotations.DefaultSchema;

/** One render attempt of one shot: a {@code shot_renders} row, and what assembly collects. */
@DefaultSchema(AutoValueSchema.class)
@AutoValue
public abstract class ShotResult {
  public abstract String tenant();

  public abstract String jobId();

  public abstract int shotIndex();

  /** 1-based attempt number. */
  public abstract int attempt();

  public abstract String backend();

  /** {@code succeeded} or {@code failed}. */
  public abstract String status();

  public abstract @Nullable String error();

  public abstract double costUsd();

  public abstract long latencyMs();

  public abstract long startedAtMillis();

  public abstract long finishedAtMillis();

  /** Where the rendered clip is (local path or gs:// URI), when it succeeded. */
  public abstract @Nullable String uri();

  public boolean succeeded() {
    return "succeeded".equals(status());
  }

  public static Builder builder() {
    return new AutoValue_ShotResult.Builder();
  }

  @AutoValue.Builder
  public abstract static class Builder {
    public abstract Builder setTenant(String v);

    public abstract Builder setJobId(String v);

    public abstract Builder setShotIndex(int v);

    public abstract Builder setAttempt(int v);

    public abstract Builder setBackend(String v);

    public abstract Builder setStatus(String v);

    public abstract Builder setError(@Nullable String v);

    public abstract Builder setCostUsd(double v);

    public abstract Builder setLatencyMs(long v);

    public abstract Builder setStartedAtMillis(long v);

    public abstract Builder setFinishedAtMillis(long v);

    public abstract Builder setUri(@Nullable String v);

    public abstract ShotResult build();
  }
}
