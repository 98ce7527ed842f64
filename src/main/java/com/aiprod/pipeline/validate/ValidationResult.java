package com.aiprod.pipeline.validate;

import com.aiprod.pipeline.model.JobRequest;
import com.aiprod.pipeline.model.ReasonCode;
import java.util.List;
import java.util.stream.Collectors;
import javax.annotation.Nullable;

/**
 * Outcome of {@link RequestValidator#validate}: a {@link JobRequest} with every default applied, or
 * every {@link Violation} found (never both). Not {@code Serializable}: {@link JobRequest} is a
 * schema'd AutoValue; a DoFn emits the request or the violations, not this holder.
 */
public final class ValidationResult {
  /** At most this many violations are spelled out in {@link #message()}. */
  public static final int MAX_LISTED = 20;

  private final @Nullable JobRequest request;
  private final List<Violation> violations;

  private ValidationResult(@Nullable JobRequest request, List<Violation> violations) {
    this.request = request;
    this.violations = List.copyOf(violations);
  }

  public static ValidationResult ok(JobRequest request) {
    if (request == null) {
      throw new NullPointerException("request");
    }
    return new ValidationResult(request, List.of());
  }

  public static ValidationResult invalid(List<Violation> violations) {
    if (violations.isEmpty()) {
      throw new IllegalArgumentException("an invalid result needs at least one violation");
    }
    return new ValidationResult(null, violations);
  }

  public boolean isValid() {
    return request != null;
  }

  /**
   * The validated request.
   *
   * @throws IllegalStateException when invalid
   */
  public JobRequest request() {
    if (request == null) {
      throw new IllegalStateException("invalid request: " + message());
    }
    return request;
  }

  /** Every violation, in field order (body-level first); empty when valid. */
  public List<Violation> violations() {
    return violations;
  }

  /** {@link ReasonCode#SCHEMA_VIOLATION} when invalid, else null. */
  public @Nullable ReasonCode reasonCode() {
    return isValid() ? null : ReasonCode.SCHEMA_VIOLATION;
  }

  /**
   * The violations as one line ({@code field: message; field: message}), listing at most {@value
   * #MAX_LISTED} and counting the rest; empty when valid.
   */
  public String message() {
    String listed =
        violations.stream()
            .limit(MAX_LISTED)
            .map(Violation::toString)
            .collect(Collectors.joining("; "));
    int more = violations.size() - MAX_LISTED;
    return more > 0 ? listed + "; and " + more + " more" : listed;
  }

  @Override
  public String toString() {
    return isValid()
        ? "ValidationResult{ok " + request + "}"
        : "ValidationResult{" + message() + "}";
  }
}
