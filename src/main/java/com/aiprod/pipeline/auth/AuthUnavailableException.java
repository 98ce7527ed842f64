package com.aiprod.pipeline.auth;

/**
 * Thrown by {@link TokenVerifier#verify} when a token cannot be judged because the signing
 * certificates are unavailable (network or server failure). The request is not at fault, so this is
 * not an {@link AuthResult} failure: callers should retry or report an internal error.
 */
public final class AuthUnavailableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public AuthUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }

  public AuthUnavailableException(String message) {
    super(message);
  }
}
