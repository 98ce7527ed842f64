package com.aiprod.pipeline.kernel;

import com.aiprod.pipeline.model.ReasonCode;
import java.io.Serializable;
import java.util.Objects;

/**
 * Why a job is refused: a DESIGN §10 reason code and a message that says what to fix (it becomes
 * the {@code reason} of the {@code REJECTED} job document).
 *
 * @param code the reason code, e.g. {@link ReasonCode#PERMISSION_DENIED}
 * @param message short, specific, actionable
 */
public record Refusal(ReasonCode code, String message) implements Serializable {
  public Refusal {
    Objects.requireNonNull(code, "code");
    Objects.requireNonNull(message, "message");
  }

  @Override
  public String toString() {
    return code + ": " + message;
  }
}
