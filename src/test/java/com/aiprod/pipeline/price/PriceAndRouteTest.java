package com.aiprod.pipeline.price;

import static com.aiprod.pipeline.testing.StageFixtures.AUDIT;
import static com.aiprod.pipeline.testing.StageFixtures.eventTypes;
import static com.aiprod.pipeline.testing.StageFixtures.history;
import static com.aiprod.pipeline.testing.StageFixtures.list;
import static com.aiprod.pipeline.testing.StageFixtures.received;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;

import com.aiprod.pipeline.catalog.PricingTable;
import com.aiprod.pipeline.catalog.SpendLedger;
import com.aiprod.pipeline.jobstore.FirestoreClients;
import com.aiprod.pipeline.kernel.BackendHealth;
import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobCoder;
import com.aiprod.pipeline.testing.FirestoreEmulator;
import com.aiprod.pipeline.testing.StageFixtures;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.io.GenerateSequence;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.options.StreamingOptions;
import org.apache.beam.sdk.runners.TransformHierarchy;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class PriceAndRouteTest {
  private static final String CONTENT =
      "\"content\": \"A lighthouse at dawn. Waves crash on the rocks.\"";
  private static final String PREVIEW =
      "{" + CONTENT + ", \"mode\": \"preview\", \"duration_sec\": 10}";

  /** quick_social, 30 s, default budget $1.50. */
  private static final String FINAL = "{" + CONTENT + ", \"mode\": \"final\"}";

  private static final String ESTIMATE = "{" + CONTENT + ", \"mode\": \"estimate\"}";
  private static final String FINAL_CHEAP =
      "{" + CONTENT + ", \"mode\": \"final\", \"budget_usd\": 0.1}";
  private static final String ESTIMATE_CHEAP =
      "{" + CONTENT + ", \"mode\": \"estimate\", \"budget_usd\": 0.1}";
  private static final long HOUR = 3_600_000L;

  private static final String PROJECT = "demo-aiprod";

  /** The UTC day of {@link StageFixtures#T0}. */
  private static final LocalDate DAY =
      Instant.ofEpochMilli(StageFixtures.T0).atZone(ZoneOffset.UTC).toLocalDate();

  private static final Set<String> RUNWAY = Set.of("preview", "runway_gen4_turbo");

  @RegisterExtension static final FirestoreEmulator EMULATOR = new FirestoreEmulator();

  @RegisterExtension final TestPipelineExtension pipeline = TestPipelineExtension.create();

  @BeforeEach
  void clearLedger() throws Exception {
    EMULATOR.clear(PROJECT);
  }

  private static FirestoreClients ledger() {
    return FirestoreClients.of(PROJECT, null, EMULATOR.hostPort());
  }

  private static PriceAndRoute stage(Set<String> backends, boolean streaming) {
    return streaming
        ? PriceAndRoute.forStreaming(
            AUDIT, PricingTable.builtIn(), backends, ledger(), BackendHealth.allHealthy())
        : PriceAndRoute.forBatch(
            AUDIT, PricingTable.builtIn(), backends, ledger(), BackendHealth.allHealthy());
  }

  private static PCollectionTuple route(Pipeline p, Set<String> backends, List<Job> jobs) {
    return p.apply(Create.of(jobs)).apply(stage(backends, false));
  }

  private static double spent(String tenant, LocalDate day) {
    try (SpendLedger l = new SpendLedger(ledger())) {
      return l.spentUsd(tenant, day);
    }
  }

  /** Full names of every transform in the graph. */
  private static List<String> transformNames(Pipeline p) {
    List<String> names = new ArrayList<>();
    p.traverseTopologically(
        new Pipeline.PipelineVisitor.Defaults() {
          @Override
          public CompositeBehavior enterCompositeTransform(TransformHierarchy.Node node) {
            names.add(node.getFullName());
            return CompositeBehavior.ENTER_TRANSFORM;
          }

          @Override
          public void visitPrimitiveTransform(TransformHierarchy.Node node) {
            names.add(node.getFullName());
          }
        });
    return names;
  }

  /** Five $1.50 finals of free tenant acme (cap $5: three fit), then a preview and an estimate. */
  private static List<Job> acmeFreeDay() {
    List<Job> jobs = new ArrayList<>();
    for (int i = 1; i <= 5; i++) {
      jobs.add(received("m-" + i, "acme", "job-000000" + i, i, "user", "free", FINAL));
    }
    jobs.add(received("m-6", "acme", "job-0000006", 6, "user", "free", PREVIEW));
    jobs.add(received("m-7", "acme", "job-0000007", 7, "user", "free", ESTIMATE));
    return jobs;
  }

  private static Job byMessage(Iterable<Job> jobs, String messageId) {
    for (Job j : jobs) {
      if (j.getMessageId().equals(messageId)) {
        return j;
      }
    }
    throw new AssertionError("no job of message " + messageId);
  }

  @Test
  void previewIsRoutedToThePreviewBackend(TestPipeline p) {
    PCollectionTuple out =
        route(p, Set.of("preview"), List.of(received("m-1", "acme", "job-0000001", 1, PREVIEW)));

    PAssert.that(out.get(StageTags.JOBS))
        .satisfies(
            jobs -> {
              Job j = list(jobs).get(0);
              assertThat(list(jobs), hasSize(1));
              assertThat(j.getBackend(), equalTo("preview"));
              assertThat(j.getEstimateUsd(), equalTo(0.0));
              assertThat(j.getClipSeconds(), equalTo(5.0));
              assertThat(j.getState(), equalTo("RECEIVED"));
              return null;
            });
    PAssert.that(out.get(StageTags.FINISHED)).empty();
    PAssert.that(out.get(StageTags.AUDIT)).empty();
    p.run().waitUntilFinish();
  }

  @Test
  void finalWithOnlyThePreviewBackendHasNoBackend(TestPipeline p) {
    PCollectionTuple out =
        route(p, Set.of("preview"), List.of(received("m-1", "acme", "job-0000001", 1, FINAL)));

    PAssert.that(out.get(StageTags.JOBS)).empty();
    PAssert.that(out.get(StageTags.FINISHED))
        .satisfies(
            jobs -> {
              Job j = list(jobs).get(0);
              assertThat(list(jobs), hasSize(1));
              assertThat(j.getState(), equalTo("REJECTED"));
              assertThat(j.getReasonCode(), equalTo("NO_BACKEND_AVAILABLE"));
              assertThat(j.getBackend(), nullValue());
              assertThat(j.getFinishedAtMillis(), notNullValue());
              assertThat(history(j), contains("RECEIVED", "REJECTED"));
              return null;
            });
    PAssert.that(out.get(StageTags.AUDIT))
        .satisfies(
            events -> {
              assertThat(eventTypes(events), contains("PERMISSION_DENIED"));
              AuditEvent e = list(events).get(0);
              assertThat(
                  e.getDetails(), containsString("\"reason_code\":\"NO_BACKEND_AVAILABLE\""));
              assertThat(e.getDetails(), containsString("\"stage\":\"PriceAndRoute\""));
              return null;
            });
    p.run().waitUntilFinish();
  }

  @Test
  void finalOverItsBudgetIsRefused(TestPipeline p) {
    PCollectionTuple out =
        route(
            p,
            Set.of("preview", "replicate_wan"),
            List.of(received("m-1", "acme", "job-0000001", 1, FINAL_CHEAP)));

    PAssert.that(out.get(StageTags.JOBS)).empty();
    PAssert.that(out.get(StageTags.FINISHED))
        .satisfies(
            jobs -> {
              Job j = list(jobs).get(0);
              assertThat(j.getState(), equalTo("REJECTED"));
              assertThat(j.getReasonCode(), equalTo("BUDGET_EXCEEDED"));
              assertThat(j.getReason(), containsString("replicate_wan"));
              return null;
            });
    PAssert.that(out.get(StageTags.AUDIT))
        .satisfies(
            events -> {
              assertThat(eventTypes(events), contains("PERMISSION_DENIED"));
              return null;
            });
    p.run().waitUntilFinish();
  }

  @Test
  void dailyCapRefusesTheLaterFinalsOfATenantsDay(TestPipeline p) {
    // runway_gen4_turbo: 30 s × $0.05 = $1.50 per final; free cap $5: three fit, the fourth would
    // make $6.
    List<Job> jobs = new ArrayList<>();
    for (int i = 1; i <= 5; i++) {
      jobs.add(received("m-" + i, "acme", "job-000000" + i, i, "user", "free", FINAL));
    }
    // After the cap is reached: a preview ($0) and an estimate (spends nothing) still pass.
    jobs.add(received("m-6", "acme", "job-0000006", 6, "user", "free", PREVIEW));
    jobs.add(received("m-7", "acme", "job-0000007", 7, "user", "free", ESTIMATE));
    // Another tenant, and the same tenant the next UTC day (T0 is 16:00 UTC), have budgets of their
    // own.
    jobs.add(received("m-8", "globex", "job-0000008", 8, "user", "free", FINAL));
    jobs.add(
        received("m-9", "acme", "job-0000009", 9, "user", "free", FINAL).toBuilder()
            .setReceivedAtMillis(
                received("m-9", "acme", "job-0000009", 9, FINAL).getReceivedAtMillis() + 9 * HOUR)
            .build());
    Collections.shuffle(jobs, new Random(42));

    PCollectionTuple out = route(p, RUNWAY, jobs);
    // Batch keeps its per-tenant-day grouping, under the names streaming updates depend on.
    assertThat(
        transformNames(p),
        hasItems(
            "PriceAndRoute/RouteJobs",
            "PriceAndRoute/KeyByTenantDay",
            "PriceAndRoute/GroupByTenantDay",
            "PriceAndRoute/EnforceDailyCaps",
            "PriceAndRoute/FlattenRefused",
            "PriceAndRoute/FlattenPriceAudit"));

    PAssert.that(out.get(StageTags.JOBS))
        .satisfies(
            admitted -> {
              assertThat(
                  list(admitted).stream().map(Job::getMessageId).toList(),
                  containsInAnyOrder("m-1", "m-2", "m-3", "m-6", "m-7", "m-8", "m-9"));
              assertThat(byMessage(admitted, "m-1").getBackend(), equalTo("runway_gen4_turbo"));
              assertThat(byMessage(admitted, "m-1").getEstimateUsd(), equalTo(1.5));
              assertThat(byMessage(admitted, "m-6").getBackend(), equalTo("preview"));
              assertThat(byMessage(admitted, "m-7").getEstimateUsd(), equalTo(1.5));
              return null;
            });
    PAssert.that(out.get(StageTags.FINISHED))
        .satisfies(
            refused -> {
              List<Job> all = list(refused);
              all.sort(Comparator.comparing(Job::getMessageId));
              assertThat(all.stream().map(Job::getMessageId).toList(), contains("m-4", "m-5"));
              for (Job j : all) {
                assertThat(j.getState(), equalTo("REJECTED"));
                assertThat(j.getReasonCode(), equalTo("BUDGET_EXCEEDED"));
                assertThat(j.getReason(), containsString("daily cap of $5.00"));
                assertThat(j.getReason(), containsString("$6.00"));
              }
              return null;
            });
    PAssert.that(out.get(StageTags.AUDIT))
        .satisfies(
            events -> {
              List<AuditEvent> all = list(events);
              assertThat(eventTypes(all), contains("PERMISSION_DENIED", "PERMISSION_DENIED"));
              assertThat(
                  all.stream().map(AuditEvent::getMessageId).toList(),
                  containsInAnyOrder("m-4", "m-5"));
              return null;
            });
    p.run().waitUntilFinish();

    // The spend is on record in the ledger, per tenant and UTC day.
    assertThat(spent("acme", DAY), equalTo(4.5));
    assertThat(spent("globex", DAY), equalTo(1.5));
    assertThat(spent("acme", DAY.plusDays(1)), equalTo(1.5));
  }

  @Test
  void aSecondRunOnTheSameDaySeesTheFirstRunsSpend(TestPipeline p) {
    List<Job> first = new ArrayList<>();
    first.add(received("m-1", "acme", "job-0000001", 1, "user", "free", FINAL));
    first.add(received("m-2", "acme", "job-0000002", 2, "user", "free", FINAL));
    PCollectionTuple out1 = route(p, RUNWAY, first);
    PAssert.that(out1.get(StageTags.FINISHED)).empty();
    p.run().waitUntilFinish();
    assertThat(spent("acme", DAY), equalTo(3.0));

    // A later run the same day (a new pipeline, new workers): $2 left, so one more final fits.
    // job-0000001 again (input replayed) is the earlier admission, not a second charge.
    List<Job> second = new ArrayList<>();
    second.add(received("m-1", "acme", "job-0000001", 1, "user", "free", FINAL));
    second.add(received("m-3", "acme", "job-0000003", 3, "user", "free", FINAL));
    second.add(received("m-4", "acme", "job-0000004", 4, "user", "free", FINAL));
    second.add(received("m-5", "acme", "job-0000005", 5, "user", "free", PREVIEW));
    Pipeline p2 =
        Pipeline.create(PipelineOptionsFactory.fromArgs("--runner=DirectRunner").create());
    PCollectionTuple out2 = route(p2, RUNWAY, second);
    PAssert.that(out2.get(StageTags.JOBS))
        .satisfies(
            admitted -> {
              assertThat(
                  list(admitted).stream().map(Job::getMessageId).toList(),
                  containsInAnyOrder("m-1", "m-3", "m-5"));
              return null;
            });
    PAssert.that(out2.get(StageTags.FINISHED))
        .satisfies(
            refused -> {
              Job j = list(refused).get(0);
              assertThat(list(refused), hasSize(1));
              assertThat(j.getMessageId(), equalTo("m-4"));
              assertThat(j.getReasonCode(), equalTo("BUDGET_EXCEEDED"));
              assertThat(
                  j.getReason(),
                  equalTo(
                      "this job's estimate $1.50 would take today's spend to $6.00, over plan free's"
                          + " daily cap of $5.00 ($0.50 left until 00:00 UTC); shorten duration_sec,"
                          + " choose a cheaper preset, wait for the next UTC day or upgrade to pro"));
              return null;
            });
    p2.run().waitUntilFinish();
    assertThat(spent("acme", DAY), equalTo(4.5));
  }

  @Test
  void streamingChargesEachFinalAsItArrivesWithoutGrouping(TestPipeline p) throws Exception {
    p.getOptions().as(StreamingOptions.class).setStreaming(true);
    TestStream.Builder<Job> events = TestStream.create(JobCoder.of());
    for (Job job : acmeFreeDay()) {
      events = events.addElements(job);
    }
    PCollectionTuple out = p.apply(events.advanceWatermarkToInfinity()).apply(stage(RUNWAY, true));

    List<String> names = transformNames(p);
    assertThat(names, hasItem("PriceAndRoute/EnforceDailyCapsOnArrival"));
    assertThat(names, not(hasItem(containsString("GroupByTenantDay"))));
    assertThat(names, not(hasItem(containsString("KeyByTenantDay"))));
    PAssert.that(out.get(StageTags.JOBS))
        .satisfies(
            admitted -> {
              assertThat(
                  list(admitted).stream().map(Job::getMessageId).toList(),
                  containsInAnyOrder("m-1", "m-2", "m-3", "m-6", "m-7"));
              return null;
            });
    PAssert.that(out.get(StageTags.FINISHED))
        .satisfies(
            refused -> {
              List<Job> all = list(refused);
              all.sort(Comparator.comparing(Job::getMessageId));
              assertThat(all.stream().map(Job::getMessageId).toList(), contains("m-4", "m-5"));
              for (Job j : all) {
                assertThat(j.getReasonCode(), equalTo("BUDGET_EXCEEDED"));
                assertThat(j.getReason(), containsString("would take today's spend to $6.00"));
                assertThat(history(j), contains("RECEIVED", "REJECTED"));
              }
              return null;
            });
    PAssert.that(out.get(StageTags.AUDIT))
        .satisfies(
            events2 -> {
              assertThat(eventTypes(events2), contains("PERMISSION_DENIED", "PERMISSION_DENIED"));
              return null;
            });
    p.run().waitUntilFinish();
    assertThat(spent("acme", DAY), equalTo(4.5));
  }

  /**
   * Turns a sequence number into the i-th job of {@link #acmeFreeDay()}; later numbers into
   * nothing.
   */
  static final class NthJobFn extends DoFn<Long, Job> {
    @ProcessElement
    public void process(@Element Long i, OutputReceiver<Job> out) {
      List<Job> jobs = acmeFreeDay();
      if (i < jobs.size()) {
        out.output(jobs.get(i.intValue()));
      }
    }
  }

  @Test
  void anUnboundedStreamIsChargedWhileItRuns() throws Exception {
    PipelineOptions options =
        PipelineOptionsFactory.fromArgs("--runner=DirectRunner", "--streaming=true").create();
    options.as(DirectOptions.class).setBlockOnRun(false);
    Pipeline p = Pipeline.create(options);
    // An input that never ends: a GroupByKey in the global window would never fire on it.
    PCollection<Job> jobs =
        p.apply(
                "Ticks",
                GenerateSequence.from(0).withRate(20, org.joda.time.Duration.standardSeconds(1)))
            .apply("Jobs", ParDo.of(new NthJobFn()));
    jobs.apply(stage(RUNWAY, true));

    PipelineResult result = p.run();
    try {
      long deadline = System.nanoTime() + 60_000_000_000L;
      long refused = 0;
      while (System.nanoTime() < deadline && (spent("acme", DAY) < 4.5 || refused < 2)) {
        Thread.sleep(200);
        refused = deniedCount(result);
      }
      assertThat(result.getState(), equalTo(PipelineResult.State.RUNNING));
      assertThat(spent("acme", DAY), equalTo(4.5));
      assertThat(refused, equalTo(2L));
    } finally {
      result.cancel();
    }
  }

  private static long deniedCount(PipelineResult result) {
    long n = 0;
    for (MetricResult<Long> c :
        result
            .metrics()
            .queryMetrics(
                MetricsFilter.builder()
                    .addNameFilter(MetricNameFilter.named("aiprod", "permission_denied"))
                    .build())
            .getCounters()) {
      n += c.getAttempted();
    }
    return n;
  }

  @Test
  void estimatesAreNeverRefused(TestPipeline p) {
    List<Job> jobs = new ArrayList<>();
    // Over budget, with no final backend configured, and past a free tenant's cap: still quotes.
    jobs.add(received("m-1", "acme", "job-0000001", 1, "user", "free", ESTIMATE_CHEAP));
    for (int i = 2; i <= 6; i++) {
      jobs.add(received("m-" + i, "acme", "job-000000" + i, i, "user", "free", ESTIMATE));
    }
    PCollectionTuple out = route(p, Set.of("preview"), jobs);

    PAssert.that(out.get(StageTags.FINISHED)).empty();
    PAssert.that(out.get(StageTags.AUDIT)).empty();
    PAssert.that(out.get(StageTags.JOBS))
        .satisfies(
            quoted -> {
              List<Job> all = list(quoted);
              assertThat(all, hasSize(6));
              assertThat(all.stream().map(Job::getState).toList(), everyItem(equalTo("RECEIVED")));
              Job cheap = byMessage(all, "m-1");
              assertThat(cheap.getBackend(), nullValue());
              assertThat(
                  cheap.getReason(),
                  containsString("a final render would be refused: budget_usd $0.10"));
              assertThat(cheap.getEstimateUsd(), greaterThan(0.1));
              assertThat(cheap.getClipSeconds(), greaterThan(0.0));
              Job normal = byMessage(all, "m-2");
              assertThat(normal.getBackend(), equalTo("runway_gen4_turbo"));
              assertThat(normal.getReason(), nullValue());
              assertThat(normal.getEstimateUsd(), equalTo(1.5));
              return null;
            });
    p.run().waitUntilFinish();
  }
}
