package com.aiprod.pipeline.render.backends;

import javax.annotation.Nullable;

/**
 * A backend call that did not work. Its message says what happened in the provider's terms (status
 * code, provider error) and never contains a secret, a token or the prompt.
 */
public final class BackendException extends Exception {
  private static final long serialVersionUID = 1L;

  /** How the render stage should react. */
  public enum Kind {
    /** 429, 5xx, timeouts, connection failures: retry with backoff (honour retryAfterMillis). */
    RETRYABLE,
    /** 401/403: refresh the credentials once, then treat as {@link #PERMANENT}. */
    AUTH,
    /** Other 4xx, malformed or lying answers, outputs too large or missing: fall back. */
    PERMANENT
  }

  private final Kind kind;
  private final int httpStatus;
  private final @Nullable Long retryAfterMillis;

  public BackendException(
      Kind kind, int httpStatus, @Nullable Long retryAfterMillis, String message) {
    this(kind, httpStatus, retryAfterMillis, message, null);
  }

  public BackendException(
      Kind kind,
      int httpStatus,
      @Nullable Long retryAfterMillis,
      String message,
      @Nullable Throwable cause) {
    super(message, cause);
    this.kind = kind;
    this.httpStatus = httpStatus;
    this.retryAfterMillis = retryAfterMillis;
  }

  public static BackendException retryable(String message, @Nullable Throwable cause) {
    return new BackendException(Kind.RETRYABLE, 0, null, message, cause);
  }

  public static BackendException permanent(String message) {
    return new BackendException(Kind.PERMANENT, 0, null, message, null);
  }

  public Kind kind() {
    return kind;
  }

  /** The HTTP status of the answer, 0 when there was none (timeout, connection, parse). */
  public int httpStatus() {
    return httpStatus;
  }

  /** The provider's {@code Retry-After}, in milliseconds, when it sent one. */
  public @Nullable Long retryAfterMillis() {
    return retryAfterMillis;
  }
}
