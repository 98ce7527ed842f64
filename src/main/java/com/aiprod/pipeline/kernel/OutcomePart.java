package com.aiprod.pipeline.kernel;

import com.google.auto.value.AutoValue;
import java.util.EnumSet;
import java.util.Set;
import org.apache.beam.sdk.schemas.AutoValueSchema;
import org.apache.beam.sdk.schemas.annotations.DefaultSchema;

/**
 * A part of a message's outcome that a sink has committed (docs/ARCHITECTURE.md "Acknowledgement").
 * Sinks emit these as a PCollection; {@code AcknowledgeOutcomes} consumes them. A message's outcome
 * is durable when {@link Part#OUTCOME} is committed (a dead_letters row, a settled cancel), or all
 * of {@link Part#JOB_PARTS} are (a terminal job: its document, its job_results row and the audit
 * row of its terminal document write).
 */
@DefaultSchema(AutoValueSchema.class)
@AutoValue
public abstract class OutcomePart {
  /** What was committed. */
  public enum Part {
    /** The whole outcome in one write. */
    OUTCOME,
    /** The terminal job document. */
    JOB_DOCUMENT,
    /** The job's job_results row. */
    JOB_RESULTS_ROW,
    /** The audit_events row of the terminal document write. */
    JOB_AUDIT_ROW;

    /** The parts of a terminal job's outcome. */
    public static final Set<Part> JOB_PARTS =
        EnumSet.of(JOB_DOCUMENT, JOB_RESULTS_ROW, JOB_AUDIT_ROW);

    /** What must be committed, with this part, for the outcome to be durable. */
    public Set<Part> required() {
      return this == OUTCOME ? EnumSet.of(OUTCOME) : JOB_PARTS;
    }
  }

  /** The Pub/Sub message id (or the batch line's id) whose outcome this is part of. */
  public abstract String getMessageId();

  /** The {@link Part}'s name. */
  public abstract String getPartName();

  public Part part() {
    return Part.valueOf(getPartName());
  }

  public static OutcomePart of(String messageId, Part part) {
    return new AutoValue_OutcomePart(messageId, part.name());
  }

  /** The whole outcome of {@code messageId}. */
  public static OutcomePart whole(String messageId) {
    return of(messageId, Part.OUTCOME);
  }
}
