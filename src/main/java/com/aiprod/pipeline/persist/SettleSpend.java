package com.aiprod.pipeline.persist;

import com.aiprod.pipeline.catalog.SpendLedger;
import com.aiprod.pipeline.jobstore.FirestoreClients;
import com.aiprod.pipeline.kernel.AuditEvents;
import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.model.AuditStatus;
import com.aiprod.pipeline.model.AuditType;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobState;
import java.time.Duration;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;

/**
 * Settles the daily-cap reservation of each ended final render to its charge (DESIGN §5
 * "Charging"): {@link SpendLedger#settle} on the tenant's UTC day of receipt, with the job's {@code
 * cost_usd}. Idempotent per job and amount, so a retried bundle or a redelivered ended job ({@link
 * Deliver.EndedJobRows}) never refunds twice. Jobs other than terminal {@code mode=final} ones
 * reserved nothing and are skipped.
 *
 * <p>A ledger that cannot be reached is no reason to fail the run: the settlement becomes an ERROR
 * audit event ({@code settle_spend}) and the reservation stands (the tenant is held to the
 * estimate, never to less) until a redelivery of the job settles it. Outputs those events.
 */
public final class SettleSpend extends PTransform<PCollection<Job>, PCollection<AuditEvent>> {
  /**
   * How long one settlement may take: it holds no job back, so it gives up sooner than an
   * admission's charge ({@link SpendLedger#DEFAULT_TIMEOUT}).
   */
  public static final Duration TIMEOUT = Duration.ofSeconds(30);

  private final AuditEvents audit;
  private final FirestoreClients ledger;
  private final Duration timeout;

  public SettleSpend(AuditEvents audit, FirestoreClients ledger) {
    this(audit, ledger, TIMEOUT);
  }

  /** With {@code timeout} per settlement. */
  public SettleSpend(AuditEvents audit, FirestoreClients ledger, Duration timeout) {
    if (ledger == null) {
      throw new IllegalArgumentException("the spend ledger is required");
    }
    this.audit = audit;
    this.ledger = ledger;
    this.timeout = timeout;
  }

  @Override
  public PCollection<AuditEvent> expand(PCollection<Job> jobs) {
    return jobs.apply("SettleReservations", ParDo.of(new SettleFn(audit, ledger, timeout)));
  }

  /** Whether {@code job} ended and may hold a reservation: a final render, not an estimate. */
  static boolean reserved(Job job) {
    return job.getRequest() != null
        && "final".equals(job.getRequest().getMode())
        && job.stateValue().isTerminal()
        && job.stateValue() != JobState.ESTIMATED;
  }

  static final class SettleFn extends DoFn<Job, AuditEvent> {
    private final AuditEvents audit;
    private final FirestoreClients config;
    private final Duration timeout;
    private final Counter settled = Metrics.counter("aiprod", "spend_settlements");
    private final Counter failed = Metrics.counter("aiprod", "spend_settlement_failures");
    private transient SpendLedger ledger;

    SettleFn(AuditEvents audit, FirestoreClients config, Duration timeout) {
      this.audit = audit;
      this.config = config;
      this.timeout = timeout;
    }

    @Setup
    public void setup() {
      ledger = new SpendLedger(config, timeout);
    }

    @ProcessElement
    public void process(@Element Job job, OutputReceiver<AuditEvent> out) {
      if (!reserved(job)) {
        return;
      }
      try {
        if (ledger
            .settle(
                job.getTenant(),
                SpendLedger.utcDay(job.getReceivedAtMillis()),
                job.getJobId(),
                job.getCostUsd())
            .changed()) {
          settled.inc();
        }
      } catch (SpendLedger.LedgerException | IllegalArgumentException e) {
        failed.inc();
        out.output(
            audit
                .event(AuditType.ERROR, AuditStatus.ERROR, "settle_spend")
                .aboutMessage(job.getMessageId(), job.getTenant(), job.getUid())
                .jobId(job.getJobId())
                .resource(
                    SpendLedger.documentPath(
                        job.getTenant(), SpendLedger.utcDay(job.getReceivedAtMillis())))
                .details(
                    AuditEvents.details()
                        .put("state", job.getState())
                        .put("cost_usd", job.getCostUsd())
                        .put("reason", e.getMessage()))
                .at(System.currentTimeMillis())
                .discriminator("settle:" + job.getState())
                .build());
      }
    }

    @Teardown
    public void teardown() {
      if (ledger != null) {
        ledger.close();
        ledger = null;
      }
    }
  }
}
