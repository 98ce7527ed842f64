package com.aiprod.pipeline.validate;

import com.aiprod.pipeline.catalog.PricingTable;
import com.aiprod.pipeline.kernel.DeadLetters;
import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.model.AuthenticatedRequest;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobState;
import com.aiprod.pipeline.model.Principal;
import com.aiprod.pipeline.model.ReasonCode;
import com.aiprod.pipeline.model.RequestMessage;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;

/**
 * Validate (DESIGN §2): the {@code job_id} and {@code action} attributes (a cancel goes out on
 * {@link #CANCELS}, to be authorized against the job's document), then every rule of the request
 * body. A bad {@code job_id} or {@code action} is a dead letter (no document may be named after
 * it); a body that breaks a rule becomes a job already REJECTED with SCHEMA_VIOLATION and a message
 * saying what to fix — it still goes through Admit so that a duplicate job_id is caught before any
 * document is written.
 */
public final class Validate
    extends PTransform<PCollection<AuthenticatedRequest>, PCollectionTuple> {
  public static final Pattern JOB_ID = Pattern.compile("[A-Za-z0-9_-]{8,64}");

  /** Cancel requests ({@code action=cancel}): the requester and the job to cancel. */
  public static final TupleTag<Job> CANCELS = new TupleTag<Job>() {};

  static final String STAGE = "Validate";

  private final PricingTable pricing;

  /** {@code pricing}: the run's one pricing table, which names the valid {@code backend} ids. */
  public Validate(PricingTable pricing) {
    this.pricing = pricing;
  }

  @Override
  public PCollectionTuple expand(PCollection<AuthenticatedRequest> input) {
    return input.apply(
        "ValidateRequests",
        ParDo.of(new ValidateFn(pricing))
            .withOutputTags(StageTags.JOBS, TupleTagList.of(StageTags.DEAD_LETTERS).and(CANCELS)));
  }

  static final class ValidateFn extends DoFn<AuthenticatedRequest, Job> {
    private final Counter failed = Metrics.counter("aiprod", "validation_failed");
    private final PricingTable pricing;

    ValidateFn(PricingTable pricing) {
      this.pricing = pricing;
    }

    @ProcessElement
    public void process(@Element AuthenticatedRequest in, MultiOutputReceiver out) {
      try {
        validate(in, out);
      } catch (RuntimeException e) {
        out.get(StageTags.DEAD_LETTERS)
            .output(
                DeadLetters.of(
                    in.getMessage(),
                    ReasonCode.INTERNAL_ERROR,
                    DeadLetters.unexpected(STAGE, e),
                    STAGE,
                    e));
      }
    }

    private void validate(AuthenticatedRequest in, MultiOutputReceiver out) {
      RequestMessage m = in.getMessage();
      String jobIdAttr = m.getAttributes().get("job_id");
      if (jobIdAttr != null && !JOB_ID.matcher(jobIdAttr).matches()) {
        failed.inc();
        out.get(StageTags.DEAD_LETTERS)
            .output(
                DeadLetters.of(
                    m,
                    ReasonCode.SCHEMA_VIOLATION,
                    "job_id attribute must match [A-Za-z0-9_-]{8,64} (it names the job's document"
                        + " and output folder); omit it to use the message id",
                    STAGE,
                    null));
        return;
      }
      String action = m.getAttributes().getOrDefault("action", "submit");
      if (!"submit".equals(action) && !"cancel".equals(action)) {
        failed.inc();
        out.get(StageTags.DEAD_LETTERS)
            .output(
                DeadLetters.of(
                    m,
                    ReasonCode.SCHEMA_VIOLATION,
                    "action must be 'submit' (default) or 'cancel'",
                    STAGE,
                    null));
        return;
      }
      Principal p = in.getPrincipal();
      if ("cancel".equals(action)) {
        if (jobIdAttr == null) {
          failed.inc();
          out.get(StageTags.DEAD_LETTERS)
              .output(
                  DeadLetters.of(
                      m,
                      ReasonCode.SCHEMA_VIOLATION,
                      "action=cancel needs the job_id attribute of the job to cancel",
                      STAGE,
                      null));
          return;
        }
        out.get(CANCELS)
            .output(
                Job.builder()
                    .setMessageId(m.getMessageId())
                    .setJobId(jobIdAttr)
                    .setTenant(p.getTenant())
                    .setUid(p.getUid())
                    .setRole(p.getRole())
                    .setPlan(p.getPlan())
                    .setReceivedAtMillis(m.getReceivedAtMillis())
                    .setOrdinal(m.getOrdinal())
                    .setAction("cancel")
                    .setState(JobState.RECEIVED.name())
                    .build());
        return;
      }
      long now = System.currentTimeMillis();
      Job received =
          Job.builder()
              .setMessageId(m.getMessageId())
              .setJobId(jobIdAttr != null ? jobIdAttr : m.getDefaultJobId())
              .setTenant(p.getTenant())
              .setUid(p.getUid())
              .setRole(p.getRole())
              .setPlan(p.getPlan())
              .setReceivedAtMillis(m.getReceivedAtMillis())
              .setOrdinal(m.getOrdinal())
              .setInputPayload(new String(m.getPayload(), StandardCharsets.UTF_8))
              .setState(JobState.RECEIVED.name())
              .build()
              .transition(JobState.RECEIVED, m.getReceivedAtMillis(), "request received");
      ValidationResult result = RequestValidator.validate(m.getPayload(), pricing);
      if (result.isValid()) {
        out.get(StageTags.JOBS).output(received.toBuilder().setRequest(result.request()).build());
      } else {
        failed.inc();
        out.get(StageTags.JOBS)
            .output(
                received.finish(
                    JobState.REJECTED, ReasonCode.SCHEMA_VIOLATION, result.message(), now));
      }
    }
  }
}
