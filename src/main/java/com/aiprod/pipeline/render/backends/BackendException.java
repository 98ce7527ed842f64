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
  private final boolean inputFault;
  private final boolean outcomeUnknown;

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
    this(kind, httpStatus, retryAfterMillis, message, cause, false, false);
  }

  private BackendException(
      Kind kind,
      int httpStatus,
      @Nullable Long retryAfterMillis,
      String message,
      @Nullable Throwable cause,
      boolean inputFault,
      boolean outcomeUnknown) {
    super(message, cause);
    this.kind = kind;
    this.httpStatus = httpStatus;
    this.retryAfterMillis = retryAfterMillis;
    this.inputFault = inputFault;
    this.outcomeUnknown = outcomeUnknown;
  }

  /**
   * A refusal of the request itself (its prompt or parameters: a 4xx on create, a shot the backend
   * cannot render): it says nothing about the provider's health.
   */
  public static BackendException refused(int httpStatus, String message) {
    return new BackendException(Kind.PERMANENT, httpStatus, null, message, null, true, false);
  }

  /** This failure, attributed to the request (see {@link #inputFault()}). */
  public BackendException asInputFault() {
    return new BackendException(
        kind, httpStatus, retryAfterMillis, getMessage(), getCause(), true, outcomeUnknown);
  }

  /** This failure of a create call that may nevertheless have made (and billed) a generation. */
  public BackendException asOutcomeUnknown() {
    return new BackendException(
        kind, httpStatus, retryAfterMillis, getMessage(), getCause(), inputFault, true);
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

  /** The request was refused or failed for what it asked (never counts against the provider). */
  public boolean inputFault() {
    return inputFault;
  }

  /**
   * A create whose request was sent but whose answer was lost or unusable (timeout, connection
   * reset, 5xx, a 2xx without an id): a generation may exist, so another create must not follow
   * before it has been looked for.
   */
  public boolean outcomeUnknown() {
    return outcomeUnknown;
  }

  /**
   * Whether this failure is the provider's fault and counts against its circuit (DESIGN §13): 5xx,
   * 408, timeouts, connection failures, malformed or lying answers, bad outputs. Not: refusals of
   * the request ({@link #inputFault()}), 429 (it counts only once its retries are exhausted: the
   * caller decides) and 401/403 (our credentials).
   */
  public boolean providerFault() {
    if (inputFault || kind == Kind.AUTH || httpStatus == 429) {
      return false;
    }
    return true;
  }

  /** The provider's {@code Retry-After}, in milliseconds, when it sent one. */
  public @Nullable Long retryAfterMillis() {
    return retryAfterMillis;
  }
}
