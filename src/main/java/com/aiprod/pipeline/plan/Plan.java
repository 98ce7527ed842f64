package com.aiprod.pipeline.plan;

import com.aiprod.pipeline.kernel.AuditEvents;
import com.aiprod.pipeline.kernel.JobStageFn;
import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.model.AuditStatus;
import com.aiprod.pipeline.model.AuditType;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobState;
import com.aiprod.pipeline.model.ShotSpec;
import com.aiprod.pipeline.vertex.GeminiClient;
import com.aiprod.pipeline.vertex.GeminiConfig;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Locale;
import javax.annotation.Nullable;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTagList;

/**
 * Plan (DESIGN §6): shots of the routed backend's clip length. With a {@link GeminiConfig}, {@link
 * GeminiPlanner} writes the script, shot prompts and consistency markers; without one (or when
 * Gemini fails or answers something invalid) {@link LocalPlanner} splits the content into
 * sentences. The job records which planner made its plan ({@link Job#getPlanner()}) and the PLANNED
 * history entry says why a fallback happened.
 *
 * <p>Audit (Gemini configured): one API_CALL {@code plan_script} per job (status success when
 * Gemini answered, failure when the call failed; details: model, attempts, latency, HTTP status,
 * token usage, finish reason, error) and, when the local planner had to step in, one ERROR {@code
 * plan_fallback} naming the fallback and the cause. No prompt text, no token.
 *
 * <p>{@code mode=estimate} ends here as ESTIMATED (a quote with its plan) and is always planned
 * locally: a quote spends nothing, and its shot count and price do not depend on the planner. Other
 * jobs move on to RENDERING.
 */
public final class Plan extends PTransform<PCollection<Job>, PCollectionTuple> {
  private final @Nullable AuditEvents audit;
  private final @Nullable GeminiConfig gemini;

  /** The local planner only. */
  public Plan() {
    this(null, null);
  }

  /**
   * @param audit builds the API_CALL / ERROR events of Gemini calls; required with {@code gemini}
   * @param gemini null: the local planner (Gemini not configured)
   */
  public Plan(@Nullable AuditEvents audit, @Nullable GeminiConfig gemini) {
    if (gemini != null && audit == null) {
      throw new IllegalArgumentException("Plan with Gemini needs AuditEvents");
    }
    this.audit = audit;
    this.gemini = gemini;
  }

  @Override
  public PCollectionTuple expand(PCollection<Job> jobs) {
    return jobs.apply(
        "PlanShots",
        ParDo.of(new PlanFn(audit, gemini))
            .withOutputTags(
                StageTags.JOBS,
                TupleTagList.of(StageTags.FINISHED)
                    .and(StageTags.DEAD_LETTERS)
                    .and(StageTags.AUDIT)));
  }

  static final class PlanFn extends JobStageFn {
    private final Counter planned = Metrics.counter("aiprod", "jobs_planned");
    private final Counter geminiPlans = Metrics.counter("aiprod", "plans_gemini");
    private final Counter fallbacks = Metrics.counter("aiprod", "plans_gemini_fallback");
    private final @Nullable AuditEvents audit;
    private final @Nullable GeminiConfig gemini;
    private transient @Nullable GeminiClient client;

    PlanFn(@Nullable AuditEvents audit, @Nullable GeminiConfig gemini) {
      super("Plan");
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
      boolean estimate = "estimate".equals(job.getRequest().getMode());
      List<ShotSpec> shots;
      String planner;
      String note = "";
      if (job.getClipSeconds() <= 0) {
        // A quote that no backend can take (none meets the quality floor) has no clip grid to plan
        // on.
        shots = List.of();
        planner = null;
      } else if (client == null || estimate) {
        shots = LocalPlanner.plan(job.getJobId(), job.getRequest(), job.getClipSeconds());
        planner = LocalPlanner.NAME;
      } else {
        GeminiPlanner.Outcome o =
            GeminiPlanner.plan(client, job.getJobId(), job.getRequest(), job.getClipSeconds());
        out.get(StageTags.AUDIT).output(apiCall(job, o));
        if (o.ok()) {
          geminiPlans.inc();
          shots = o.shots();
          planner = gemini.label();
        } else {
          fallbacks.inc();
          out.get(StageTags.AUDIT).output(fallback(job, o));
          shots = LocalPlanner.plan(job.getJobId(), job.getRequest(), job.getClipSeconds());
          planner = LocalPlanner.NAME;
          note = " (fallback: " + o.failure() + ")";
        }
      }
      long now = System.currentTimeMillis();
      Job plannedJob =
          job.toBuilder()
              .setShots(shots)
              .setPlanner(planner)
              .build()
              .transition(
                  JobState.PLANNED,
                  now,
                  shots.size()
                      + " shots on "
                      + (job.getBackend() == null ? "no backend" : job.getBackend())
                      + ", estimate $"
                      + String.format(Locale.ROOT, "%.2f", job.getEstimateUsd())
                      + (planner == null ? "" : ", planned by " + planner + note));
      planned.inc();
      if (estimate) {
        out.get(StageTags.FINISHED)
            .output(plannedJob.transition(JobState.ESTIMATED, now, "quote only, nothing rendered"));
        return;
      }
      out.get(StageTags.JOBS).output(plannedJob.transition(JobState.RENDERING, now, "rendering"));
    }

    private com.aiprod.pipeline.model.AuditEvent apiCall(Job job, GeminiPlanner.Outcome o) {
      ObjectNode d =
          AuditEvents.details()
              .put("provider", "vertex-ai")
              .put("model", gemini.model())
              .put("method", "generateContent")
              .put("purpose", "plan")
              .put("attempts", o.attempts())
              .put("latency_ms", o.latencyMillis());
      if (o.httpStatus() > 0) {
        d.put("http_status", o.httpStatus());
      }
      if (o.usage() != null) {
        d.put("prompt_tokens", o.usage().promptTokens())
            .put("candidates_tokens", o.usage().candidatesTokens())
            .put("total_tokens", o.usage().totalTokens());
      }
      if (o.finishReason() != null && !o.finishReason().isEmpty()) {
        d.put("finish_reason", o.finishReason());
      }
      if (!o.callSucceeded()) {
        d.put("error_kind", o.errorKind() == null ? "UNKNOWN" : o.errorKind().name());
        d.put("error", o.failure());
      } else if (o.ok()) {
        d.put("shots", o.shots().size());
      }
      return audit
          .event(
              AuditType.API_CALL,
              o.callSucceeded() ? AuditStatus.SUCCESS : AuditStatus.FAILURE,
              "plan_script")
          .aboutMessage(job.getMessageId(), job.getTenant(), job.getUid())
          .jobId(job.getJobId())
          .resource(gemini.label())
          .details(d)
          .at(System.currentTimeMillis())
          .discriminator("gemini-plan")
          .build();
    }

    private com.aiprod.pipeline.model.AuditEvent fallback(Job job, GeminiPlanner.Outcome o) {
      ObjectNode d =
          AuditEvents.details()
              .put("from", gemini.label())
              .put("fallback", LocalPlanner.NAME)
              .put("cause", o.callSucceeded() ? "invalid_answer" : "call_failed")
              .put("error", o.failure());
      return audit
          .event(AuditType.ERROR, AuditStatus.ERROR, "plan_fallback")
          .aboutMessage(job.getMessageId(), job.getTenant(), job.getUid())
          .jobId(job.getJobId())
          .resource(LocalPlanner.NAME)
          .details(d)
          .at(System.currentTimeMillis())
          .discriminator("plan-fallback")
          .build();
    }
  }
}
