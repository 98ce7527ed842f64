package com.aiprod.pipeline.vertex;

import javax.annotation.Nullable;

/**
 * A generateContent call that gave no usable answer. The message says what went wrong (HTTP status,
 * Vertex's error status and a shortened, redacted error message) and never contains the bearer
 * token or the prompt.
 */
public final class GeminiException extends Exception {
  private static final long serialVersionUID = 1L;

  /** What went wrong. */
  public enum Kind {
    /** HTTP 429 (RESOURCE_EXHAUSTED). Retried. */
    RATE_LIMITED(true),
    /** HTTP 5xx. Retried. */
    SERVER(true),
    /** No complete answer within the timeout. Retried. */
    TIMEOUT(true),
    /** Connection refused or reset, DNS, TLS. Retried. */
    NETWORK(true),
    /** Another HTTP 4xx (400 INVALID_ARGUMENT, 401, 403, 404...): the request must change. */
    CLIENT(false),
    /** The worker's credentials could not give a token. */
    AUTH(false),
    /** The answer is larger than {@link GeminiClient#MAX_RESPONSE_BYTES}. */
    RESPONSE_TOO_LARGE(false),
    /** HTTP 200 whose body is not a generateContent response, or has no text, or was cut short. */
    BAD_RESPONSE(false),
    /** The model refused (safety, recitation, blocklist, prohibited content...). */
    BLOCKED(false);

    private final boolean retryable;

    Kind(boolean retryable) {
      this.retryable = retryable;
    }

    public boolean retryable() {
      return retryable;
    }
  }

  private final Kind kind;
  private final int httpStatus;
  private final int attempts;
  private final long latencyMillis;
  private final @Nullable GeminiClient.Usage usage;

  GeminiException(
      Kind kind,
      int httpStatus,
      String message,
      int attempts,
      long latencyMillis,
      @Nullable GeminiClient.Usage usage) {
    super(message);
    this.kind = kind;
    this.httpStatus = httpStatus;
    this.attempts = attempts;
    this.latencyMillis = latencyMillis;
    this.usage = usage;
  }

  GeminiException withAttempts(int attempts, long latencyMillis) {
    return new GeminiException(kind, httpStatus, getMessage(), attempts, latencyMillis, usage);
  }

  public Kind kind() {
    return kind;
  }

  public boolean retryable() {
    return kind.retryable();
  }

  /** The last HTTP status, 0 when there was none (timeout, network). */
  public int httpStatus() {
    return httpStatus;
  }

  /** HTTP exchanges made, retries included. */
  public int attempts() {
    return attempts;
  }

  /** Wall time of the whole call, backoffs included. */
  public long latencyMillis() {
    return latencyMillis;
  }

  /** Tokens billed by an HTTP 200 that was still unusable (blocked, cut short), else null. */
  public @Nullable GeminiClient.Usage usage() {
    return usage;
  }
}
