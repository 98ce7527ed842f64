package com.aiprod.pipeline.qa;

import com.aiprod.pipeline.JobStageFn;
import com.aiprod.pipeline.StageTags;
import com.aiprod.pipeline.model.Job;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTagList;

/**
 * SemanticQa (DESIGN §6). Production scores with Gemini; this build has the local heuristic only,
 * {@value CoverageHeuristic#NAME}: how much of the content's sentences the shot prompts cover. The
 * job records which scorer produced its score.
 */
public final class SemanticQa extends PTransform<PCollection<Job>, PCollectionTuple> {
  @Override
  public PCollectionTuple expand(PCollection<Job> jobs) {
    return jobs.apply(
        "ScoreCoverage",
        ParDo.of(new ScoreFn()).withOutputTags(StageTags.JOBS, TupleTagList.of(StageTags.DEAD_LETTERS)));
  }

  static final class ScoreFn extends JobStageFn {
    ScoreFn() {
      super("SemanticQa");
    }

    @Override
    protected void apply(Job job, MultiOutputReceiver out) {
      double score = CoverageHeuristic.score(job.getRequest().getContent(), job.getRequest().getLang(), job.getShots());
      out.get(StageTags.JOBS).output(job.toBuilder().setQaSemantic(score).setQaSemanticScorer(CoverageHeuristic.NAME).build());
    }
  }
}
