package com.aiprod.pipeline.kernel;

import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.model.AuditStatus;
import com.aiprod.pipeline.model.AuditType;
import com.aiprod.pipeline.model.Job;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The ADMIN_ACTION {@code cancel_job} event of an authorized cancel: {@code success} when it ended
 * its job CANCELLED, {@code failure} when the job had ended without it. AuthorizeCancels records it
 * for a job whose document is terminal (and in batch); in streaming AssembleJobs records it for a
 * running job, in the job's keyed state where the cancel takes effect. Both use one discriminator,
 * so a cancel has one event id whichever stage decides it.
 */
public final class CancelAudit {
  public static final String ACTION = "cancel_job";
  static final String DISCRIMINATOR = "AuthorizeCancels";

  private CancelAudit() {}

  /** The cancel ended its job CANCELLED; {@code jobState} is the state it found. */
  public static AuditEvent accepted(AuditEvents audit, Job cancel, String jobState, long now) {
    return event(audit, AuditStatus.SUCCESS, cancel, details(cancel, jobState), now);
  }

  /** The job had ended ({@code jobState}) before the cancel reached it: nothing changed. */
  public static AuditEvent tooLate(
      AuditEvents audit, Job cancel, String jobState, String reason, long now) {
    ObjectNode d = details(cancel, jobState).put("reason", reason);
    return event(audit, AuditStatus.FAILURE, cancel, d, now);
  }

  private static ObjectNode details(Job cancel, String jobState) {
    return AuditEvents.details().put("role", cancel.getRole()).put("job_state", jobState);
  }

  private static AuditEvent event(
      AuditEvents audit, AuditStatus status, Job cancel, ObjectNode d, long now) {
    return audit
        .event(AuditType.ADMIN_ACTION, status, ACTION)
        .about(cancel)
        .details(d)
        .at(now)
        .discriminator(DISCRIMINATOR)
        .build();
  }
}
