package com.aiprod.pipeline.decide;

import com.aiprod.pipeline.catalog.Charges;
import com.aiprod.pipeline.kernel.JobStageFn;
import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobState;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTagList;

/**
 * Decide (DESIGN §6): DELIVERED, NEEDS_REVIEW or REJECTED from the QA scores and the charge (the
 * list price of the assembled shots, AssembleJobs' {@code cost_usd}); the job leaves charged for
 * its state ({@link Charges}: $0 when REJECTED).
 */
public final class Decide extends PTransform<PCollection<Job>, PCollectionTuple> {
  @Override
  public PCollectionTuple expand(PCollection<Job> jobs) {
    return jobs.apply(
        "ApplyThresholds",
        ParDo.of(new DecideFn())
            .withOutputTags(StageTags.FINISHED, TupleTagList.of(StageTags.DEAD_LETTERS)));
  }

  static final class DecideFn extends JobStageFn {
    DecideFn() {
      super("Decide");
    }

    @Override
    protected void apply(Job job, MultiOutputReceiver out) {
      // A null semantic score: Gemini is configured but semantic QA could not run (SemanticQa
      // put why in the reason); never a silent pass.
      DecisionRules.Decision d =
          job.getQaSemantic() == null
              ? DecisionRules.decideWithoutSemantic(
                  job.getQaTechnical(),
                  job.getCostUsd(),
                  job.getRequest().getBudgetUsd(),
                  job.getReason() == null ? "semantic QA did not run" : job.getReason())
              : DecisionRules.decide(
                  job.getQaTechnical(),
                  job.getQaSemantic(),
                  job.getCostUsd(),
                  job.getRequest().getBudgetUsd());
      long now = System.currentTimeMillis();
      Job charged =
          job.toBuilder().setCostUsd(Charges.chargeUsd(d.state(), job.getCostUsd())).build();
      if (d.state() == JobState.DELIVERED) {
        out.get(StageTags.FINISHED)
            .output(charged.transition(JobState.DELIVERED, now, "passed QA"));
      } else {
        out.get(StageTags.FINISHED)
            .output(
                charged.toBuilder()
                    .setReason(d.reason())
                    .build()
                    .transition(d.state(), now, d.reason()));
      }
    }
  }
}
