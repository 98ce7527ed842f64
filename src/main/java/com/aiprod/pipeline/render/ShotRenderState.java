package com.aiprod.pipeline.render;

import com.google.auto.value.AutoValue;
import javax.annotation.Nullable;
import org.apache.beam.sdk.schemas.AutoValueSchema;
import org.apache.beam.sdk.schemas.annotations.DefaultSchema;

/**
 * Where one shot's rendering stands: the per-shot state of the render stage between two steps of
 * {@link ShotRenderer} (kept in Beam state in streaming, so it survives on the runner's checkpoint;
 * a local variable in batch).
 */
@DefaultSchema(AutoValueSchema.class)
@AutoValue
public abstract class ShotRenderState {
  /** What the next step does. */
  public enum Phase {
    /** Pick the current candidate (or the next whose circuit is closed) and start an attempt. */
    CHOOSE,
    SUBMIT,
    /**
     * A submit's outcome is unknown (its answer was lost): find the generation it made before any
     * other submit.
     */
    RECOVER,
    POLL,
    /** The generation succeeded; copy its output to the shot's URI. */
    FETCH,
    /** Settled: kept only so a repeated task for the shot is recognised. */
    DONE
  }

  public abstract ShotTask getTask();

  /** Index of the current candidate (0: the routed backend, then its fallbacks). */
  public abstract int getCandidate();

  /** 1-based attempt number of the shot (one per backend tried). */
  public abstract int getAttempt();

  public abstract String getPhase();

  /** The provider's handle of the current attempt's generation. */
  public abstract @Nullable String getOperation();

  public abstract long getAttemptStartedMillis();

  /** Retryable failures in a row in the current attempt. */
  public abstract int getRetries();

  /** Whether the current attempt already refreshed the backend's credentials after a 401/403. */
  public abstract boolean getCredentialsRefreshed();

  /** Polls of the current attempt. */
  public abstract int getPolls();

  public abstract long getPollDelayMillis();

  /** When a succeeded generation's output is waiting to be fetched. */
  public abstract @Nullable String getOutputUri();

  public abstract @Nullable Double getReportedCostUsd();

  /** Backend calls recorded so far for this shot (numbers their audit events). */
  public abstract int getCallsRecorded();

  public Phase phase() {
    return Phase.valueOf(getPhase());
  }

  public String backend() {
    return getTask().candidate(getCandidate());
  }

  /** A shot that has not been tried yet. */
  public static ShotRenderState start(ShotTask task) {
    return builder()
        .setTask(task)
        .setCandidate(0)
        .setAttempt(1)
        .setPhase(Phase.CHOOSE.name())
        .setOperation(null)
        .setAttemptStartedMillis(0)
        .setRetries(0)
        .setCredentialsRefreshed(false)
        .setPolls(0)
        .setPollDelayMillis(0)
        .setOutputUri(null)
        .setReportedCostUsd(null)
        .setCallsRecorded(0)
        .build();
  }

  static Builder builder() {
    return new AutoValue_ShotRenderState.Builder();
  }

  public abstract Builder toBuilder();

  /** Builder. */
  @AutoValue.Builder
  public abstract static class Builder {
    public abstract Builder setTask(ShotTask v);

    public abstract Builder setCandidate(int v);

    public abstract Builder setAttempt(int v);

    public abstract Builder setPhase(String v);

    public Builder phase(Phase p) {
      return setPhase(p.name());
    }

    public abstract Builder setOperation(@Nullable String v);

    public abstract Builder setAttemptStartedMillis(long v);

    public abstract Builder setRetries(int v);

    public abstract Builder setCredentialsRefreshed(boolean v);

    public abstract Builder setPolls(int v);

    public abstract Builder setPollDelayMillis(long v);

    public abstract Builder setOutputUri(@Nullable String v);

    public abstract Builder setReportedCostUsd(@Nullable Double v);

    public abstract Builder setCallsRecorded(int v);

    public abstract ShotRenderState build();
  }
}
