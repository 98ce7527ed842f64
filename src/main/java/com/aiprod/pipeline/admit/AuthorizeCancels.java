package com.aiprod.pipeline.admit;

import com.aiprod.pipeline.ingest.PendingAcks;
import com.aiprod.pipeline.StageTags;
import com.aiprod.pipeline.audit.AuditEvents;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobState;
import com.aiprod.pipeline.model.ReasonCode;
import com.aiprod.pipeline.persist.DeadLetters;
import com.aiprod.pipeline.persist.ExistingJobLookup;
import com.aiprod.pipeline.persist.JobLookup;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTagList;

/**
 * Authorizes {@code action=cancel} requests (DESIGN §3) against the job's document in the
 * requester's tenant: only the owner or an admin of that tenant may cancel. An authorized cancel
 * of a running job goes on ({@link StageTags#JOBS}) to the job's assembly, which ends it
 * CANCELLED, and is recorded as an ADMIN_ACTION; a cancel of a job that already ended changes
 * nothing (ADMIN_ACTION, status failure: the job's terminal document is the outcome). Anyone else
 * gets a PERMISSION_DENIED dead letter and audit event; a job the tenant does not have is a
 * SCHEMA_VIOLATION dead letter. A cancel never creates a document.
 */
public final class AuthorizeCancels extends PTransform<PCollection<Job>, PCollectionTuple> {
  static final String STAGE = "AuthorizeCancels";

  private final AuditEvents audit;
  private final ExistingJobLookup lookup;

  public AuthorizeCancels(AuditEvents audit, ExistingJobLookup lookup) {
    this.audit = audit;
    this.lookup = lookup;
  }

  @Override
  public PCollectionTuple expand(PCollection<Job> cancels) {
    return cancels
        .apply("LookUpCancelledJobs", lookup)
        .apply(
            "CheckCancelRights",
            ParDo.of(new AuthorizeFn(audit))
                .withOutputTags(StageTags.JOBS, TupleTagList.of(StageTags.DEAD_LETTERS).and(StageTags.AUDIT)));
  }

  static final class AuthorizeFn extends DoFn<JobLookup, Job> {
    private final AuditEvents audit;
    private final Counter denied = Metrics.counter("aiprod", "permission_denied");
    private final Counter accepted = Metrics.counter("aiprod", "cancels_accepted");
    private final Counter settled = Metrics.counter("aiprod", "cancel_requests_settled");

    AuthorizeFn(AuditEvents audit) {
      this.audit = audit;
    }

    @ProcessElement
    public void process(@Element JobLookup lookup, MultiOutputReceiver out) {
      Job cancel = lookup.getJob();
      String resource = "tenants/" + cancel.getTenant() + "/jobs/" + cancel.getJobId();
      long now = System.currentTimeMillis();
      if (!lookup.exists()) {
        out.get(StageTags.DEAD_LETTERS)
            .output(
                DeadLetters.ofJob(
                    cancel,
                    ReasonCode.SCHEMA_VIOLATION,
                    "no job '" + cancel.getJobId() + "' in tenant '" + cancel.getTenant()
                        + "' to cancel; check the job_id attribute",
                    STAGE));
        return;
      }
      boolean allowed =
          AdmissionRules.mayCancel(
              cancel.getUid(), cancel.getRole(), cancel.getTenant(), lookup.getExistingUid(), cancel.getTenant());
      if (!allowed) {
        denied.inc();
        String why =
            "only the job's owner or an admin of tenant '" + cancel.getTenant() + "' may cancel job '"
                + cancel.getJobId() + "'";
        ObjectNode d = AuditEvents.details().put("reason_code", "PERMISSION_DENIED").put("reason", why)
            .put("role", cancel.getRole());
        out.get(StageTags.AUDIT)
            .output(
                audit.event(
                    AuditEvents.PERMISSION_DENIED, AuditEvents.DENIED, "cancel_job", cancel.getMessageId(),
                    cancel.getTenant(), cancel.getUid(), cancel.getJobId(), resource, d, now, STAGE));
        out.get(StageTags.DEAD_LETTERS)
            .output(DeadLetters.ofJob(cancel, ReasonCode.PERMISSION_DENIED, why, STAGE));
        return;
      }
      JobState state = JobState.valueOf(lookup.getExistingState());
      ObjectNode d = AuditEvents.details().put("role", cancel.getRole()).put("job_state", state.name());
      settled.inc();
      if (state.isTerminal()) {
        d.put("reason", "the job already ended " + state.name() + "; nothing to cancel");
        PendingAcks.settle(cancel.getMessageId()); // the job's terminal document is the outcome
        out.get(StageTags.AUDIT)
            .output(
                audit.event(
                    AuditEvents.ADMIN_ACTION, AuditEvents.FAILURE, "cancel_job", cancel.getMessageId(),
                    cancel.getTenant(), cancel.getUid(), cancel.getJobId(), resource, d, now, STAGE));
        return;
      }
      accepted.inc();
      out.get(StageTags.AUDIT)
          .output(
              audit.event(
                  AuditEvents.ADMIN_ACTION, AuditEvents.SUCCESS, "cancel_job", cancel.getMessageId(),
                  cancel.getTenant(), cancel.getUid(), cancel.getJobId(), resource, d, now, STAGE));
      out.get(StageTags.JOBS).output(cancel);
    }
  }
}
