package com.aiprod.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.hamcrest.Matchers.matchesPattern;
import static org.hamcrest.Matchers.not;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Dataflow artifact ({@code target/aiprod-pipeline-dataflow.jar}, what the Flex Template image
 * carries), as {@code package} builds it: its size bound, what it must not contain (the Flink
 * runner, the DirectRunner, DuckDB, BouncyCastle, slf4j-simple), JUL logging, and that its main
 * class starts on the Dataflow path in a JVM of its own (options help, a Dataflow dry run that
 * builds the whole graph, bad options) without a missing class. The local bundled jar keeps
 * everything.
 */
class DataflowArtifactIT {
  static final Path LEAN = Path.of("target/aiprod-pipeline-dataflow.jar");
  static final Path BUNDLED = Path.of("target/aiprod-pipeline-bundled.jar");

  /** 180 MB: the bound of the issue (decimal megabytes, as `ls` and registries count them). */
  static final long MAX_BYTES = 180_000_000L;

  /** Entry prefixes of the local-only libraries. */
  static final List<String> LOCAL_ONLY =
      List.of(
          "org/apache/flink/",
          "org/apache/beam/runners/flink/",
          "org/apache/beam/runners/direct/",
          "org/duckdb/",
          "libduckdb_java",
          "org/bouncycastle/",
          "org/slf4j/simple/",
          "simplelogger.properties",
          "com/aiprod/pipeline/flink/",
          "META-INF/services/org.apache.flink.");

  static Set<String> lean;
  static Set<String> bundled;

  @BeforeAll
  static void list() throws IOException {
    lean = entries(LEAN);
    bundled = entries(BUNDLED);
  }

  static Set<String> entries(Path jar) throws IOException {
    assertThat(jar + " is built by `mvn package`", Files.isRegularFile(jar), equalTo(true));
    Set<String> out = new TreeSet<>();
    try (JarFile f = new JarFile(jar.toFile())) {
      f.stream().forEach(e -> out.add(e.getName()));
    }
    return out;
  }

  static String entry(Path jar, String name) throws IOException {
    try (JarFile f = new JarFile(jar.toFile());
        InputStream in = f.getInputStream(f.getEntry(name))) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void isAtMost180Megabytes() throws IOException {
    long size = Files.size(LEAN);
    System.out.printf("%s: %,d bytes; %s: %,d bytes%n", LEAN, size, BUNDLED, Files.size(BUNDLED));
    assertThat(size, lessThanOrEqualTo(MAX_BYTES));
  }

  @Test
  void carriesNoLocalOnlyLibrary() throws IOException {
    List<String> found = new ArrayList<>();
    for (String e : lean) {
      for (String prefix : LOCAL_ONLY) {
        if (e.startsWith(prefix)) {
          found.add(e);
        }
      }
    }
    assertThat(found, empty());
    // No runner of theirs is registered either (their registrars sit in Beam's service files).
    String registrars =
        entry(LEAN, "META-INF/services/org.apache.beam.sdk.runners.PipelineRunnerRegistrar");
    assertThat(registrars, containsString("DataflowPipelineRegistrar"));
    assertThat(registrars, not(containsString("flink")));
    assertThat(registrars, not(containsString("direct")));
  }

  @Test
  void logsThroughJul() throws IOException {
    assertThat(
        entry(LEAN, "META-INF/services/org.slf4j.spi.SLF4JServiceProvider").strip(),
        equalTo("org.slf4j.jul.JULServiceProvider"));
    assertThat(lean, hasItem("org/slf4j/jul/JULServiceProvider.class"));
  }

  @Test
  void carriesWhatDataflowLoadsAndTheMainClass() throws IOException {
    assertThat(lean, hasItem("org/apache/beam/runners/dataflow/DataflowRunner.class"));
    assertThat(lean, hasItem("org/apache/beam/sdk/io/gcp/bigquery/BigQueryIO.class"));
    assertThat(lean, hasItem("com/aiprod/pipeline/AiprodPipeline.class"));
    assertThat(lean, hasItem("pricing.json"));
    assertThat(
        entry(LEAN, "META-INF/MANIFEST.MF"),
        containsString("Main-Class: com.aiprod.pipeline.AiprodPipeline"));
  }

  @Test
  void theLocalBundledJarKeepsEverything() {
    for (String prefix :
        List.of("org/apache/flink/", "org/apache/beam/runners/direct/", "org/duckdb/")) {
      assertThat(prefix, bundled.stream().anyMatch(e -> e.startsWith(prefix)), equalTo(true));
    }
    assertThat(bundled, hasItem("org/slf4j/simple/SimpleServiceProvider.class"));
    assertThat(bundled, hasItem("com/aiprod/pipeline/flink/LiveCounters.class"));
  }

  /**
   * Classes of ours that may need a library the Dataflow jar leaves out: the dev certificate's
   * maker (BouncyCastle; dev auth is refused on Dataflow) and the local tools (they run from the
   * bundled jar).
   */
  static final String MAY_NEED_LOCAL_LIBRARIES =
      "com\\.aiprod\\.pipeline\\.(auth\\.DevAuthKeys\\$SelfSigned|tools\\..*)";

  /**
   * Every other class of ours loads, links and initializes in the Dataflow jar alone (workers load
   * them when they run the stages; a missing class would fail only there).
   */
  @Test
  void everyClassOfOursLoadsFromTheDataflowJar() throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                LEAN + java.io.File.pathSeparator + "target/test-classes",
                com.aiprod.pipeline.testing.ClassLoadCheck.class.getName(),
                LEAN.toString(),
                MAY_NEED_LOCAL_LIBRARIES));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().put("NO_GCE_CHECK", "true");
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat("finished in time", p.waitFor(120, TimeUnit.SECONDS), equalTo(true));
    assertThat(out, p.exitValue(), equalTo(0));
    assertThat(out, matchesPattern("(?s).*checked [0-9]{3,} classes.*"));
    // The check sees a missing class: the certificate maker does need BouncyCastle.
    pb.command().set(pb.command().size() - 1, "nothing");
    Process all = pb.start();
    String allOut = new String(all.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(all.waitFor(120, TimeUnit.SECONDS), equalTo(true));
    assertThat(allOut, all.exitValue(), equalTo(1));
    assertThat(allOut, containsString("FAIL com.aiprod.pipeline.auth.DevAuthKeys$SelfSigned"));
  }

  record Run(int status, String output) {}

  /** Runs the lean jar's main class in a JVM of its own, output and errors together. */
  static Run run(String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx1g");
    command.add("-jar");
    command.add(LEAN.toString());
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().put("NO_GCE_CHECK", "true");
    Process p = pb.start();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat("finished in time", p.waitFor(120, TimeUnit.SECONDS), equalTo(true));
    String text = new String(out, StandardCharsets.UTF_8);
    assertThat(text, not(containsString("NoClassDefFoundError")));
    assertThat(text, not(containsString("ClassNotFoundException")));
    return new Run(p.exitValue(), text);
  }

  /** A production launch as the Flex Template passes it, with {@code extra} added or replaced. */
  static String[] dataflowLaunch(String... extra) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--runner=DataflowRunner",
                "--project=demo-aiprod",
                "--region=us-central1",
                "--tempLocation=gs://demo-aiprod-aiprod/tmp",
                // Given, not derived: deriving them asks Cloud Storage about the bucket (minutes of
                // retries offline).
                "--gcpTempLocation=gs://demo-aiprod-aiprod/tmp",
                "--stagingLocation=gs://demo-aiprod-aiprod/staging",
                "--credentialFactoryClass="
                    + "org.apache.beam.sdk.extensions.gcp.auth.NoopCredentialFactory",
                // Offline: DataflowRunner.fromOptions would ask Cloud Storage for the bucket.
                "--pathValidatorClass="
                    + "org.apache.beam.sdk.extensions.gcp.storage.NoopPathValidator",
                "--warehouse=bigquery:demo-aiprod.aiprod",
                "--secretSource=secretmanager:projects/demo-aiprod",
                "--outputLocation=gs://demo-aiprod-aiprod/outputs",
                "--deadLetterTopic=projects/demo-aiprod/topics/aiprod-dead-letters",
                "--renderBackends=veo3,veo3_fast,runway_gen4_turbo,replicate_wan,preview",
                "--useStorageWriteApiAtLeastOnce=true",
                "--environment=prod"));
    for (String e : extra) {
      String name = e.contains("=") ? e.substring(0, e.indexOf('=') + 1) : e;
      args.removeIf(a -> a.startsWith(name));
      args.add(e);
    }
    return args.toArray(new String[0]);
  }

  @Test
  void optionsHelpStarts() throws Exception {
    Run r = run("--help=AiprodOptions");
    assertThat(r.output(), r.status(), equalTo(0));
    assertThat(r.output(), containsString("--warehouse"));
    assertThat(r.output(), containsString("--dryRun"));
  }

  @Test
  void aStreamingDataflowDryRunBuildsTheWholeGraph() throws Exception {
    Run r =
        run(
            dataflowLaunch(
                "--inputSubscription=projects/demo-aiprod/subscriptions/aiprod-jobs-pipeline",
                "--dryRun"));
    assertThat(r.output(), r.status(), equalTo(0));
    assertThat(
        r.output(),
        matchesPattern(
            "(?s).*dry run: options valid, graph of [0-9]{3,} transforms built for DataflowRunner.*"));
  }

  @Test
  void aBatchDataflowDryRunBuildsTheWholeGraph() throws Exception {
    Run r =
        run(dataflowLaunch("--inputFiles=gs://demo-aiprod-aiprod/requests/*.jsonl", "--dryRun"));
    assertThat(r.output(), r.status(), equalTo(0));
    assertThat(r.output(), containsString("graph of "));
    // DataflowRunner's own INFO line, in JUL's format ("LEVEL: message" under a dated source line),
    // not slf4j-simple's ("[main] INFO logger - message").
    assertThat(r.output(), containsString("\nINFO: PipelineOptions.filesToStage"));
    assertThat(r.output(), not(containsString("[main] INFO")));
  }

  @Test
  void badOptionsExit2WithEveryProblemAndNoStackTrace() throws Exception {
    Run r =
        run(
            dataflowLaunch(
                "--inputSubscription=projects/demo-aiprod/subscriptions/aiprod-jobs-pipeline",
                "--warehouse=duckdb:/tmp/w.duckdb",
                "--authMode=dev"));
    assertThat(r.output(), r.status(), equalTo(2));
    assertThat(r.output(), containsString("--warehouse=duckdb:… is refused on Dataflow"));
    assertThat(r.output(), containsString("--authMode=dev"));
    assertThat(r.output(), not(containsString("\tat ")));
    Run typo = run(dataflowLaunch("--inputSubscriptoin=projects/p/subscriptions/s"));
    assertThat(typo.output(), typo.status(), equalTo(2));
    assertThat(typo.output(), containsString("inputSubscriptoin"));
  }
}
