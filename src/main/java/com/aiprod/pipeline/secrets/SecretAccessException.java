package com.aiprod.pipeline.secrets;

/**
 * A secret could not be resolved. The message names the secret, the source and what to fix (the
 * permission or the chmod to run); it never contains a secret value.
 */
public class SecretAccessException extends RuntimeException {
  private final String secretName;

  public SecretAccessException(String secretName, String message) {
    super(message);
    this.secretName = secretName;
  }

  public SecretAccessException(String secretName, String message, Throwable cause) {
    super(message, cause);
    this.secretName = secretName;
  }

  public String secretName() {
    return secretName;
  }
}
