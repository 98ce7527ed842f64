package com.aiprod.pipeline.render.backends;

import java.io.Serializable;
import javax.annotation.Nullable;

/**
 * The state of one provider generation after a poll.
 *
 * @param status where the generation is
 * @param outputUri when {@link Status#SUCCEEDED}: where the output is ({@code https://} URL to
 *     download, or a {@code gs://} object written by the provider)
 * @param error when {@link Status#FAILED}: the provider's reason, as it gave it (no secrets)
 * @param reportedCostUsd the cost the provider reports for the generation, when it reports one
 *     (else the caller prices the attempt from {@code pricing.json})
 * @param progress 0..1 when the provider reports progress, else null
 * @param inputFault when {@link Status#FAILED}: the provider attributes the failure to the request
 *     (a content-safety refusal of the prompt, an invalid input), not to itself; such failures do
 *     not count against the backend's circuit
 */
public record PollResult(
    Status status,
    @Nullable String outputUri,
    @Nullable String error,
    @Nullable Double reportedCostUsd,
    @Nullable Double progress,
    boolean inputFault)
    implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Lifecycle of a generation, normalised across providers. */
  public enum Status {
    /** Accepted, queued or running: poll again later. */
    RUNNING,
    SUCCEEDED,
    /** Ended without an output (failed, cancelled, content refused). */
    FAILED
  }

  public static PollResult running(@Nullable Double progress) {
    return new PollResult(Status.RUNNING, null, null, null, progress, false);
  }

  public static PollResult succeeded(String outputUri, @Nullable Double reportedCostUsd) {
    return new PollResult(Status.SUCCEEDED, outputUri, null, reportedCostUsd, 1.0, false);
  }

  public static PollResult failed(String error) {
    return new PollResult(Status.FAILED, null, error, null, null, false);
  }

  /** A generation the provider failed because of the request (see {@link #inputFault()}). */
  public static PollResult failedByInput(String error) {
    return new PollResult(Status.FAILED, null, error, null, null, true);
  }

  public boolean terminal() {
    return status != Status.RUNNING;
  }
}
