package com.aiprod.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.is;

import com.aiprod.pipeline.media.Mp4Inspector;
import com.aiprod.pipeline.media.VideoInfo;
import com.aiprod.pipeline.testing.FirestoreEmulator;
import com.aiprod.pipeline.testing.PipelineRuns;
import com.aiprod.pipeline.testing.PubsubEmulator;
import com.aiprod.pipeline.tools.Publish;
import com.aiprod.pipeline.tools.Summary;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bundled jar on the FlinkRunner, embedded ({@code --runner=FlinkRunner
 * --flinkMaster=[local]}), as README's "Run on Flink" shows it: the batch pipeline over the signed
 * samples, and the streaming pipeline on a Pub/Sub emulator subscription stopped by {@code
 * --stopAfterOutcomes}, both against a Firestore emulator. The runs are sequential and each starts
 * from an empty Firestore (job documents and the spend ledger live there).
 */
class FlinkRunnerIT {
  private static final String PROJECT = "demo-aiprod";
  private static final Path SAMPLES = Paths.get("samples/requests.jsonl");

  @RegisterExtension static final FirestoreEmulator FIRESTORE = new FirestoreEmulator();
  @RegisterExtension static final PubsubEmulator PUBSUB = new PubsubEmulator();

  @TempDir static Path dir;

  static Path auth;
  static Path signed;

  /** Expected outcome per batch message id ({@code <signed file>:<line>}). */
  static Map<String, String> expectations;

  @BeforeAll
  static void signSamples() throws Exception {
    auth = dir.resolve("dev-auth");
    Files.createDirectories(dir.resolve("in"));
    signed = dir.resolve("in/requests.jsonl");
    expectations = PipelineRuns.sign(SAMPLES, signed, auth, PROJECT);
  }

  private static List<String> common(Path run) {
    return List.of(
        "--runner=FlinkRunner",
        "--flinkMaster=[local]",
        "--authMode=dev",
        "--devAuthDir=" + auth,
        "--project=" + PROJECT,
        "--emulatorHost=" + FIRESTORE.hostPort(),
        "--credentialFactoryClass=org.apache.beam.sdk.extensions.gcp.auth.NoopCredentialFactory",
        "--warehouse=duckdb:" + run.resolve("warehouse.duckdb"),
        "--outputLocation=" + run.resolve("out"),
        "--tempLocation=" + run.resolve("tmp"));
  }

  @Test
  void batchOnFlinkGivesEveryLineItsExpectedOutcome() throws Exception {
    FIRESTORE.clear(PROJECT);
    Path run = dir.resolve("batch");
    List<String> args = new ArrayList<>(common(run));
    args.add("--inputFiles=" + signed);
    PipelineRuns.Run r = PipelineRuns.runJar(args, Duration.ofMinutes(3));
    System.out.println("FlinkRunnerIT batch run took " + r.took().toMillis() + " ms");
    assertThat("exit status; output:\n" + r.tail(), r.exitStatus(), equalTo(0));
    assertThat(r.output(), containsString("pipeline finished: DONE"));

    Path warehouse = run.resolve("warehouse.duckdb");
    assertThat(PipelineRuns.mismatches(expectations, PipelineRuns.outcomes(warehouse)), empty());
    ByteArrayOutputStream summary = new ByteArrayOutputStream();
    int status =
        Summary.run(
            warehouse.toString(),
            List.of(signed.toString()),
            new PrintStream(summary, true, StandardCharsets.UTF_8));
    assertThat(summary.toString(StandardCharsets.UTF_8), status, equalTo(0));
    assertFinalVideosParse(
        warehouse, expectations.values().stream().filter("DELIVERED"::equals).count());
  }

  @Test
  void streamingOnFlinkReachesEveryOutcomeAndStops() throws Exception {
    FIRESTORE.clear(PROJECT);
    String topic = PUBSUB.createTopic("flink-requests");
    String subscription = PUBSUB.createSubscription("flink-requests-pipeline", topic, 60);
    List<String> ids = Publish.to(PUBSUB.rootUrl()).publishFile(signed, topic);
    assertThat(ids.size(), equalTo(expectations.size()));

    // Every message has its outcome, a repeated job_id too (a DUPLICATE_JOB dead letter, as in
    // batch): job_id is not PubsubIO's id attribute (docs/ARCHITECTURE.md, "Deduplication").
    assertThat(
        "the samples repeat a job_id", PipelineRuns.repeatedJobIds(SAMPLES).size(), greaterThan(0));
    List<String> expectedOutcomes = new ArrayList<>(expectations.values());
    long expected = expectedOutcomes.size();

    Path run = dir.resolve("streaming");
    List<String> args = new ArrayList<>(common(run));
    args.add("--inputSubscription=" + subscription);
    args.add("--pubsubRootUrl=" + PUBSUB.rootUrl());
    args.add("--stopAfterOutcomes=" + expected);
    PipelineRuns.Run r = PipelineRuns.runJar(args, Duration.ofMinutes(3));
    System.out.println("FlinkRunnerIT streaming run took " + r.took().toMillis() + " ms");
    assertThat("exit status; output:\n" + r.tail(), r.exitStatus(), equalTo(0));
    assertThat(
        r.output(),
        containsString("all " + expected + " outcomes reached: cancelling the streaming run"));
    assertThat(r.output(), containsString("pipeline finished: CANCELLED"));

    Path warehouse = run.resolve("warehouse.duckdb");
    ByteArrayOutputStream summary = new ByteArrayOutputStream();
    int status =
        Summary.run(
            warehouse.toString(), expected, new PrintStream(summary, true, StandardCharsets.UTF_8));
    assertThat(summary.toString(StandardCharsets.UTF_8), status, equalTo(0));
    // Message ids are Pub/Sub's here, not lines: compare how many messages have each outcome.
    assertThat(
        PipelineRuns.countByOutcome(PipelineRuns.outcomes(warehouse).values()),
        equalTo(PipelineRuns.countByOutcome(expectedOutcomes)));
    assertFinalVideosParse(
        warehouse, expectedOutcomes.stream().filter("DELIVERED"::equals).count());
  }

  /** Every delivered job's final.mp4 is a real H.264 MP4 of the planned duration. */
  private static void assertFinalVideosParse(Path warehouse, long delivered) throws Exception {
    Properties props = new Properties();
    props.setProperty("duckdb.read_only", "true");
    List<String> checked = new ArrayList<>();
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:" + warehouse, props);
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT output_uri, duration_sec FROM job_results WHERE state = 'DELIVERED'")) {
      while (rs.next()) {
        Path video = Paths.get(rs.getString(1));
        VideoInfo info = Mp4Inspector.inspect(video);
        assertThat(video + " is H.264", info.isH264(), is(true));
        assertThat(info.getDurationSec(), closeTo(rs.getDouble(2), 0.1));
        assertThat(Files.exists(video.resolveSibling("manifest.json")), is(true));
        checked.add(video.toString());
      }
    }
    assertThat((long) checked.size(), equalTo(delivered));
  }
}
