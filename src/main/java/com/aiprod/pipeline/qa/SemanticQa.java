package com.aiprod.pipeline.qa;

import com.aiprod.pipeline.kernel.AuditEvents;
import com.aiprod.pipeline.kernel.JobStageFn;
import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.model.AuditStatus;
import com.aiprod.pipeline.model.AuditType;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.vertex.GeminiClient;
import com.aiprod.pipeline.vertex.GeminiConfig;
import com.fasterxml.jackson.databind.node.ObjectNode;
import javax.annotation.Nullable;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTagList;

/**
 * SemanticQa (DESIGN §6). With a {@link GeminiConfig}, {@link GeminiScorer} scores the rendered
 * shots' frames against the plan (scorer {@code gemini:<model>}); without one, the local heuristic
 * {@value CoverageHeuristic#NAME} (coverage of the content's sentences by the shot prompts). The
 * job records which scorer produced its score.
 *
 * <p>When Gemini is configured but scoring cannot run (frames unreadable, the call failed after its
 * retries, an invalid answer), the heuristic is <b>not</b> substituted: it measures the plan, not
 * the video, and would let an unchecked video be DELIVERED. The job keeps {@code qaSemantic} null,
 * {@code qaSemanticScorer = gemini:<model>} and {@code reason = "semantic QA could not run: …"};
 * {@code Decide} then rejects it on technical QA alone or else sends it to NEEDS_REVIEW with that
 * reason. Audit: one API_CALL {@code score_semantic} per Gemini call (details: model, attempts,
 * latency, HTTP status, tokens, frames sent, the four scores and the weighted score), and an ERROR
 * {@code semantic_qa_unavailable} when scoring could not run. No prompt text, no frames, no token.
 */
public final class SemanticQa extends PTransform<PCollection<Job>, PCollectionTuple> {
  /** Prefix of the reason of a job whose semantic QA could not run. */
  public static final String UNAVAILABLE = "semantic QA could not run: ";

  private final @Nullable AuditEvents audit;
  private final @Nullable GeminiConfig gemini;

  /** The local heuristic only (Gemini not configured). */
  public SemanticQa() {
    this(null, null);
  }

  /**
   * @param audit builds the API_CALL / ERROR events; required with {@code gemini}
   * @param gemini null: the local heuristic
   */
  public SemanticQa(@Nullable AuditEvents audit, @Nullable GeminiConfig gemini) {
    if (gemini != null && audit == null) {
      throw new IllegalArgumentException("SemanticQa with Gemini needs AuditEvents");
    }
    this.audit = audit;
    this.gemini = gemini;
  }

  @Override
  public PCollectionTuple expand(PCollection<Job> jobs) {
    return jobs.apply(
        gemini == null ? "ScoreCoverage" : "ScoreWithGemini",
        ParDo.of(new ScoreFn(audit, gemini))
            .withOutputTags(
                StageTags.JOBS, TupleTagList.of(StageTags.DEAD_LETTERS).and(StageTags.AUDIT)));
  }

  static final class ScoreFn extends JobStageFn {
    private final Counter unavailable = Metrics.counter("aiprod", "semantic_qa_unavailable");
    private final @Nullable AuditEvents audit;
    private final @Nullable GeminiConfig gemini;
    private transient @Nullable GeminiClient client;

    ScoreFn(@Nullable AuditEvents audit, @Nullable GeminiConfig gemini) {
      super("SemanticQa");
      this.audit = audit;
      this.gemini = gemini;
    }

    @Setup
    public void setup() {
      if (gemini != null) {
        client = new GeminiClient(gemini);
      }
    }

    @Override
    protected void apply(Job job, MultiOutputReceiver out) {
      if (client == null) {
        double score =
            CoverageHeuristic.score(
                job.getRequest().getContent(), job.getRequest().getLang(), job.getShots());
        out.get(StageTags.JOBS)
            .output(
                job.toBuilder()
                    .setQaSemantic(score)
                    .setQaSemanticScorer(CoverageHeuristic.NAME)
                    .build());
        return;
      }
      GeminiScorer.Outcome o = GeminiScorer.score(client, job);
      if (o.callMade()) {
        out.get(StageTags.AUDIT).output(apiCall(job, o));
      }
      if (o.ok()) {
        out.get(StageTags.JOBS)
            .output(
                job.toBuilder()
                    .setQaSemantic(o.scores().weighted())
                    .setQaSemanticScorer(gemini.label())
                    .build());
        return;
      }
      unavailable.inc();
      out.get(StageTags.AUDIT).output(unavailableEvent(job, o));
      out.get(StageTags.JOBS)
          .output(
              job.toBuilder()
                  .setQaSemantic(null)
                  .setQaSemanticScorer(gemini.label())
                  .setReason(UNAVAILABLE + o.failure())
                  .build());
    }

    private AuditEvent apiCall(Job job, GeminiScorer.Outcome o) {
      ObjectNode d =
          AuditEvents.details()
              .put("provider", "vertex-ai")
              .put("model", gemini.model())
              .put("method", "generateContent")
              .put("purpose", "semantic_qa")
              .put("attempts", o.attempts())
              .put("latency_ms", o.latencyMillis())
              .put("frames", o.framesSent());
      if (o.httpStatus() > 0) {
        d.put("http_status", o.httpStatus());
      }
      if (o.usage() != null) {
        d.put("prompt_tokens", o.usage().promptTokens())
            .put("candidates_tokens", o.usage().candidatesTokens())
            .put("total_tokens", o.usage().totalTokens());
      }
      if (o.ok()) {
        GeminiScorer.Scores s = o.scores();
        d.put("style", s.style())
            .put("narrative", s.narrative())
            .put("emotion", s.emotion())
            .put("visual", s.visual())
            .put("score", s.weighted());
      } else if (!o.callSucceeded()) {
        d.put("error_kind", o.errorKind() == null ? "UNKNOWN" : o.errorKind().name());
        d.put("error", o.failure());
      }
      return audit
          .event(
              AuditType.API_CALL,
              o.callSucceeded() ? AuditStatus.SUCCESS : AuditStatus.FAILURE,
              "score_semantic")
          .aboutMessage(job.getMessageId(), job.getTenant(), job.getUid())
          .jobId(job.getJobId())
          .resource(gemini.label())
          .details(d)
          .at(System.currentTimeMillis())
          .discriminator("gemini-semantic-qa")
          .build();
    }

    private AuditEvent unavailableEvent(Job job, GeminiScorer.Outcome o) {
      ObjectNode d =
          AuditEvents.details()
              .put("scorer", gemini.label())
              .put(
                  "cause",
                  !o.callMade()
                      ? "frames_unreadable"
                      : o.callSucceeded() ? "invalid_answer" : "call_failed")
              .put("error", o.failure())
              .put(
                  "consequence",
                  "no semantic score; the job goes to NEEDS_REVIEW unless technical QA rejects it");
      return audit
          .event(AuditType.ERROR, AuditStatus.ERROR, "semantic_qa_unavailable")
          .aboutMessage(job.getMessageId(), job.getTenant(), job.getUid())
          .jobId(job.getJobId())
          .resource(gemini.label())
          .details(d)
          .at(System.currentTimeMillis())
          .discriminator("semantic-qa-unavailable")
          .build();
    }
  }
}
