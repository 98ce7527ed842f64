package com.aiprod.pipeline.render.backends;

/**
 * One video-generation provider's API as the render stage drives it (DESIGN §5, §6): submit a shot,
 * poll the provider's operation until it is terminal, fetch the output. Every method is one bounded
 * HTTP exchange (request timeouts, capped response sizes): the render stage polls from
 * processing-time timers, so no worker thread ever waits for the length of a render.
 *
 * <p>Instances are created on the worker in a DoFn's {@code @Setup} by {@link BackendConfig#open},
 * are thread-safe and hold their credentials (resolved from the secret source, never logged, never
 * in an exception message). Failures are {@link BackendException}s that say whether a retry may
 * help and whether the credentials were refused (401/403: the caller refreshes the secret once).
 */
public interface VideoBackend extends AutoCloseable {
  /** The backend id of the pricing table ({@code runway_gen4_turbo}, {@code veo3}, ...). */
  String id();

  /**
   * Submits one shot. Idempotent where the provider allows it: a provider with an idempotency key
   * gets the request's {@link RenderRequest#idempotencyKey()}, so a retried submit after a lost
   * answer does not start (and bill) a second generation. Runway, Replicate and Vertex AI Veo
   * document none: a submit whose outcome is unknown throws with {@link
   * BackendException#outcomeUnknown()}, and the caller looks for what it made ({@link
   * #findSubmitted}) before another submit, or ends the attempt.
   *
   * @return the provider's handle of the generation (task id, prediction id, operation name)
   */
  String submit(RenderRequest request) throws BackendException;

  /**
   * Whether {@link #findSubmitted} can look for a generation whose create answer was lost. A
   * backend that cannot (no idempotency key, no task listing: Runway, Vertex AI Veo) never gets a
   * second create in the same attempt after an unknown outcome.
   */
  default boolean findsLostSubmits() {
    return false;
  }

  /**
   * The handle of a generation that a submit of {@code request} made at or after {@code
   * sinceMillis} but whose answer was lost, or null when the provider shows none (then another
   * submit is safe).
   */
  default @javax.annotation.Nullable String findSubmitted(RenderRequest request, long sinceMillis)
      throws BackendException {
    throw BackendException.permanent(id() + " cannot list what it made");
  }

  /**
   * Whether a submit has already finished the work (a local encoder), so the first poll may follow
   * at once instead of after the policy's first poll delay.
   */
  default boolean completesOnSubmit() {
    return false;
  }

  /** One poll of a submitted generation. */
  PollResult poll(String operation) throws BackendException;

  /**
   * One poll of the generation {@code operation} that was submitted for {@code request}: a backend
   * that checks the answer against what was asked (Veo: the output must be under the request's own
   * {@code storageUri}) needs it. The render stage always polls this way.
   */
  default PollResult poll(String operation, RenderRequest request) throws BackendException {
    return poll(operation);
  }

  /**
   * Copies a succeeded generation's output to {@code destinationUri} (a local path or {@code gs://}
   * URI, written through Beam's {@code FileSystems}), refusing outputs over the size limit.
   *
   * @return the number of bytes written
   */
  long fetch(PollResult succeeded, String destinationUri) throws BackendException;

  /** {@link #fetch(PollResult, String)} of the output of {@code request} (see {@link #poll}). */
  default long fetch(PollResult succeeded, RenderRequest request, String destinationUri)
      throws BackendException {
    return fetch(succeeded, destinationUri);
  }

  /** Asks the provider to stop a generation (a cancelled job); best effort, never throws. */
  void cancel(String operation);

  /** Re-reads the backend's credentials (after a 401/403: the secret was rotated). */
  void refreshCredentials();

  @Override
  void close();
}
