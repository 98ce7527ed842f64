package com.aiprod.pipeline.plan;

import com.aiprod.pipeline.JobStageFn;
import com.aiprod.pipeline.StageTags;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobState;
import com.aiprod.pipeline.model.ShotSpec;
import java.util.List;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTagList;

/**
 * Plan (DESIGN §6): the local planner splits the content into shots of the routed backend's clip
 * length. {@code mode=estimate} ends here as ESTIMATED (a quote with its plan); other jobs move
 * on to RENDERING.
 */
public final class Plan extends PTransform<PCollection<Job>, PCollectionTuple> {
  @Override
  public PCollectionTuple expand(PCollection<Job> jobs) {
    return jobs.apply(
        "PlanShots",
        ParDo.of(new PlanFn())
            .withOutputTags(StageTags.JOBS, TupleTagList.of(StageTags.FINISHED).and(StageTags.DEAD_LETTERS)));
  }

  static final class PlanFn extends JobStageFn {
    private final Counter planned = Metrics.counter("aiprod", "jobs_planned");

    PlanFn() {
      super("Plan");
    }

    @Override
    protected void apply(Job job, MultiOutputReceiver out) {
      // A quote that no backend can take (none meets the quality floor) has no clip grid to plan on.
      List<ShotSpec> shots =
          job.getClipSeconds() > 0
              ? LocalPlanner.plan(job.getJobId(), job.getRequest(), job.getClipSeconds())
              : List.of();
      long now = System.currentTimeMillis();
      Job plannedJob =
          job.toBuilder()
              .setShots(shots)
              .build()
              .transition(
                  JobState.PLANNED,
                  now,
                  shots.size() + " shots on " + (job.getBackend() == null ? "no backend" : job.getBackend())
                      + ", estimate $"
                      + String.format(java.util.Locale.ROOT, "%.2f", job.getEstimateUsd()));
      planned.inc();
      if ("estimate".equals(job.getRequest().getMode())) {
        out.get(StageTags.FINISHED)
            .output(plannedJob.transition(JobState.ESTIMATED, now, "quote only, nothing rendered"));
        return;
      }
      out.get(StageTags.JOBS).output(plannedJob.transition(JobState.RENDERING, now, "rendering"));
    }
  }
}
