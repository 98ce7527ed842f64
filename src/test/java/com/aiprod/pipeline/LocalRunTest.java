package com.aiprod.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;

import com.aiprod.pipeline.options.AiprodOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The progress line of local runs: "N of M" where M is known, shots of every backend. */
class LocalRunTest {
  static AiprodOptions options(String... args) {
    PipelineOptionsFactory.register(AiprodOptions.class);
    return PipelineOptionsFactory.fromArgs(args).as(AiprodOptions.class);
  }

  @Test
  void theProgressLineCountsOutcomesOfTheExpectedTotalAndShotsOfEveryBackend() {
    Map<String, Long> c = new TreeMap<>();
    c.put("requests_received", 12L);
    c.put("auth_success", 10L);
    c.put("jobs_planned", 7L);
    c.put("shots_succeeded_preview", 9L);
    c.put("shots_succeeded_veo3", 4L);
    c.put("shots_succeeded_runway_gen4_turbo", 2L);
    c.put("shots_failed_veo3", 5L);
    c.put("jobs_delivered", 5L);
    c.put("jobs_rejected", 1L);
    c.put("dead_letters", 2L);
    c.put("cancel_requests_settled", 1L);
    assertThat(
        LocalRun.progressLine(c, 12),
        equalTo(
            "progress: outcomes 9 of 12, received 12, authenticated 10, planned 7, shots rendered"
                + " 15, terminal jobs 6, dead letters 2"));
    assertThat(
        LocalRun.progressLine(c, -1),
        equalTo(
            "progress: outcomes 9, received 12, authenticated 10, planned 7, shots rendered 15,"
                + " terminal jobs 6, dead letters 2"));
  }

  /** On a remote cluster the warehouse's count, which survives a failover, wins over metrics. */
  @Test
  void theDurableOutcomeCountReplacesTheCountersAfterAFailover() {
    Map<String, Long> c = new TreeMap<>();
    c.put("jobs_delivered", 2L); // counted since the job's last restart only
    c.put("dead_letters", 1L);
    assertThat(LocalRun.outcomes(c), equalTo(3L));
    c.put(LocalRun.DURABLE_OUTCOMES, 11L);
    assertThat(LocalRun.outcomes(c), equalTo(11L));
    assertThat(
        LocalRun.progressLine(c, 12),
        org.hamcrest.Matchers.startsWith("progress: outcomes 11 of 12,"));
  }

  @Test
  void theExpectedTotalIsTheInputLinesInBatchAndStopAfterOutcomesInStreaming(@TempDir Path dir)
      throws IOException {
    Path in = dir.resolve("in.jsonl");
    Files.writeString(in, "{\"a\":1}\n\n{\"a\":2}\n{\"a\":3}\n");
    assertThat(LocalRun.expectedOutcomes(options("--inputFiles=" + in)), equalTo(3L));
    assertThat(
        LocalRun.expectedOutcomes(
            options(
                "--inputSubscription=projects/demo-aiprod/subscriptions/aiprod-jobs-pipeline",
                "--stopAfterOutcomes=40")),
        equalTo(40L));
    assertThat(
        LocalRun.expectedOutcomes(
            options("--inputSubscription=projects/demo-aiprod/subscriptions/aiprod-jobs-pipeline")),
        equalTo(-1L));
    // An input that cannot be read: no total (the run itself reports the input).
    assertThat(
        LocalRun.expectedOutcomes(options("--inputFiles=" + dir.resolve("none-*.jsonl"))),
        equalTo(-1L));
  }

  @Test
  void streamingOnFlinkSkipsTheCopyBetweenOperatorsUnlessGiven() {
    String[] args = {"--runner=FlinkRunner", "--flinkMaster=[local]", "--streaming=true"};
    AiprodOptions options = PipelineOptionsFactory.fromArgs(args).as(AiprodOptions.class);
    LocalRun.forMainLoop(options, args);
    FlinkPipelineOptions flink = options.as(FlinkPipelineOptions.class);
    assertThat(flink.getFasterCopy(), equalTo(true));
    assertThat(flink.getMaxBundleTimeMills(), equalTo(LocalRun.DEFAULT_FLINK_STREAMING_BUNDLE_MS));
    assertThat(
        flink.getCheckpointingInterval(), equalTo(LocalRun.DEFAULT_FLINK_CHECKPOINT_INTERVAL_MS));

    String[] given = {
      "--runner=FlinkRunner", "--flinkMaster=[local]", "--streaming=true", "--fasterCopy=false"
    };
    AiprodOptions kept = PipelineOptionsFactory.fromArgs(given).as(AiprodOptions.class);
    LocalRun.forMainLoop(kept, given);
    assertThat(kept.as(FlinkPipelineOptions.class).getFasterCopy(), equalTo(false));
  }

  @Test
  void outcomeAcknowledgedStreamingOnEmbeddedFlinkRunsAtParallelismOneWithRareCheckpoints() {
    PipelineOptionsFactory.register(AiprodOptions.class);
    String sub = "--inputSubscription=projects/demo-aiprod/subscriptions/aiprod-jobs-pipeline";
    String[] args = {"--runner=FlinkRunner", "--flinkMaster=[local]", "--streaming=true", sub};
    AiprodOptions options = PipelineOptionsFactory.fromArgs(args).as(AiprodOptions.class);
    LocalRun.forMainLoop(options, args);
    FlinkPipelineOptions flink = options.as(FlinkPipelineOptions.class);
    assertThat(flink.getParallelism(), equalTo(1));
    assertThat(
        flink.getCheckpointingInterval(), equalTo(LocalRun.OUTCOME_ACKS_CHECKPOINT_INTERVAL_MS));

    // A given parallelism stays.
    String[] given = {
      "--runner=FlinkRunner", "--flinkMaster=[local]", "--streaming=true", sub, "--parallelism=2"
    };
    AiprodOptions kept = PipelineOptionsFactory.fromArgs(given).as(AiprodOptions.class);
    LocalRun.forMainLoop(kept, given);
    assertThat(kept.as(FlinkPipelineOptions.class).getParallelism(), equalTo(2));

    // PubsubIO acknowledges at checkpoints: the short interval, the runner's parallelism.
    String[] pubsubIo = {
      "--runner=FlinkRunner",
      "--flinkMaster=[local]",
      "--streaming=true",
      sub,
      "--pubsubAcks=checkpoint"
    };
    AiprodOptions io = PipelineOptionsFactory.fromArgs(pubsubIo).as(AiprodOptions.class);
    LocalRun.forMainLoop(io, pubsubIo);
    FlinkPipelineOptions ioFlink = io.as(FlinkPipelineOptions.class);
    assertThat(
        ioFlink.getCheckpointingInterval(), equalTo(LocalRun.DEFAULT_FLINK_CHECKPOINT_INTERVAL_MS));
    assertThat(ioFlink.getParallelism(), not(equalTo(1)));
  }
}
