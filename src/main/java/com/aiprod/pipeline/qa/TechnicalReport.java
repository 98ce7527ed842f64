package com.aiprod.pipeline.qa;

import com.google.auto.value.AutoValue;
import java.io.Serializable;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.beam.sdk.schemas.AutoValueSchema;
import org.apache.beam.sdk.schemas.annotations.DefaultSchema;

/**
 * Result of Technical QA (DESIGN §6): score = passed checks / checks, and every check.
 *
 * <p>Has a Beam schema (fields {@code score}, {@code checks}); accessors are {@code get}-prefixed
 * because {@link AutoValueSchema} only takes such methods as fields.
 */
@DefaultSchema(AutoValueSchema.class)
@AutoValue
public abstract class TechnicalReport implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Passed checks divided by the number of checks, in [0, 1]. */
  public abstract double getScore();

  public abstract List<CheckResult> getChecks();

  /** Builds a report whose score is computed from {@code checks}. */
  public static TechnicalReport of(List<CheckResult> checks) {
    if (checks.isEmpty()) {
      throw new IllegalArgumentException("a technical report needs at least one check");
    }
    long passed = checks.stream().filter(CheckResult::isPassed).count();
    return create((double) passed / checks.size(), checks);
  }

  public static TechnicalReport create(double score, List<CheckResult> checks) {
    return new AutoValue_TechnicalReport(score, List.copyOf(checks));
  }

  /** Names of the checks that failed, in check order. */
  public List<String> failedChecks() {
    return getChecks().stream()
        .filter(c -> !c.isPassed())
        .map(CheckResult::getName)
        .collect(Collectors.toList());
  }
}
