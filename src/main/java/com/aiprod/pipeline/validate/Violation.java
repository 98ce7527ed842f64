package com.aiprod.pipeline.validate;

import java.io.Serializable;
import java.util.Objects;

/**
 * One problem with a request body.
 *
 * @param field the offending field ({@code duration_sec}, {@code preferences.fps}), or {@code body}
 *     for the document as a whole
 * @param message what is wrong and what to send instead
 */
public record Violation(String field, String message) implements Serializable {
  public Violation {
    Objects.requireNonNull(field, "field");
    Objects.requireNonNull(message, "message");
  }

  /** {@code field: message}. */
  @Override
  public String toString() {
    return field + ": " + message;
  }
}
