package com.aiprod.pipeline.kernel;

import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.model.DeadLetter;
import com.aiprod.pipeline.model.Job;
import org.apache.beam.sdk.values.TupleTag;

/**
 * The side outputs every stage shares: audit events, dead letters, and jobs that reached a terminal
 * state early (refusals, estimates) and go straight to Deliver.
 */
public final class StageTags {
  public static final TupleTag<AuditEvent> AUDIT = new TupleTag<AuditEvent>() {};
  public static final TupleTag<DeadLetter> DEAD_LETTERS = new TupleTag<DeadLetter>() {};
  public static final TupleTag<Job> FINISHED = new TupleTag<Job>() {};

  /**
   * Parts of messages' outcomes that a stage or sink has committed, for {@code
   * AcknowledgeOutcomes}.
   */
  public static final TupleTag<OutcomePart> OUTCOMES = new TupleTag<OutcomePart>() {};

  /** Jobs moving on to the next stage. */
  public static final TupleTag<Job> JOBS = new TupleTag<Job>() {};

  private StageTags() {}
}
