package com.aiprod.pipeline.qa;

import com.aiprod.pipeline.model.Job;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;

/**
 * SemanticQa (DESIGN §6). Production scores with Gemini; this build has the local heuristic only,
 * {@value CoverageHeuristic#NAME}: how much of the content's sentences the shot prompts cover. The
 * job records which scorer produced its score.
 */
public final class SemanticQa extends PTransform<PCollection<Job>, PCollection<Job>> {
  @Override
  public PCollection<Job> expand(PCollection<Job> jobs) {
    return jobs.apply("ScoreCoverage", ParDo.of(new ScoreFn()));
  }

  static final class ScoreFn extends DoFn<Job, Job> {
    @ProcessElement
    public void process(@Element Job job, OutputReceiver<Job> out) {
      double score = CoverageHeuristic.score(job.getRequest().getContent(), job.getRequest().getLang(), job.getShots());
      out.output(job.toBuilder().setQaSemantic(score).setQaSemanticScorer(CoverageHeuristic.NAME).build());
    }
  }
}
