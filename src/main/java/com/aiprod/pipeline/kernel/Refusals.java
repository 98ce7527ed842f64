package com.aiprod.pipeline.kernel;

import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.model.AuditStatus;
import com.aiprod.pipeline.model.AuditType;
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
    return audit
        .event(AuditType.PERMISSION_DENIED, AuditStatus.DENIED, "submit_job")
        .about(rejected)
        .details(d)
        .at(System.currentTimeMillis())
        .discriminator(stage)
        .build();
  }
}
