package com.aiprod.pipeline.kernel;

import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.ReasonCode;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A stage's per-job step whose unexpected failure (a bug, never a rule) becomes an INTERNAL_ERROR
 * dead letter for that job instead of a failed bundle that would stop the whole pipeline.
 * Subclasses write {@link #apply}; outputs go to the stage's tags.
 */
public abstract class JobStageFn extends DoFn<Job, Job> {
  private static final Logger LOG = LoggerFactory.getLogger(JobStageFn.class);
  private final String stage;
  private final Counter internalErrors = Metrics.counter("aiprod", "internal_errors");

  protected JobStageFn(String stage) {
    this.stage = stage;
  }

  @ProcessElement
  public void process(@Element Job job, MultiOutputReceiver out) {
    try {
      apply(job, out);
    } catch (RuntimeException e) {
      internalErrors.inc();
      LOG.error(
          "{} failed on job {}/{} (message {}): {}",
          stage,
          job.getTenant(),
          job.getJobId(),
          job.getMessageId(),
          e.toString());
      out.get(StageTags.DEAD_LETTERS)
          .output(
              DeadLetters.ofJob(
                  job, ReasonCode.INTERNAL_ERROR, DeadLetters.unexpected(stage, e), stage, e));
    }
  }

  /** The step itself; may output to {@link StageTags#JOBS}, FINISHED, AUDIT. */
  protected abstract void apply(Job job, MultiOutputReceiver out);
}
