package com.aiprod.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.anyOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.startsWith;

import com.aiprod.pipeline.audit.LocalSecrets;
import com.aiprod.pipeline.catalog.SpendLedger;
import com.aiprod.pipeline.flink.FlinkRest;
import com.aiprod.pipeline.jobstore.FirestoreClients;
import com.aiprod.pipeline.render.backends.Loopback;
import com.aiprod.pipeline.testing.FakeProviders;
import com.aiprod.pipeline.testing.FirestoreEmulator;
import com.aiprod.pipeline.testing.JobDocumentWatcher;
import com.aiprod.pipeline.testing.PipelineRuns;
import com.aiprod.pipeline.testing.PubsubEmulator;
import com.aiprod.pipeline.tools.Publish;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bundled jar on a real multi-process Flink cluster started by {@code scripts/flink-cluster} (1
 * JobManager, 2 TaskManagers of 2 slots, separate JVMs): batch with parallelism 4 gives the
 * DirectRunner's outcomes for the same input; streaming survives a TaskManager killed with SIGKILL
 * (a replacement is started, the job restores its last checkpoint) and a stop with a savepoint
 * followed by a new submission from it, and every published message ends with exactly one outcome
 * of its expected class, with no token in the warehouse.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FlinkClusterIT {
  private static final String PROJECT = "demo-aiprod";
  private static final Path SAMPLES = Paths.get("samples/requests.jsonl");
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A JWT's header and the start of its payload (a transform named "KeyJobs" is no token). */
  private static final java.util.regex.Pattern JWT =
      java.util.regex.Pattern.compile("eyJ[A-Za-z0-9_-]{10,}\\.[A-Za-z0-9_-]{4,}");

  private static final Path SCRIPT = Paths.get("scripts/flink-cluster").toAbsolutePath();

  /** The free tenant whose finals hit its daily cap ($5, DESIGN §3) in the streaming test. */
  private static final String CAP_TENANT = "capco";

  private static final double CAP = 5.0;

  /** What it spent before the test: room for 3 finals of $0.10. */
  private static final double CAP_SEED = 4.70;

  private static final int CAP_JOBS = 4;

  @RegisterExtension static final FirestoreEmulator FIRESTORE = new FirestoreEmulator();
  @RegisterExtension static final PubsubEmulator PUBSUB = new PubsubEmulator();

  @TempDir static Path dir;

  static Path auth;
  static Path signed;
  static Map<String, String> expectations;
  static Path cluster;
  static String master;

  @BeforeAll
  static void signSamplesAndStartTheCluster() throws Exception {
    auth = dir.resolve("dev-auth");
    Files.createDirectories(dir.resolve("in"));
    signed = dir.resolve("in/requests.jsonl");
    expectations = PipelineRuns.sign(SAMPLES, signed, auth, PROJECT);
    // Under target/ so that its logs outlive the test (a failure is diagnosed from them).
    cluster = Paths.get("target/flink-cluster-it").toAbsolutePath();
    deleteRecursively(cluster);
    String out = script("start", "--taskmanagers", "2", "--slots", "2");
    assertThat(out, startsWith("flinkMaster=127.0.0.1:"));
    master = out.trim().substring("flinkMaster=".length());
  }

  private static void deleteRecursively(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (var walk = Files.walk(p)) {
      for (Path q : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(q);
      }
    }
  }

  @AfterAll
  static void stopTheCluster() throws Exception {
    if (cluster != null) {
      script("stop");
    }
  }

  /** Runs the cluster script on {@link #cluster}; returns its stdout (exit status 0 required). */
  private static String script(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(SCRIPT.toString()));
    command.addAll(List.of(args));
    command.addAll(List.of("--dir", cluster.toString()));
    Process p =
        new ProcessBuilder(command)
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .redirectOutput(ProcessBuilder.Redirect.PIPE)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(String.join(" ", command) + " printed " + out, p.waitFor(), equalTo(0));
    return out;
  }

  private static List<String> common(String runner, Path run) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--runner=" + runner,
                "--authMode=dev",
                "--devAuthDir=" + auth,
                "--project=" + PROJECT,
                "--emulatorHost=" + FIRESTORE.hostPort(),
                "--credentialFactoryClass="
                    + "org.apache.beam.sdk.extensions.gcp.auth.NoopCredentialFactory",
                "--warehouse=duckdb:" + run.resolve("warehouse.duckdb"),
                "--outputLocation=" + run.resolve("out"),
                "--tempLocation=" + run.resolve("tmp")));
    if (runner.equals("FlinkRunner")) {
      args.add("--flinkMaster=" + master);
      args.add("--parallelism=4");
    }
    return args;
  }

  @Test
  @Order(1)
  void batchOnTheClusterGivesTheDirectRunnersOutcomes() throws Exception {
    FIRESTORE.clear(PROJECT);
    Path direct = dir.resolve("batch-direct");
    List<String> args = common("DirectRunner", direct);
    args.add("--inputFiles=" + signed);
    PipelineRuns.Run d = PipelineRuns.runJar(args, Duration.ofMinutes(3));
    assertThat("DirectRunner; output:\n" + d.tail(), d.exitStatus(), equalTo(0));
    Map<String, String> byDirect = PipelineRuns.outcomes(direct.resolve("warehouse.duckdb"));

    FIRESTORE.clear(PROJECT);
    Path flink = dir.resolve("batch-cluster");
    args = common("FlinkRunner", flink);
    args.add("--inputFiles=" + signed);
    PipelineRuns.Run f = PipelineRuns.runJar(args, Duration.ofMinutes(6));
    System.out.println("FlinkClusterIT batch on the cluster took " + f.took().toMillis() + " ms");
    assertThat("cluster batch; output:\n" + f.tail(), f.exitStatus(), equalTo(0));
    Map<String, String> byCluster = PipelineRuns.outcomes(flink.resolve("warehouse.duckdb"));

    assertThat(byCluster, equalTo(byDirect));
    assertThat(PipelineRuns.mismatches(expectations, byCluster), empty());
  }

  /** A final job at the slow Replicate (one 5 s quick_social shot), as a sample line. */
  private static String finalJob(String jobId, String content) throws IOException {
    ObjectNode n = PipelineRuns.sampleRequest(jobId, "fiona", "flinkco", content);
    n.put("expect", "DELIVERED");
    return JSON.writeValueAsString(n);
  }

  /** The owner's cancel of {@code jobId}, as a sample line. */
  private static String cancel(String jobId) throws IOException {
    ObjectNode n = PipelineRuns.sampleRequest(jobId, "fiona", "flinkco", null);
    n.put("expect", "CANCEL");
    return JSON.writeValueAsString(n);
  }

  /** A 5 s final of the free tenant {@link #CAP_TENANT} at the slow Replicate, as a sample line. */
  private static String capJob(String jobId, int i) throws IOException {
    ObjectNode n =
        PipelineRuns.sampleRequest(
            jobId, "carl", CAP_TENANT, "A candle workshop at night, take " + i);
    ((ObjectNode) n.get("identity")).put("plan", "free");
    n.put("expect", "CAP");
    return JSON.writeValueAsString(n);
  }

  /**
   * Caps exact (DESIGN §3): the free tenant's finals were admitted while its day had room and
   * refused (REJECTED, BUDGET_EXCEEDED) after, across the kill, the restore and the savepoint: what
   * each day's ledger holds beyond {@link #CAP_SEED} is exactly the admitted jobs' estimates, never
   * over the cap, and a job was refused only on a day that was full. Within one UTC day: exactly
   * floor(room / estimate) admitted.
   */
  private static void capsAreExact(
      Path warehouse, List<String> outcomes, List<LocalDate> days, String logs) throws Exception {
    assertThat(logs, outcomes.size(), equalTo(CAP_JOBS));
    long admitted = outcomes.stream().filter(o -> o.equals("DELIVERED")).count();
    long refused = outcomes.stream().filter(o -> o.equals("REJECTED:BUDGET_EXCEEDED")).count();
    assertThat(logs + "\n" + outcomes, admitted + refused, equalTo((long) CAP_JOBS));
    List<Map<String, Object>> estimates =
        PipelineRuns.rows(
            warehouse,
            "SELECT DISTINCT estimate_usd FROM job_results WHERE state = 'DELIVERED' AND tenant = '"
                + CAP_TENANT
                + "'");
    assertThat(estimates.toString(), estimates.size(), equalTo(1));
    long estimate = Math.round(((Number) estimates.get(0).get("estimate_usd")).doubleValue() * 1e6);
    long room = Math.round((CAP - CAP_SEED) * 1e6);
    long perDay = room / estimate;
    assertThat("the stream has more than one day's room", (long) CAP_JOBS, greaterThan(perDay));
    List<Long> perDayCharged = new ArrayList<>();
    try (SpendLedger ledger =
        new SpendLedger(FirestoreClients.of(PROJECT, null, FIRESTORE.hostPort()))) {
      for (LocalDate day : days) {
        long beyond = Math.round((ledger.spentUsd(CAP_TENANT, day) - CAP_SEED) * 1e6);
        assertThat(day + ": whole estimates", beyond % estimate, equalTo(0L));
        assertThat(day + ": within the cap", beyond, lessThanOrEqualTo(room));
        perDayCharged.add(beyond / estimate);
      }
    }
    System.out.printf(
        "FlinkClusterIT: caps: %d admitted, %d refused BUDGET_EXCEEDED; charged per UTC day %s%n",
        admitted, refused, perDayCharged);
    assertThat(
        "admitted = charged",
        admitted,
        equalTo(perDayCharged.stream().mapToLong(Long::longValue).sum()));
    if (perDayCharged.contains(0L)) {
      // One UTC day: exactly its room admitted, the rest refused.
      assertThat(logs + "\n" + outcomes, admitted, equalTo(perDay));
    } else if (refused > 0) {
      assertThat("refused only when a day was full", perDayCharged, hasItem(perDay));
    }
  }

  /**
   * The streaming run on the cluster: a mixed stream (the samples: previews, estimates, refusals, a
   * duplicate, bad tokens; plus finals whose shots run 20 s at a loopback Replicate, owners'
   * cancels of two of them, and a free tenant's finals beyond its daily cap), one TaskManager
   * SIGKILLed while shots are in flight, a replacement started, the job recovered, stopped with a
   * savepoint while other shots are in flight, resumed from it. Every message has exactly one
   * outcome of its expected class (an accepted cancel's job CANCELLED; caps exact, {@link
   * #capsAreExact}); no shot was created twice at the provider and every task made was followed to
   * its end or cancelled; no job document moved backwards; no token in the warehouse, the documents
   * or any log.
   */
  @Test
  @Order(2)
  @EnabledIfSystemProperty(
      named = "aiprod.it.flinkClusterStreaming",
      matches = "true",
      disabledReason =
          "Not yet in mvn verify (issue 12): passed 4 runs in a row on 2026-12-07/08 (405-565 s"
              + " each, over the CI budget on 2 shared cores), then failed once after the session's"
              + " performance merges: the first checkpoint did not complete within 2 min, before"
              + " the TaskManager kill (undiagnosed). Run it with"
              + " -Daiprod.it.flinkClusterStreaming=true")
  void streamingSurvivesATaskManagerLossAndASavepointStop() throws Exception {
    FIRESTORE.clear(PROJECT);
    // The free tenant of the cap check has spent CAP_SEED today (and tomorrow, for a run that
    // crosses 00:00 UTC): room for (CAP - CAP_SEED) / its jobs' estimate more.
    LocalDate today = LocalDate.now(ZoneOffset.UTC);
    List<LocalDate> capDays = List.of(today, today.plusDays(1));
    try (SpendLedger ledger =
        new SpendLedger(FirestoreClients.of(PROJECT, null, FIRESTORE.hostPort()))) {
      for (LocalDate day : capDays) {
        assertThat(
            ledger.charge(CAP_TENANT, day, "capco-earlier-0000", CAP_SEED, CAP).admitted(),
            equalTo(true));
      }
    }
    Path work = Files.createDirectories(dir.resolve("streaming-input"));
    FakeProviders providers = new FakeProviders(work);
    providers.mp4 = FakeProviders.qaPassingClip(work.resolve("clips"));
    providers.replicate.runsForMillis = 20_000;
    LocalSecrets.ensureAuditKey(providers.secrets);

    // Samples split in two halves; finals in both; the cancels of two first-half finals second.
    List<String> samples = Files.readAllLines(SAMPLES, StandardCharsets.UTF_8);
    samples.removeIf(String::isBlank);
    // Without a real backend this final is refused; here Replicate could render it (30 s, six
    // shots): the finals below stand for it.
    samples.removeIf(l -> l.contains("\"acme-final-0003\""));
    int half = samples.size() / 2;
    List<String> first = new ArrayList<>(samples.subList(0, half));
    List<String> second = new ArrayList<>(samples.subList(half, samples.size()));
    for (int i = 0; i < 4; i++) {
      first.add(finalJob("flink-final-" + i + "000", "A lighthouse at dusk, final number " + i));
    }
    for (int i = 4; i < 6; i++) {
      second.add(finalJob("flink-final-" + i + "000", "A harbour at dawn, final number " + i));
    }
    // The free tenant's finals: before the kill and after it, more than its day has room for.
    for (int i = 0; i < CAP_JOBS; i++) {
      (i < CAP_JOBS / 2 ? first : second).add(capJob("capco-final-" + i + "000", i));
    }
    second.add(cancel("flink-final-0000"));
    second.add(cancel("flink-final-1000"));
    Map<String, String> expectedById = new LinkedHashMap<>();
    Path run = dir.resolve("streaming");
    Path warehouse = run.resolve("warehouse.duckdb");
    String topic = PUBSUB.createTopic("cluster-requests");
    String subscription = PUBSUB.createSubscription("cluster-requests-pipeline", topic, 20);
    Publish publish = Publish.to(PUBSUB.rootUrl());
    FlinkRest rest = new FlinkRest(master);
    List<String> args = common("FlinkRunner", run);
    args.add("--inputSubscription=" + subscription);
    args.add("--pubsubRootUrl=" + PUBSUB.rootUrl());
    args.add("--checkpointingInterval=2000");
    args.add("--renderBackends=replicate_wan,preview");
    args.add("--replicateEndpoint=" + providers.replicate.server.base());
    args.add("--secretSource=dir:" + providers.secrets);

    long t0 = System.nanoTime();
    Background run1 = null;
    Background run2 = null;
    String job1 = null;
    String job2 = null;
    String savepoint = null;
    Map<String, List<String>> actual;
    try (JobDocumentWatcher documents = new JobDocumentWatcher(FIRESTORE.hostPort(), PROJECT)) {
      expectedById.putAll(publish(publish, topic, first, "first"));
      run1 = Background.start(args, "--jobName=flink-cluster-it-run1");
      job1 = awaitRunning(rest, "flink-cluster-it-run1", Duration.ofMinutes(3));
      awaitCheckpoints(rest, job1, 1, Duration.ofMinutes(2));
      await("first-half shots in flight", () -> providers.replicate.accepted.get() >= 2, 120);

      // SIGKILL one TaskManager mid-stream, start a replacement, publish the rest meanwhile.
      long before = rest.completedCheckpoints(job1);
      long victim = pidOf("taskmanager-1");
      System.out.printf(
          "FlinkClusterIT: SIGKILL taskmanager-1 (pid %d) at %d s, %d tasks made%n",
          victim, (System.nanoTime() - t0) / 1_000_000_000, providers.replicate.accepted.get());
      ProcessHandle.of(victim).ifPresent(ProcessHandle::destroyForcibly);
      script("add-taskmanager");
      expectedById.putAll(publish(publish, topic, second, "second"));
      awaitCheckpoints(rest, job1, before + 1, Duration.ofMinutes(3));
      System.out.printf(
          "FlinkClusterIT: recovered (a checkpoint after the kill) at %d s%n",
          (System.nanoTime() - t0) / 1_000_000_000);
      await(
          "second-half shots in flight",
          () ->
              providers.replicate.server.requests("POST", ".*/predictions").stream()
                  .anyMatch(r -> r.json().path("input").path("prompt").asText().contains("dawn")),
          120);

      // Stop with a savepoint (flink stop), then resume from it in a new submission.
      savepoint = stopWithSavepoint(rest, job1);
      System.out.printf(
          "FlinkClusterIT: stopped with savepoint %s at %d s; failures of run 1: %s%n",
          savepoint, (System.nanoTime() - t0) / 1_000_000_000, rest.failures(job1));
      assertThat(run1.await(Duration.ofMinutes(1)), equalTo(true));
      run2 =
          Background.start(args, "--jobName=flink-cluster-it-run2", "--savepointPath=" + savepoint);
      job2 = awaitRunning(rest, "flink-cluster-it-run2", Duration.ofMinutes(3));

      actual = awaitOutcomes(warehouse, expectedById.keySet(), Duration.ofMinutes(4));
      System.out.printf(
          "FlinkClusterIT: streaming took %d s; jobs %s then %s from %s%n",
          (System.nanoTime() - t0) / 1_000_000_000, job1, job2, savepoint);
      documents.close();
      assertThat("documents moved backwards", documents.backwards, empty());
      String raw = documents.lastRaw;
      assertThat(JWT.matcher(raw).find(), equalTo(false));
      assertThat(raw, not(containsString(FakeProviders.REPLICATE_TOKEN)));
    } finally {
      if (run1 != null) {
        run1.stop();
      }
      if (run2 != null) {
        run2.stop();
      }
      providers.close();
    }
    String logs = "run 1:\n" + run1.tail() + "\nrun 2:\n" + run2.tail();

    // Every message exactly one outcome.
    List<String> missingOrSeveral = new ArrayList<>();
    expectedById.forEach(
        (id, want) -> {
          List<String> got = actual.getOrDefault(id, List.of());
          if (got.size() != 1) {
            missingOrSeveral.add(id + " (expected " + want + "): " + got);
          }
        });
    assertThat(logs, missingOrSeveral, empty());
    // Of the expected class. Which of two messages with one job_id wins depends on their order in
    // the stream, so classes are compared by count; a cancel either ended its running job
    // (CANCELLED + accepted cancel) or came after the job was delivered (DELIVERED + a cancel that
    // changed nothing).
    long acceptedCancels = 0;
    long cancels = 0;
    List<String> wanted = new ArrayList<>();
    List<String> got = new ArrayList<>();
    long cancelledJobs = 0;
    List<String> capOutcomes = new ArrayList<>();
    for (Map.Entry<String, String> e : expectedById.entrySet()) {
      String outcome = actual.get(e.getKey()).get(0);
      if (e.getValue().equals("CAP")) {
        capOutcomes.add(outcome);
        continue;
      }
      if (e.getValue().equals("CANCEL")) {
        cancels++;
        assertThat(outcome, anyOf(equalTo("admin:success"), equalTo("admin:failure")));
        acceptedCancels += outcome.equals("admin:success") ? 1 : 0;
        continue;
      }
      wanted.add(e.getValue());
      cancelledJobs += outcome.equals("CANCELLED") ? 1 : 0;
      got.add(outcome.equals("CANCELLED") ? "DELIVERED" : outcome);
    }
    System.out.printf(
        "FlinkClusterIT: cancels: %d of %d accepted, %d jobs CANCELLED%n",
        acceptedCancels, cancels, cancelledJobs);
    assertThat(logs, cancelledJobs, equalTo(acceptedCancels));
    assertThat(
        logs, PipelineRuns.countByOutcome(got), equalTo(PipelineRuns.countByOutcome(wanted)));
    assertThat(
        PipelineRuns.count(warehouse, "SELECT count(*) FROM job_results")
            + PipelineRuns.count(warehouse, "SELECT count(*) FROM dead_letters"),
        equalTo(expectedById.size() - cancels));
    capsAreExact(warehouse, capOutcomes, capDays, logs);

    // No shot created twice at the provider (one attempt each on it), every task followed or
    // cancelled.
    Map<String, Long> createsPerShot = new java.util.TreeMap<>();
    for (Loopback.Req r : providers.replicate.server.requests("POST", ".*/predictions")) {
      JsonNode in = r.json().path("input");
      createsPerShot.merge(in.path("prompt").asText() + "#" + in.path("seed"), 1L, Long::sum);
    }
    System.out.println("FlinkClusterIT: Replicate creates per shot " + createsPerShot);
    assertThat(createsPerShot.size(), org.hamcrest.Matchers.greaterThanOrEqualTo(6 + 1));
    createsPerShot.forEach((shot, n) -> assertThat(shot, n, equalTo(1L)));
    assertThat(providers.replicate.orphans(), empty());

    // No token anywhere: no JWT (every one starts with eyJ), no provider key, in any table of the
    // warehouse, in the runs' output or in the cluster's logs.
    for (String table : List.of("job_results", "dead_letters", "audit_events", "shot_renders")) {
      String rows = PipelineRuns.rows(warehouse, "SELECT * FROM " + table).toString();
      assertThat(table + ": " + rows, JWT.matcher(rows).find(), equalTo(false));
      assertThat(table, rows, not(containsString(FakeProviders.REPLICATE_TOKEN)));
    }
    List<String> texts = new ArrayList<>(List.of(run1.all(), run2.all()));
    try (var logFiles = Files.list(cluster.resolve("log"))) {
      for (Path f : logFiles.toList()) {
        texts.add(Files.readString(f, StandardCharsets.ISO_8859_1));
      }
    }
    for (String text : texts) {
      java.util.regex.Matcher jwt = JWT.matcher(text);
      assertThat(jwt.find() ? "a JWT at " + jwt.start() : "none", equalTo("none"));
      assertThat(text, not(containsString(FakeProviders.REPLICATE_TOKEN)));
    }
  }

  private interface Check {
    boolean holds() throws Exception;
  }

  private static void await(String what, Check check, int seconds) throws Exception {
    long until = System.nanoTime() + seconds * 1_000_000_000L;
    while (!check.holds()) {
      if (System.nanoTime() > until) {
        throw new AssertionError(what + ": not within " + seconds + " s");
      }
      Thread.sleep(500);
    }
  }

  /** Signs {@code samples} and publishes them; returns message id → expected outcome. */
  private static Map<String, String> publish(
      Publish publish, String topic, List<String> samples, String name) throws Exception {
    Path part = dir.resolve("samples-" + name + ".jsonl");
    Files.write(part, samples, StandardCharsets.UTF_8);
    Path signedPart = dir.resolve("in-" + name + ".jsonl");
    List<String> expected =
        new ArrayList<>(PipelineRuns.sign(part, signedPart, auth, PROJECT).values());
    List<String> ids = publish.publishFile(signedPart, topic);
    assertThat(ids.size(), equalTo(samples.size()));
    Map<String, String> out = new LinkedHashMap<>();
    for (int i = 0; i < ids.size(); i++) {
      out.put(ids.get(i), expected.get(i));
    }
    return out;
  }

  private static long pidOf(String name) throws IOException {
    for (String l : Files.readAllLines(cluster.resolve("pids"))) {
      String[] f = l.trim().split("\\s+");
      if (f.length == 3 && f[2].equals(name)) {
        return Long.parseLong(f[1]);
      }
    }
    throw new IllegalStateException("no " + name + " in " + cluster.resolve("pids"));
  }

  private static String awaitRunning(FlinkRest rest, String jobName, Duration timeout)
      throws Exception {
    long until = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < until) {
      var id = rest.jobId(jobName);
      if (id.isPresent() && rest.state(id.get()).equals("RUNNING")) {
        return id.get();
      }
      Thread.sleep(1000);
    }
    throw new AssertionError(jobName + " is not running after " + timeout);
  }

  private static void awaitState(FlinkRest rest, String job, String state, Duration timeout)
      throws Exception {
    long until = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < until) {
      if (rest.state(job).equals(state)) {
        return;
      }
      Thread.sleep(1000);
    }
    throw new AssertionError(job + " not " + state + " after " + timeout);
  }

  /**
   * Stop with a savepoint once every task runs; again (at most 3 times) if a task was being
   * restarted when it was triggered (Flink then aborts it and the job keeps running).
   */
  private static String stopWithSavepoint(FlinkRest rest, String job) throws Exception {
    IOException last = null;
    for (int attempt = 0; attempt < 3; attempt++) {
      long until = System.nanoTime() + Duration.ofMinutes(2).toNanos();
      while (!rest.allTasksRunning(job) && System.nanoTime() < until) {
        Thread.sleep(1000);
      }
      try {
        return rest.stopWithSavepoint(
            job, cluster.resolve("savepoints").toUri().toString(), Duration.ofMinutes(2));
      } catch (IOException e) {
        System.out.println("FlinkClusterIT: stop with savepoint failed, again: " + e.getMessage());
        last = e;
        Thread.sleep(3000);
      }
    }
    throw last;
  }

  /** Waits until the job has completed at least {@code n} checkpoints (of this attempt or not). */
  private static void awaitCheckpoints(FlinkRest rest, String job, long n, Duration timeout)
      throws Exception {
    long until = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < until) {
      if (rest.completedCheckpoints(job) >= n) {
        return;
      }
      Thread.sleep(1000);
    }
    throw new AssertionError(job + " has fewer than " + n + " checkpoints after " + timeout);
  }

  /**
   * Every outcome per message id: its job_results row, dead letter, ADMIN_ACTION cancel_job event.
   */
  private static Map<String, List<String>> outcomesOf(Path warehouse) throws Exception {
    Map<String, List<String>> out = new java.util.TreeMap<>();
    for (Map<String, Object> r :
        PipelineRuns.rows(warehouse, "SELECT message_id, state, reason_code FROM job_results")) {
      out.computeIfAbsent((String) r.get("message_id"), k -> new ArrayList<>())
          .add(
              r.get("reason_code") == null
                  ? (String) r.get("state")
                  : r.get("state") + ":" + r.get("reason_code"));
    }
    for (Map<String, Object> r :
        PipelineRuns.rows(warehouse, "SELECT message_id, reason_code FROM dead_letters")) {
      out.computeIfAbsent((String) r.get("message_id"), k -> new ArrayList<>())
          .add("dead_letter:" + r.get("reason_code"));
    }
    for (Map<String, Object> r :
        PipelineRuns.rows(
            warehouse,
            "SELECT DISTINCT message_id, status FROM audit_events"
                + " WHERE event_type = 'ADMIN_ACTION' AND action = 'cancel_job'")) {
      out.computeIfAbsent((String) r.get("message_id"), k -> new ArrayList<>())
          .add("admin:" + r.get("status"));
    }
    return out;
  }

  /** Polls the warehouse (read-only, between the writers' turns) until every id has an outcome. */
  private static Map<String, List<String>> awaitOutcomes(
      Path warehouse, java.util.Set<String> ids, Duration timeout) throws Exception {
    long until = System.nanoTime() + timeout.toNanos();
    Map<String, List<String>> last = Map.of();
    while (System.nanoTime() < until) {
      try {
        last = outcomesOf(warehouse);
        if (last.keySet().containsAll(ids)) {
          Thread.sleep(5000); // the rows beside the outcomes
          return outcomesOf(warehouse);
        }
      } catch (Exception e) {
        // a writer holds the file, or it does not exist yet
      }
      Thread.sleep(3000);
    }
    return last;
  }

  /** The bundled jar's main, running in the background (a streaming submission). */
  private static final class Background {
    final Process process;
    final ByteArrayOutputStream log = new ByteArrayOutputStream();

    private Background(Process process) {
      this.process = process;
      Thread pump =
          new Thread(
              () -> {
                try {
                  process.getInputStream().transferTo(log);
                } catch (IOException ignored) {
                  // ended
                }
              });
      pump.setDaemon(true);
      pump.start();
    }

    static Background start(List<String> args, String... more) throws IOException {
      List<String> command = new ArrayList<>();
      command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
      command.add("-jar");
      command.add(PipelineRuns.jar().toString());
      command.addAll(args);
      command.addAll(List.of(more));
      ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
      pb.environment().put("NO_GCE_CHECK", "true");
      return new Background(pb.start());
    }

    boolean await(Duration timeout) throws InterruptedException {
      return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** SIGTERM: main's shutdown hook cancels the job (nothing if it has ended). */
    void stop() throws InterruptedException {
      if (!process.isAlive()) {
        return;
      }
      process.destroy();
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }

    String all() {
      return log.toString(StandardCharsets.UTF_8);
    }

    String tail() {
      String s = log.toString(StandardCharsets.UTF_8);
      return s.length() > 6000 ? s.substring(s.length() - 6000) : s;
    }
  }
}
