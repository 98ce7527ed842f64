package com.aiprod.pipeline.audit;

import com.aiprod.pipeline.kernel.AuditEvents;
import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.model.AuditType;
import com.aiprod.pipeline.secrets.ResolvedSecret;
import com.aiprod.pipeline.secrets.SecretAccesses;
import com.aiprod.pipeline.secrets.SecretSource;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;

/**
 * Signs every audit event (DESIGN §9; {@link AuditSignatures}) with secret {@value
 * AuditSignatures#KEY_SECRET}, resolved in {@code @Setup} through the worker's resolver of {@code
 * --secretSource}. Each DoFn instance emits, with the first element it processes, one signed
 * SECRET_ACCESS event for the key version it resolved (event id per run, source, secret and
 * version), then passes every event through, signed.
 */
public final class SignAuditEvents
    extends PTransform<PCollection<AuditEvent>, PCollection<AuditEvent>> {
  private final SecretSource secrets;
  private final AuditEvents audit;

  public SignAuditEvents(SecretSource secrets, AuditEvents audit) {
    this.secrets = secrets;
    this.audit = audit;
  }

  @Override
  public PCollection<AuditEvent> expand(PCollection<AuditEvent> events) {
    String run = events.getPipeline().getOptions().getJobName();
    return events
        .apply("Sign", ParDo.of(new SignFn(secrets, audit, run)))
        .setCoder(events.getCoder());
  }

  static final class SignFn extends DoFn<AuditEvent, AuditEvent> {
    private final SecretSource secrets;
    private final AuditEvents audit;
    private final String run;
    private transient SecretAccesses accesses;
    private transient ResolvedSecret key;

    /**
     * SECURITY_ALERT events (forged tokens, auth-failure bursts), counted where every audit event
     * passes: Cloud Monitoring alerts on it (terraform/monitoring.tf).
     */
    private final org.apache.beam.sdk.metrics.Counter securityAlerts =
        org.apache.beam.sdk.metrics.Metrics.counter("aiprod", "security_alerts");

    SignFn(SecretSource secrets, AuditEvents audit, String run) {
      this.secrets = secrets;
      this.audit = audit;
      this.run = run;
    }

    @Setup
    public void setup() throws java.io.IOException {
      if (!secrets.isSecretManager()) {
        // The local equivalent of Secret Manager: like the dev key pair, the audit key of a
        // secrets directory is made on first use (32 random bytes, owner-only), so a local run
        // signs its audit trail without a setup step. Secret Manager keys are never invented.
        LocalSecrets.ensureAuditKey(java.nio.file.Paths.get(secrets.location()));
      }
      accesses = new SecretAccesses(secrets.resolver());
      key = accesses.resolve(AuditSignatures.KEY_SECRET);
    }

    @ProcessElement
    public void process(@Element AuditEvent e, OutputReceiver<AuditEvent> out) {
      for (AuditEvent access :
          accesses.drainEvents(audit, run, "SignAuditEvents", System.currentTimeMillis())) {
        out.output(AuditSignatures.sign(access, key));
      }
      if (AuditType.SECURITY_ALERT.name().equals(e.getEventType())) {
        securityAlerts.inc();
      }
      out.output(AuditSignatures.sign(e, key));
    }
  }
}
