package com.aiprod.pipeline.decide;

import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobState;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;

/** Decide (DESIGN §6): DELIVERED, NEEDS_REVIEW or REJECTED from the QA scores and the cost. */
public final class Decide extends PTransform<PCollection<Job>, PCollection<Job>> {
  @Override
  public PCollection<Job> expand(PCollection<Job> jobs) {
    return jobs.apply("ApplyThresholds", ParDo.of(new DecideFn()));
  }

  static final class DecideFn extends DoFn<Job, Job> {
    @ProcessElement
    public void process(@Element Job job, OutputReceiver<Job> out) {
      DecisionRules.Decision d =
          DecisionRules.decide(job.getQaTechnical(), job.getQaSemantic(), job.getCostUsd(), job.getRequest().getBudgetUsd());
      long now = System.currentTimeMillis();
      if (d.state() == JobState.DELIVERED) {
        out.output(job.transition(JobState.DELIVERED, now, "passed QA"));
      } else {
        out.output(job.toBuilder().setReason(d.reason()).build().transition(d.state(), now, d.reason()));
      }
    }
  }
}
