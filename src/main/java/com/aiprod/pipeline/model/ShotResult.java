package com.aiprod.pipeline.model;

import com.google.auto.value.AutoValue;
import javax.annotation.Nullable;
import org.apache.beam.sdk.schemas.AutoValueSchema;
import org.apache.beam.sdk.schemas.annotations.DefaultSchema;

/** One render attempt of one shot: a {@code shot_renders} row, and what assembly collects. */
@DefaultSchema(AutoValueSchema.class)
@AutoValue
public abstract class ShotResult {
  public abstract String getTenant();

  public abstract String getJobId();

  public abstract int getShotIndex();

  /** 1-based attempt number. */
  public abstract int getAttempt();

  public abstract String getBackend();

  /**
   * {@code succeeded}, {@code failed}, {@code cancelled} (the job was cancelled) or {@code
   * deadline} (the job's preset deadline passed first: the shot gave up).
   */
  public abstract String getStatus();

  public abstract @Nullable String getError();

  public abstract double getCostUsd();

  public abstract long getLatencyMs();

  public abstract long getStartedAtMillis();

  public abstract long getFinishedAtMillis();

  /** Where the rendered clip is (local path or gs:// URI), when it succeeded. */
  public abstract @Nullable String getUri();

  /**
   * The backend that takes the shot over after this failed attempt (DESIGN §5 fallback); null when
   * this attempt settles the shot (succeeded, cancelled, or failed with no candidate left).
   */
  public abstract @Nullable String getFallbackTo();

  /** Whether this attempt settles its shot (assembly waits for one such result per shot). */
  public boolean settlesShot() {
    return getFallbackTo() == null;
  }

  /** Status of a shot that gave up because its job's preset deadline passed. */
  public static final String DEADLINE = "deadline";

  /** Whether this attempt ended because the job's preset deadline passed. */
  public boolean missedDeadline() {
    return DEADLINE.equals(getStatus());
  }

  public boolean succeeded() {
    return "succeeded".equals(getStatus());
  }

  public static Builder builder() {
    return new AutoValue_ShotResult.Builder().setFallbackTo(null);
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

    public abstract Builder setFallbackTo(@Nullable String v);

    public abstract ShotResult build();
  }
}
