package com.aiprod.pipeline.price;

import com.aiprod.pipeline.catalog.AdmissionRules;
import com.aiprod.pipeline.catalog.ChargeResult;
import com.aiprod.pipeline.catalog.PricingTable;
import com.aiprod.pipeline.catalog.RouteDecision;
import com.aiprod.pipeline.catalog.RouteOption;
import com.aiprod.pipeline.catalog.Router;
import com.aiprod.pipeline.catalog.SpendLedger;
import com.aiprod.pipeline.jobstore.FirestoreClients;
import com.aiprod.pipeline.kernel.AuditEvents;
import com.aiprod.pipeline.kernel.BackendHealth;
import com.aiprod.pipeline.kernel.JobStageFn;
import com.aiprod.pipeline.kernel.Refusal;
import com.aiprod.pipeline.kernel.Refusals;
import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobState;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import javax.annotation.Nullable;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTagList;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * Price &amp; route (DESIGN §5), then the per-tenant daily spend cap of DESIGN §3: each job is
 * priced and given a backend (or refused with BUDGET_EXCEEDED / NO_BACKEND_AVAILABLE); then each
 * final render has its estimate reserved on its tenant's UTC day in the {@link SpendLedger}
 * (Firestore), and is refused with BUDGET_EXCEEDED when that would take the day's spend over the
 * plan's cap; the reservation is settled to the job's charge when it ends ({@code SettleSpend},
 * DESIGN §5). Previews ($0) and estimates are never charged.
 *
 * <p>Batch: {@code KeyByTenantDay} → {@code GroupByTenantDay} → {@code EnforceDailyCaps} takes a
 * tenant-day's jobs in input order (ordinal), so the earlier lines get the remaining budget; the
 * ledger makes two runs of the same day share the cap. Streaming: a GroupByKey in the global window
 * would never fire, so {@code EnforceDailyCapsOnArrival} charges each job as it arrives; the
 * ledger's transactions serialize concurrent charges of a tenant-day. A ledger failure fails the
 * bundle (the runner retries it; charges are idempotent per job_id), so no job passes unchecked.
 */
public final class PriceAndRoute extends PTransform<PCollection<Job>, PCollectionTuple> {
  static final String STAGE = "PriceAndRoute";

  private final AuditEvents audit;
  private final PricingTable pricing;
  private final Set<String> configuredBackends;
  private final FirestoreClients ledger;
  private final boolean streaming;
  private final BackendHealth.Source health;

  /**
   * The stage with the daily cap kept in the {@link SpendLedger} of {@code ledger}.
   *
   * @param streaming true for an unbounded input: jobs are charged as they arrive, without the
   *     per-tenant-day GroupByKey
   */
  private PriceAndRoute(
      AuditEvents audit,
      PricingTable pricing,
      Set<String> configuredBackends,
      FirestoreClients ledger,
      BackendHealth.Source health,
      boolean streaming) {
    if (ledger == null) {
      throw new IllegalArgumentException("the spend ledger is required");
    }
    this.audit = audit;
    this.pricing = pricing;
    this.configuredBackends = configuredBackends;
    this.ledger = ledger;
    this.health = health;
    this.streaming = streaming;
  }

  /** Batch: a tenant's jobs of one UTC day are charged in input order (a GroupByKey). */
  public static PriceAndRoute forBatch(
      AuditEvents audit,
      PricingTable pricing,
      Set<String> configuredBackends,
      FirestoreClients ledger,
      BackendHealth.Source health) {
    return new PriceAndRoute(audit, pricing, configuredBackends, ledger, health, false);
  }

  /** Streaming: jobs are charged as they arrive, without a GroupByKey. */
  public static PriceAndRoute forStreaming(
      AuditEvents audit,
      PricingTable pricing,
      Set<String> configuredBackends,
      FirestoreClients ledger,
      BackendHealth.Source health) {
    return new PriceAndRoute(audit, pricing, configuredBackends, ledger, health, true);
  }

  @Override
  public PCollectionTuple expand(PCollection<Job> jobs) {
    PCollectionTuple routed =
        jobs.apply(
            "RouteJobs",
            ParDo.of(new RouteFn(audit, pricing, configuredBackends, health))
                .withOutputTags(
                    StageTags.JOBS,
                    TupleTagList.of(StageTags.FINISHED)
                        .and(StageTags.AUDIT)
                        .and(StageTags.DEAD_LETTERS)));
    PCollectionTuple capped =
        streaming
            ? routed
                .get(StageTags.JOBS)
                .apply(
                    "EnforceDailyCapsOnArrival",
                    ParDo.of(new ArrivalCapFn(audit, ledger))
                        .withOutputTags(
                            StageTags.JOBS,
                            TupleTagList.of(StageTags.FINISHED).and(StageTags.AUDIT)))
            : routed
                .get(StageTags.JOBS)
                .apply(
                    "KeyByTenantDay",
                    WithKeys.of(PriceAndRoute::tenantDay).withKeyType(TypeDescriptors.strings()))
                .apply("GroupByTenantDay", GroupByKey.create())
                .apply(
                    "EnforceDailyCaps",
                    ParDo.of(new DailyCapFn(audit, ledger))
                        .withOutputTags(
                            StageTags.JOBS,
                            TupleTagList.of(StageTags.FINISHED).and(StageTags.AUDIT)));
    return PCollectionTuple.of(StageTags.JOBS, capped.get(StageTags.JOBS))
        .and(
            StageTags.FINISHED,
            PCollectionList.of(routed.get(StageTags.FINISHED))
                .and(capped.get(StageTags.FINISHED))
                .apply("FlattenRefused", Flatten.pCollections()))
        .and(StageTags.DEAD_LETTERS, routed.get(StageTags.DEAD_LETTERS))
        .and(
            StageTags.AUDIT,
            PCollectionList.of(routed.get(StageTags.AUDIT))
                .and(capped.get(StageTags.AUDIT))
                .apply("FlattenPriceAudit", Flatten.pCollections()));
  }

  static String tenantDay(Job job) {
    return job.getTenant() + "@" + utcDay(job);
  }

  /** The UTC day a job's spend counts against: the day it was received. */
  static LocalDate utcDay(Job job) {
    return SpendLedger.utcDay(job.getReceivedAtMillis());
  }

  /**
   * Charges a final render's estimate to its tenant-day.
   *
   * @return null when admitted (newly charged, or charged before: a redelivery), else the
   *     BUDGET_EXCEEDED refusal in {@link AdmissionRules}' words
   * @throws SpendLedger.LedgerException when the ledger cannot be reached (the bundle retries)
   */
  static @Nullable Refusal charge(SpendLedger ledger, Job job) {
    ChargeResult r =
        ledger.charge(
            job.getTenant(),
            utcDay(job),
            job.getJobId(),
            job.getEstimateUsd(),
            AdmissionRules.dailyCapUsd(job.getPlan()));
    if (r.admitted()) {
      return null;
    }
    Refusal refusal =
        AdmissionRules.checkBudget(job.getPlan(), r.spentBeforeUsd(), job.getEstimateUsd());
    if (refusal == null) {
      throw new IllegalStateException(
          "the ledger refused job "
              + job.getJobId()
              + " (spent "
              + r.spentBeforeUsd()
              + ", estimate "
              + job.getEstimateUsd()
              + ", cap "
              + r.capUsd()
              + ") but the cap rule admits it");
    }
    return refusal;
  }

  /** Outputs a refused job and its PERMISSION_DENIED event. */
  private static void refuse(
      AuditEvents audit, Counter denied, Job job, Refusal refusal, DoFn.MultiOutputReceiver out) {
    denied.inc();
    Job rejected =
        job.finish(
            JobState.REJECTED, refusal.code(), refusal.message(), System.currentTimeMillis());
    out.get(StageTags.AUDIT).output(Refusals.event(audit, rejected, STAGE));
    out.get(StageTags.FINISHED).output(rejected);
  }

  static final class RouteFn extends JobStageFn {
    private final AuditEvents audit;
    private final PricingTable pricing;
    private final Set<String> configured;
    private final BackendHealth.Source healthSource;
    private final Counter denied = Metrics.counter("aiprod", "permission_denied");
    private transient Router router;
    private transient BackendHealth health;

    RouteFn(
        AuditEvents audit,
        PricingTable pricing,
        Set<String> configured,
        BackendHealth.Source healthSource) {
      super(STAGE);
      this.audit = audit;
      this.pricing = pricing;
      this.configured = configured;
      this.healthSource = healthSource;
    }

    @Setup
    public void setup() {
      router = new Router(pricing);
      health = healthSource.open();
    }

    @Override
    protected void apply(Job job, MultiOutputReceiver out) {
      RouteDecision route =
          router.route(
              job.getRequest(), configured, health.unavailable(System.currentTimeMillis()));
      if ("estimate".equals(job.getRequest().getMode())) {
        // A quote is never refused: it records the route a final would take, or why none fits.
        out.get(StageTags.JOBS)
            .output(
                job.toBuilder()
                    .setBackend(route.backend())
                    .setEstimateUsd(route.estimateUsd())
                    .setClipSeconds(route.clipSeconds())
                    .setReason(route.routed() ? null : route.message())
                    .build());
        return;
      }
      if (!route.routed()) {
        denied.inc();
        Job rejected =
            job.toBuilder()
                .setEstimateUsd(route.estimateUsd())
                .build()
                .finish(
                    JobState.REJECTED,
                    route.reasonCode(),
                    route.message(),
                    System.currentTimeMillis());
        out.get(StageTags.AUDIT).output(Refusals.event(audit, rejected, STAGE));
        out.get(StageTags.FINISHED).output(rejected);
        return;
      }
      List<String> fallbacks = new ArrayList<>();
      route.candidates().stream()
          .map(RouteOption::backend)
          .filter(b -> !b.equals(route.backend()))
          .forEach(fallbacks::add);
      out.get(StageTags.JOBS)
          .output(
              job.toBuilder()
                  .setBackend(route.backend())
                  .setFallbackBackends(fallbacks)
                  .setEstimateUsd(route.estimateUsd())
                  .setClipSeconds(route.clipSeconds())
                  .build());
    }
  }

  /**
   * What both cap steps share: the ledger opened in {@code @Setup}, and one job either admitted
   * (charged, or not a final) or refused BUDGET_EXCEEDED.
   */
  abstract static class LedgerFn<InT> extends DoFn<InT, Job> {
    private final AuditEvents audit;
    private final FirestoreClients ledgerConfig;
    private final Counter denied = Metrics.counter("aiprod", "permission_denied");
    private transient SpendLedger ledger;

    LedgerFn(AuditEvents audit, FirestoreClients ledgerConfig) {
      this.audit = audit;
      this.ledgerConfig = ledgerConfig;
    }

    @Setup
    public void setup() {
      ledger = new SpendLedger(ledgerConfig);
    }

    /** Previews cost $0 and estimates spend nothing; a final is charged or refused. */
    void admitOrRefuse(Job job, MultiOutputReceiver out) {
      if (!"final".equals(job.getRequest().getMode())) {
        out.get(StageTags.JOBS).output(job);
        return;
      }
      Refusal refusal = charge(ledger, job);
      if (refusal != null) {
        refuse(audit, denied, job, refusal, out);
        return;
      }
      out.get(StageTags.JOBS).output(job);
    }

    @Teardown
    public void teardown() {
      if (ledger != null) {
        ledger.close();
        ledger = null;
      }
    }
  }

  /**
   * Batch: input order within a tenant's UTC day decides who gets the remaining budget; each final
   * is charged through the ledger in that order (so earlier runs of the day count).
   */
  static final class DailyCapFn extends LedgerFn<KV<String, Iterable<Job>>> {
    DailyCapFn(AuditEvents audit, FirestoreClients ledgerConfig) {
      super(audit, ledgerConfig);
    }

    @ProcessElement
    public void process(@Element KV<String, Iterable<Job>> group, MultiOutputReceiver out) {
      List<Job> jobs = new ArrayList<>();
      group.getValue().forEach(jobs::add);
      jobs.sort(Comparator.comparingLong(Job::getOrdinal).thenComparing(Job::getMessageId));
      for (Job job : jobs) {
        admitOrRefuse(job, out);
      }
    }
  }

  /**
   * Streaming: each final is charged as it arrives; the ledger's transactions decide between
   * concurrent charges of a tenant-day.
   */
  static final class ArrivalCapFn extends LedgerFn<Job> {
    ArrivalCapFn(AuditEvents audit, FirestoreClients ledgerConfig) {
      super(audit, ledgerConfig);
    }

    @ProcessElement
    public void process(@Element Job job, MultiOutputReceiver out) {
      admitOrRefuse(job, out);
    }
  }
}
