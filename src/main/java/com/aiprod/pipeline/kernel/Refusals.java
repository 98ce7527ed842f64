package com.aiprod.pipeline.kernel;

import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.model.Job;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** The PERMISSION_DENIED audit event that goes with every refusal (DESIGN §9). */
public final class Refusals {
  private Refusals() {}

  public static AuditEvent event(AuditEvents audit, Job rejected, String stage) {
    ObjectNode d =
        AuditEvents.details()
            .put("reason_code", rejected.getReasonCode())
            .put("reason", rejected.getReason())
            .put("stage", stage)
            .put("role", rejected.getRole())
            .put("plan", rejected.getPlan());
    return audit.event(
        AuditEvents.PERMISSION_DENIED,
        AuditEvents.DENIED,
        "submit_job",
        rejected.getMessageId(),
        rejected.getTenant(),
        rejected.getUid(),
        rejected.getJobId(),
        "tenants/" + rejected.getTenant() + "/jobs/" + rejected.getJobId(),
        d,
        System.currentTimeMillis(),
        stage);
  }
}
