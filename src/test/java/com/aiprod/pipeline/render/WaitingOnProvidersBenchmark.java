package com.aiprod.pipeline.render;

import static com.aiprod.pipeline.testing.StageFixtures.AUDIT;
import static com.aiprod.pipeline.testing.StageFixtures.received;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import com.aiprod.pipeline.assemble.AssembleJobs;
import com.aiprod.pipeline.catalog.PricingTable;
import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.plan.Plan;
import com.aiprod.pipeline.testing.FakeProviders;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What waiting on providers costs (docs/PERFORMANCE.md, "Waiting on providers"): a batch run whose
 * shots all wait on a loopback Runway whose tasks never finish, until their jobs' deadline ends
 * them, on the DirectRunner and on embedded Flink. Measures the process CPU time
 * (OperatingSystemMXBean.getProcessCpuTime) against wall time over the wait (from 2 s after the
 * first task was made to 2 s before the deadline), beside an idle JVM and a DirectRunner run whose
 * only DoFn sleeps. A benchmark, not a test: it prints the numbers and asserts only the outcome
 * (every job FAILED/DEADLINE). Run: {@code mvn -o test -Dtest=WaitingOnProvidersBenchmark
 * -DexcludedGroups=none}; {@code -Dwaiting.seconds} (60), {@code -Dwaiting.jobs} (2, 3 shots each),
 * {@code -Dwaiting.flinkArgs} (more Flink options).
 */
@Tag("benchmark")
class WaitingOnProvidersBenchmark {
  private static final TupleTag<Job> CANCELS = new TupleTag<Job>() {};
  private static final String BODY =
      "{\"content\": \"A lighthouse keeper wakes at dawn. A storm rolls in over the sea. The light"
          + " holds through the night.\", \"mode\": \"final\", \"duration_sec\": 15,"
          + " \"preset\": \"quick_social\"}";
  private static final long WAIT_MS = Long.getLong("waiting.seconds", 60) * 1000;
  private static final int JOBS = Integer.getInteger("waiting.jobs", 2);

  @TempDir Path tmp;
  private FakeProviders providers;

  @BeforeEach
  void start() throws Exception {
    providers = new FakeProviders(tmp);
    providers.runway.runsForever = body -> true;
  }

  @AfterEach
  void stop() {
    providers.close();
  }

  private static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  @Test
  void idleBaseline() throws Exception {
    long c0 = cpuNanos();
    long t0 = System.nanoTime();
    Thread.sleep(WAIT_MS / 3);
    report("idle JVM", c0, t0);
  }

  /** A DoFn that only sleeps. */
  static final class Sleep extends org.apache.beam.sdk.transforms.DoFn<Integer, Integer> {
    private final long millis;

    Sleep(long millis) {
      this.millis = millis;
    }

    @ProcessElement
    public void process(@Element Integer i) throws InterruptedException {
      Thread.sleep(millis);
    }
  }

  /** Control: the DirectRunner with one DoFn that sleeps, no provider, no splittable DoFn. */
  @Test
  void directRunnerWithASleepingDoFn() throws Exception {
    Pipeline p = Pipeline.create(PipelineOptionsFactory.create());
    p.apply(Create.of(1)).apply(org.apache.beam.sdk.transforms.ParDo.of(new Sleep(WAIT_MS / 2)));
    java.util.concurrent.ExecutorService runner =
        java.util.concurrent.Executors.newSingleThreadExecutor();
    java.util.concurrent.Future<?> running = runner.submit(() -> p.run().waitUntilFinish());
    Thread.sleep(4_000);
    long c0 = cpuNanos();
    long t0 = System.nanoTime();
    Thread.sleep(WAIT_MS / 2 - 8_000);
    report("DirectRunner, a DoFn sleeping", c0, t0);
    running.get();
    runner.shutdown();
  }

  @Test
  void directRunner() throws Exception {
    run("DirectRunner", PipelineOptionsFactory.create());
  }

  @Test
  void embeddedFlink() throws Exception {
    List<String> args = new ArrayList<>(List.of("--runner=FlinkRunner", "--flinkMaster=[local]"));
    String extra = System.getProperty("waiting.flinkArgs", "");
    if (!extra.isBlank()) {
      args.addAll(List.of(extra.trim().split("\\s+")));
    }
    PipelineOptions o = PipelineOptionsFactory.fromArgs(args.toArray(new String[0])).create();
    run("Flink [local] " + extra, o);
  }

  private void run(String label, PipelineOptions options) throws Exception {
    String out = Files.createDirectories(tmp.resolve("out-" + label.hashCode())).toString();
    List<Job> jobs = new ArrayList<>();
    for (int i = 0; i < JOBS; i++) {
      jobs.add(
          received("m-wait-" + i, "acme", "job-wait-" + String.format("%04d", i), i + 1, BODY)
              .toBuilder()
              .setInputPayload(null)
              // quick_social's deadline (300 s) falls WAIT_MS from now
              .setReceivedAtMillis(System.currentTimeMillis() - 300_000 + WAIT_MS)
              .setBackend("runway_gen4_turbo")
              .setClipSeconds(5)
              .build());
    }
    Pipeline p = Pipeline.create(options);
    PCollection<Job> rendering = p.apply(Create.of(jobs)).apply(new Plan()).get(StageTags.JOBS);
    PCollectionTuple rendered =
        rendering.apply(
            RenderShots.forBatch(
                AUDIT,
                out,
                null,
                providers.config(out),
                PricingTable.builtIn(),
                RenderPolicy.standard(),
                CircuitBreakers.perWorker("waiting-" + java.util.UUID.randomUUID())));
    PCollectionTuple.of(StageTags.JOBS, rendering)
        .and(RenderShots.RESULTS, rendered.get(RenderShots.RESULTS))
        .and(CANCELS, p.apply("NoCancels", Create.empty(TypeDescriptor.of(Job.class))))
        .apply(
            AssembleJobs.forBatch(
                StageTags.JOBS, RenderShots.RESULTS, CANCELS, out, PricingTable.builtIn()));
    long deadline = jobs.get(0).deadlineAtMillis();
    java.util.concurrent.ExecutorService runner =
        java.util.concurrent.Executors.newSingleThreadExecutor();
    java.util.concurrent.Future<PipelineResult> running =
        runner.submit(
            () -> {
              PipelineResult r = p.run();
              r.waitUntilFinish();
              return r;
            });
    // The window: from 2 s after the first task was made to 2 s before the deadline ends them.
    while (providers.runway.accepted.get() == 0 && System.currentTimeMillis() < deadline) {
      Thread.sleep(50);
    }
    Thread.sleep(2_000);
    long c0 = cpuNanos();
    long t0 = System.nanoTime();
    int waitingShots = providers.runway.accepted.get();
    Thread.sleep(Math.max(0, deadline - 2_000 - System.currentTimeMillis()));
    report(label + ", " + waitingShots + " of " + JOBS * 3 + " shots submitted", c0, t0);
    PipelineResult result = running.get();
    runner.shutdown();
    System.out.printf(
        Locale.ROOT,
        "WAITING %s: run ended %d ms after the deadline; provider creates %d, polls %d, cancels %d%n",
        label,
        System.currentTimeMillis() - deadline,
        providers.runway.accepted.get(),
        providers.runway.polls.get(),
        providers.runway.cancels.get());
    assertThat(counter(result, "jobs_deadline_exceeded"), equalTo((long) JOBS));
    assertThat(counter(result, "shots_deadline"), equalTo(JOBS * 3L));
    assertThat(providers.runway.orphans().size(), equalTo(0));
  }

  private static long counter(PipelineResult r, String name) {
    long sum = 0;
    for (MetricResult<Long> c :
        r.metrics()
            .queryMetrics(
                MetricsFilter.builder()
                    .addNameFilter(MetricNameFilter.named("aiprod", name))
                    .build())
            .getCounters()) {
      sum += c.getAttempted();
    }
    return sum;
  }

  private static void report(String what, long cpu0, long wall0) {
    long cpu = (cpuNanos() - cpu0) / 1_000_000;
    long wall = (System.nanoTime() - wall0) / 1_000_000;
    System.out.printf(
        Locale.ROOT,
        "WAITING %s: process CPU %d ms over %d ms wall = %.1f %% of one core%n",
        what,
        cpu,
        wall,
        100.0 * cpu / wall);
  }
}
