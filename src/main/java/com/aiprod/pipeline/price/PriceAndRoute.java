package com.aiprod.pipeline.price;

import com.aiprod.pipeline.JobStageFn;
import com.aiprod.pipeline.StageTags;
import com.aiprod.pipeline.admit.AdmissionRules;
import com.aiprod.pipeline.admit.Refusal;
import com.aiprod.pipeline.admit.Refusals;
import com.aiprod.pipeline.audit.AuditEvents;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobState;
import com.aiprod.pipeline.model.ReasonCode;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
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
 * priced and given a backend (or refused with BUDGET_EXCEEDED / NO_BACKEND_AVAILABLE); then, per
 * tenant and UTC day, jobs are taken in arrival order and a final render whose estimate would take
 * the day's spend over the plan's cap is refused with BUDGET_EXCEEDED.
 */
public final class PriceAndRoute extends PTransform<PCollection<Job>, PCollectionTuple> {
  static final String STAGE = "PriceAndRoute";

  private final AuditEvents audit;
  private final PricingTable pricing;
  private final Set<String> configuredBackends;

  public PriceAndRoute(AuditEvents audit, PricingTable pricing, Set<String> configuredBackends) {
    this.audit = audit;
    this.pricing = pricing;
    this.configuredBackends = configuredBackends;
  }

  @Override
  public PCollectionTuple expand(PCollection<Job> jobs) {
    PCollectionTuple routed =
        jobs.apply(
            "RouteJobs",
            ParDo.of(new RouteFn(audit, pricing, configuredBackends))
                .withOutputTags(
                    StageTags.JOBS,
                    TupleTagList.of(StageTags.FINISHED).and(StageTags.AUDIT).and(StageTags.DEAD_LETTERS)));
    PCollectionTuple capped =
        routed
            .get(StageTags.JOBS)
            .apply(
                "KeyByTenantDay",
                WithKeys.of(PriceAndRoute::tenantDay).withKeyType(TypeDescriptors.strings()))
            .apply("GroupByTenantDay", GroupByKey.create())
            .apply(
                "EnforceDailyCaps",
                ParDo.of(new DailyCapFn(audit))
                    .withOutputTags(StageTags.JOBS, TupleTagList.of(StageTags.FINISHED).and(StageTags.AUDIT)));
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
    return job.getTenant() + "@" + Instant.ofEpochMilli(job.getReceivedAtMillis()).atZone(ZoneOffset.UTC).toLocalDate();
  }

  static final class RouteFn extends JobStageFn {
    private final AuditEvents audit;
    private final PricingTable pricing;
    private final Set<String> configured;
    private final Counter denied = Metrics.counter("aiprod", "permission_denied");
    private transient Router router;

    RouteFn(AuditEvents audit, PricingTable pricing, Set<String> configured) {
      super(STAGE);
      this.audit = audit;
      this.pricing = pricing;
      this.configured = configured;
    }

    @Setup
    public void setup() {
      router = new Router(pricing);
    }

    @Override
    protected void apply(Job job, MultiOutputReceiver out) {
      RouteDecision route = router.route(job.getRequest(), configured, Set.of());
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
            job.toBuilder().setEstimateUsd(route.estimateUsd()).build()
                .finish(
                    JobState.REJECTED,
                    route.reasonCode(),
                    route.message(),
                    System.currentTimeMillis());
        out.get(StageTags.AUDIT).output(Refusals.event(audit, rejected, STAGE));
        out.get(StageTags.FINISHED).output(rejected);
        return;
      }
      out.get(StageTags.JOBS)
          .output(
              job.toBuilder()
                  .setBackend(route.backend())
                  .setEstimateUsd(route.estimateUsd())
                  .setClipSeconds(route.clipSeconds())
                  .build());
    }
  }

  /** Arrival order within a tenant's UTC day decides who gets the remaining budget. */
  static final class DailyCapFn extends DoFn<KV<String, Iterable<Job>>, Job> {
    private final AuditEvents audit;
    private final Counter denied = Metrics.counter("aiprod", "permission_denied");

    DailyCapFn(AuditEvents audit) {
      this.audit = audit;
    }

    @ProcessElement
    public void process(@Element KV<String, Iterable<Job>> group, MultiOutputReceiver out) {
      List<Job> jobs = new ArrayList<>();
      group.getValue().forEach(jobs::add);
      jobs.sort(Comparator.comparingLong(Job::getOrdinal).thenComparing(Job::getMessageId));
      double spent = 0;
      for (Job job : jobs) {
        if (!"final".equals(job.getRequest().getMode())) {
          out.get(StageTags.JOBS).output(job); // previews cost $0, estimates spend nothing
          continue;
        }
        Refusal refusal = AdmissionRules.checkBudget(job.getPlan(), spent, job.getEstimateUsd());
        if (refusal != null) {
          denied.inc();
          Job rejected =
              job.finish(JobState.REJECTED, refusal.code(), refusal.message(), System.currentTimeMillis());
          out.get(StageTags.AUDIT).output(Refusals.event(audit, rejected, STAGE));
          out.get(StageTags.FINISHED).output(rejected);
          continue;
        }
        spent += job.getEstimateUsd();
        out.get(StageTags.JOBS).output(job);
      }
    }
  }
}
