package com.aiprod.pipeline;

import com.aiprod.pipeline.flink.FlinkRest;
import com.aiprod.pipeline.flink.LiveCounters;
import com.aiprod.pipeline.ingest.ReadRequests;
import com.aiprod.pipeline.options.AiprodOptions;
import com.aiprod.pipeline.options.OptionsCheck;
import com.aiprod.pipeline.persist.DuckDbWarehouse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import javax.annotation.Nullable;
import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricQueryResults;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.joda.time.Duration;

/**
 * The local-run harness around a pipeline that {@code main} started: runner settings that let it
 * watch the run (DirectRunner, Flink), a progress line every few seconds, {@code
 * --stopAfterOutcomes}, and a clean cancel on SIGTERM. Nothing here is part of the graph.
 */
final class LocalRun {
  private LocalRun() {}

  /** Longest bundle of a streaming run on Flink when none is given (ms; Beam's default 1,000). */
  static final long DEFAULT_FLINK_STREAMING_BUNDLE_MS = 200;

  /** Checkpoint interval of a streaming run on Flink when none is given (ms). */
  static final long DEFAULT_FLINK_CHECKPOINT_INTERVAL_MS = 10_000;

  /**
   * Checkpoint interval of a streaming run on embedded Flink whose messages are acknowledged after
   * their outcome ({@code PubsubOutcomeSource}), when none is given (ms): acknowledgement does not
   * wait for checkpoints there, and each checkpoint serializes every operator's coders (4 % of a
   * streaming profile at 10 s, docs/PERFORMANCE.md).
   */
  static final long OUTCOME_ACKS_CHECKPOINT_INTERVAL_MS = 60_000;

  /**
   * Runner options that let {@code main} watch the run ({@link #awaitWithProgress}) and cancel it;
   * called after {@link #create} (which decides streaming).
   *
   * <ul>
   *   <li>DirectRunner: {@code blockOnRun=false}, or {@code run()} never returns in streaming.
   *   <li>FlinkRunner, batch: {@code fasterCopy=true} unless given (elements pass between chained
   *       operators without a coder copy; our values are immutable).
   *   <li>FlinkRunner, streaming: {@code attachedMode=false} unless given, for the same reason
   *       (attached, {@code run()} returns only when the job ends; detached, the result is a live
   *       handle on the Flink job: state, metrics and cancel). A checkpoint interval of {@value
   *       #DEFAULT_FLINK_CHECKPOINT_INTERVAL_MS} ms unless given: PubsubIO acknowledges messages
   *       only when a checkpoint completes, so without checkpoints nothing is ever acknowledged and
   *       every message is redelivered to the next run. {@code fasterCopy=true} and bundles of at
   *       most {@value #DEFAULT_FLINK_STREAMING_BUNDLE_MS} ms unless given. Batch on Flink stays
   *       attached ({@code run()} returns when the job is done, with its final metrics). Embedded
   *       ({@code [local]}, {@code [auto]}) and without {@code --flinkConfDir}: a generated Flink
   *       configuration registers {@link LiveCounters}, since Beam on Flink streaming gives the
   *       result its metrics only when the job ends; on a remote cluster ({@code
   *       --flinkMaster=HOST:PORT}) the counters are read through its REST API ({@link FlinkRest}).
   * </ul>
   */
  public static void forMainLoop(AiprodOptions options, String[] args) {
    String runner = options.getRunner().getSimpleName();
    if (runner.equals("DirectRunner")) {
      options.as(DirectOptions.class).setBlockOnRun(false);
    } else if (runner.equals("FlinkRunner") && !options.isStreaming()) {
      if (!given(args, "fasterCopy")) {
        // Batch: no coder copy of every element between chained operators (values are immutable).
        options.as(FlinkPipelineOptions.class).setFasterCopy(true);
      }
    } else if (runner.equals("FlinkRunner") && options.isStreaming()) {
      FlinkPipelineOptions flink = options.as(FlinkPipelineOptions.class);
      if (!given(args, "attachedMode")) {
        flink.setAttachedMode(false);
      }
      boolean outcomeAcks = OptionsCheck.outcomeAckDelayMillis(options) >= 0;
      if (!given(args, "checkpointingInterval")) {
        flink.setCheckpointingInterval(
            outcomeAcks
                ? OUTCOME_ACKS_CHECKPOINT_INTERVAL_MS
                : DEFAULT_FLINK_CHECKPOINT_INTERVAL_MS);
      }
      if (outcomeAcks && !given(args, "parallelism")) {
        // One JVM, one reader: each keyed exchange at parallelism 2 splits every edge in two
        // channels and buffers (more network memory than embedded Flink has) for no more cores.
        flink.setParallelism(1);
      }
      if (!given(args, "fasterCopy")) {
        // Elements are immutable (DirectRunner tests enforce it): no deep copy between chained
        // operators (CoderTypeSerializer copies were ~13 % of a streaming profile,
        // docs/PERFORMANCE.md).
        flink.setFasterCopy(true);
      }
      if (!given(args, "maxBundleTimeMills")) {
        // A bundle's writes (job documents, warehouse rows) go at its end: 1 s by default.
        flink.setMaxBundleTimeMills(DEFAULT_FLINK_STREAMING_BUNDLE_MS);
      }
      boolean embedded = List.of("[local]", "[auto]").contains(flink.getFlinkMaster());
      if (embedded && flink.getFlinkConfDir() == null) {
        try {
          flink.setFlinkConfDir(LiveCounters.configurationDirectory().toString());
        } catch (IOException e) {
          throw new UncheckedIOException("Cannot write the embedded Flink configuration", e);
        }
      } else if (!FlinkRest.isRemote(flink.getFlinkMaster())
          && options.getStopAfterOutcomes() > 0) {
        System.out.println(
            "note: --stopAfterOutcomes needs live counters, which only embedded Flink without"
                + " --flinkConfDir has: this run's progress shows at its end");
      }
    }
  }

  private static boolean given(String[] args, String option) {
    for (String a : args) {
      if (a.equals("--" + option) || a.startsWith("--" + option + "=")) {
        return true;
      }
    }
    return false;
  }

  /** Cancels the run unless it has ended; returns its last known state. */
  public static PipelineResult.State cancelQuietly(PipelineResult result) {
    PipelineResult.State state = null;
    boolean cancelling = false;
    try {
      state = result.getState();
      if (state == null || !state.isTerminal()) {
        cancelling = true;
        state = result.cancel();
        PipelineResult.State after = result.waitUntilFinish(Duration.standardSeconds(20));
        state = after != null ? after : result.getState(); // null: not ended within the wait
      }
    } catch (Exception e) {
      // Embedded Flink, detached: the cluster shuts down as soon as the cancelled job has ended,
      // and the result can no longer be asked for anything. The cancel went through.
      if (cancelling && clusterGone(e)) {
        state = PipelineResult.State.CANCELLED;
      }
    }
    return state;
  }

  /** The embedded Flink cluster of a detached run has shut down (the job has ended). */
  private static boolean clusterGone(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof IllegalStateException
          && t.getMessage() != null
          && t.getMessage()
              .contains("MiniCluster is not yet running or has already been shut down")) {
        return true;
      }
    }
    return false;
  }

  /**
   * Waits for the run, printing a progress line every few seconds. With {@code --stopAfterOutcomes}
   * > 0 (streaming runs), cancels the run once that many messages have their outcome and the counts
   * have been still for two polls (the last rows are written). The counters are the run's own
   * metrics; streaming on a remote Flink cluster, the job's metrics read through the cluster's REST
   * API and the outcomes counted in the warehouse.
   */
  public static PipelineResult.State awaitWithProgress(
      PipelineResult result, AiprodOptions options, long expected) {
    String runner = options.getRunner().getSimpleName();
    String master =
        runner.equals("FlinkRunner") ? options.as(FlinkPipelineOptions.class).getFlinkMaster() : "";
    if (!FlinkRest.isRemote(master) || !options.isStreaming()) {
      // Batch on a remote cluster runs attached: the result holds the final metrics.
      return awaitWithProgress(
          result, options.getStopAfterOutcomes(), expected, () -> counters(result));
    }
    RemoteCounters remote =
        new RemoteCounters(new FlinkRest(master), options.getJobName(), options.getWarehouse());
    System.out.println("Flink job " + options.getJobName() + " on " + remote.rest.baseUrl());
    return awaitWithProgress(result, options.getStopAfterOutcomes(), expected, remote::read);
  }

  /**
   * Counter name of the outcomes counted in durable state (the warehouse), which replaces the
   * metric-based count in {@link #outcomes}: Flink metrics restart from zero after a failover.
   */
  static final String DURABLE_OUTCOMES = "outcomes_durable";

  /** The counters of a job on a remote Flink cluster; the last ones read if the API fails. */
  private static final class RemoteCounters {
    final FlinkRest rest;
    final String jobName;
    String jobId;
    Map<String, Long> last = new TreeMap<>();

    final @Nullable String duckDbPath;

    RemoteCounters(FlinkRest rest, String jobName, @Nullable String warehouse) {
      this.rest = rest;
      this.jobName = jobName;
      this.duckDbPath =
          warehouse != null && warehouse.startsWith("duckdb:")
              ? warehouse.substring("duckdb:".length())
              : null;
    }

    /** The outcomes in the warehouse; -1 when it cannot be read now (a writer's turn, no file). */
    long durableOutcomes() {
      if (duckDbPath == null) {
        return -1;
      }
      try {
        return DuckDbWarehouse.countOutcomes(duckDbPath);
      } catch (java.sql.SQLException | RuntimeException e) {
        return -1;
      }
    }

    Map<String, Long> read() {
      try {
        if (jobId == null) {
          jobId = rest.jobId(jobName).orElse(null);
          if (jobId != null) {
            System.out.println("flinkJobId=" + jobId);
          }
        }
        if (jobId != null) {
          Map<String, Long> now = rest.counters(jobId);
          Long durable = last.get(DURABLE_OUTCOMES);
          last = now;
          if (durable != null) {
            last.put(DURABLE_OUTCOMES, durable);
          }
        }
        long durable = durableOutcomes();
        if (durable >= 0) {
          last.merge(DURABLE_OUTCOMES, durable, Math::max);
        }
      } catch (IOException e) {
        System.out.println("note: cannot read the job's metrics: " + e.getMessage());
      }
      return last;
    }
  }

  private static PipelineResult.State awaitWithProgress(
      PipelineResult result,
      long stopAfterOutcomes,
      long expected,
      Supplier<Map<String, Long>> counters) {
    String last = "";
    long stillSince = -1;
    long lastOutcomes = -1;
    while (true) {
      PipelineResult.State state;
      try {
        state = result.waitUntilFinish(Duration.standardSeconds(3));
      } catch (RuntimeException e) {
        if (!clusterGone(e)) {
          throw e;
        }
        // Only a job that has ended takes its embedded cluster down, and we did not cancel it.
        System.out.println("the embedded Flink cluster has shut down: the job ended on its own");
        return PipelineResult.State.FAILED;
      }
      Map<String, Long> c = counters.get();
      String line = progressLine(c, expected);
      if (!line.equals(last)) {
        System.out.println(line);
        last = line;
      }
      if (state != null && state.isTerminal()) {
        return state;
      }
      long outcomes = outcomes(c);
      if (stopAfterOutcomes > 0 && outcomes >= stopAfterOutcomes) {
        stillSince = outcomes == lastOutcomes ? stillSince + 1 : 0;
        if (stillSince >= 2) {
          System.out.println("all " + outcomes + " outcomes reached: cancelling the streaming run");
          return cancelQuietly(result);
        }
      }
      lastOutcomes = outcomes;
    }
  }

  private static final String[] TERMINAL = {
    "delivered", "needs_review", "rejected", "failed", "cancelled", "estimated"
  };

  static Map<String, Long> counters(PipelineResult result) {
    Map<String, Long> c = new TreeMap<>();
    MetricQueryResults m;
    try {
      m =
          result
              .metrics()
              .queryMetrics(
                  MetricsFilter.builder()
                      .addNameFilter(MetricNameFilter.inNamespace(LiveCounters.NAMESPACE))
                      .build());
    } catch (RuntimeException e) {
      if (!clusterGone(e)) {
        throw e;
      }
      m = null; // a detached embedded Flink job that has just ended: the live counters remain
    }
    if (m != null) {
      for (MetricResult<Long> r : m.getCounters()) {
        Long v = r.getAttempted();
        c.merge(r.getName().getName(), v == null ? 0 : v, Long::sum);
      }
    }
    // Embedded Flink streaming: the result has the counters only at the end; the live ones are
    // the operators' Flink counters (empty on every other runner).
    LiveCounters.snapshot().forEach((name, v) -> c.merge(name, v, Math::max));
    return c;
  }

  /**
   * Messages with their terminal outcome so far: terminal jobs (a cancelled job counts for its
   * submit message), dead letters, and settled cancel requests.
   */
  static long outcomes(Map<String, Long> c) {
    if (c.containsKey(DURABLE_OUTCOMES)) {
      return c.get(DURABLE_OUTCOMES);
    }
    long jobs = 0;
    for (String s : TERMINAL) {
      jobs += c.getOrDefault("jobs_" + s, 0L);
    }
    return jobs
        + c.getOrDefault("dead_letters", 0L)
        + c.getOrDefault("cancel_requests_settled", 0L);
  }

  /**
   * The messages this run will see, when known, for the progress line's "N of M": the non-blank
   * input lines of a batch run (counted as {@link ReadRequests#countMessages} reads them), {@code
   * --stopAfterOutcomes} of a streaming one; else -1.
   */
  static long expectedOutcomes(AiprodOptions options) {
    if (options.getStopAfterOutcomes() > 0) {
      return options.getStopAfterOutcomes();
    }
    String files = options.getInputFiles();
    if (files == null || files.isBlank()) {
      return -1;
    }
    try {
      FileSystems.setDefaultPipelineOptions(options);
      return ReadRequests.countMessages(files);
    } catch (IOException | RuntimeException e) {
      // The run reports an input it cannot read; the progress line goes without its total.
      return -1;
    }
  }

  /**
   * "progress: outcomes N of M, received …": N messages have their terminal outcome, of M expected
   * (just N when M is unknown, -1); shots rendered are the successful renders of every backend.
   */
  static String progressLine(Map<String, Long> c, long expected) {
    long jobs = 0;
    for (String s : TERMINAL) {
      jobs += c.getOrDefault("jobs_" + s, 0L);
    }
    long shots = 0;
    for (Map.Entry<String, Long> e : c.entrySet()) {
      if (e.getKey().startsWith(SHOTS_SUCCEEDED)) {
        shots += e.getValue();
      }
    }
    return String.format(
        "progress: outcomes %d%s, received %d, authenticated %d, planned %d, shots rendered %d,"
            + " terminal jobs %d, dead letters %d",
        outcomes(c),
        expected >= 0 ? " of " + expected : "",
        c.getOrDefault("requests_received", 0L),
        c.getOrDefault("auth_success", 0L),
        c.getOrDefault("jobs_planned", 0L),
        shots,
        jobs,
        c.getOrDefault("dead_letters", 0L));
  }

  /** Prefix of the per-backend counters of successful renders ({@code RenderShots}). */
  static final String SHOTS_SUCCEEDED = "shots_succeeded_";
}
