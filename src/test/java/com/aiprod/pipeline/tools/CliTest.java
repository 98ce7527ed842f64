package com.aiprod.pipeline.tools;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.emptyString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.startsWith;

import com.aiprod.pipeline.testing.PubsubEmulator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Every subcommand of {@link Cli}: {@code --help} (exit 0), a typo'd option and a missing value
 * (exit 2 with the usage, and no side effect: no file, key, warehouse or message made).
 */
class CliTest {
  @RegisterExtension static final PubsubEmulator PUBSUB = new PubsubEmulator();

  @TempDir Path dir;

  private String topic;
  private String subscription;
  private Path samples;

  record Run(int status, String out, String err) {}

  static Run cli(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status =
        new Cli(
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8))
            .execute(args);
    return new Run(
        status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @BeforeEach
  void files() throws Exception {
    samples = dir.resolve("samples.jsonl");
    Files.writeString(
        samples,
        "{\"attributes\":{\"job_id\":\"job-cli-0001\"},\"data\":{\"content\":\"A calm sea.\"},"
            + "\"identity\":{\"uid\":\"alice\",\"tenant\":\"acme\"}}\n");
    String name = "cli-" + System.nanoTime();
    topic = PUBSUB.createTopic(name);
    subscription = PUBSUB.createSubscription(name + "-sub", topic, 30);
  }

  /** Per subcommand: arguments that would do something, then the same with a typo appended. */
  private Map<String, List<String>> working() {
    String wh = "--warehouse=duckdb:" + dir.resolve("wh.duckdb");
    Map<String, List<String>> m = new LinkedHashMap<>();
    m.put("dev-token", List.of("--uid", "alice", "--dev-auth-dir", dir.resolve("keys").toString()));
    m.put(
        "sign-samples",
        List.of(
            "--in",
            samples.toString(),
            "--out",
            dir.resolve("signed.jsonl").toString(),
            "--dev-auth-dir",
            dir.resolve("keys").toString()));
    m.put(
        "publish",
        List.of(samples.toString(), "--topic", topic, "--pubsub-root-url", PUBSUB.rootUrl()));
    m.put("query", List.of(wh, "SELECT 1"));
    m.put("analyst-views", List.of(wh, "--sql-dir=" + dir));
    m.put("summary", List.of(wh, "--input-files=" + samples));
    m.put(
        "export-jobs",
        List.of(
            "--project=demo-aiprod",
            "--emulator-host=127.0.0.1:9",
            "--output=" + dir.resolve("jobs.json")));
    m.put("verify-audit", List.of(wh, "--secret-source=dir:" + dir.resolve("secrets")));
    m.put(
        "replay-dead-letters",
        List.of(
            wh,
            "--reason=INTERNAL_ERROR",
            "--topic=" + topic,
            "--pubsub-root-url=" + PUBSUB.rootUrl(),
            "--dev-uid=alice",
            "--dev-auth-dir=" + dir.resolve("keys")));
    m.put("report", List.of(wh, "--out=" + dir.resolve("report.html")));
    m.put(
        "bench-encoder",
        List.of("--frames=2", "--runs=1", "--warmup=0", "--work-dir=" + dir.resolve("bench")));
    m.put("bench-sheet", List.of("--clips=" + dir.resolve("sheet"), "--make-clips", "--shots=1"));
    m.put(
        "bench-inputs",
        List.of(
            "--jobs=3",
            "--users=1",
            "--out=" + dir.resolve("bench.jsonl"),
            "--dev-auth-dir=" + dir.resolve("keys")));
    m.put("bench-verify-floor", List.of("--tokens=5", "--dev-auth-dir=" + dir.resolve("keys")));
    m.put(
        "bench-stream",
        List.of(
            "--topic=" + topic,
            "--pubsub-root-url=" + PUBSUB.rootUrl(),
            "--firestore-host=127.0.0.1:9",
            "--dev-auth-dir=" + dir.resolve("keys")));
    return m;
  }

  /** Files any command could have made. */
  private List<Path> sideEffects() {
    return List.of(
        dir.resolve("keys"),
        dir.resolve("signed.jsonl"),
        dir.resolve("wh.duckdb"),
        dir.resolve("jobs.json"),
        dir.resolve("secrets"),
        dir.resolve("report.html"),
        dir.resolve("bench"),
        dir.resolve("bench.jsonl"));
  }

  private void assertNothingDone() throws Exception {
    for (Path p : sideEffects()) {
      assertThat(p + " was made", Files.exists(p), is(false));
    }
    Thread.sleep(300);
    assertThat(PUBSUB.pull(subscription, 10), empty());
  }

  @Test
  void everySubcommandIsCovered() {
    Set<String> commands = new TreeSet<>(new CommandLine(new Cli()).getSubcommands().keySet());
    assertThat(commands, equalTo(new TreeSet<>(working().keySet())));
  }

  @Test
  void helpOnEverySubcommandExitsZero() {
    for (String command : working().keySet()) {
      Run run = cli(command, "--help");
      assertThat(command + ": " + run.err(), run.status(), equalTo(0));
      assertThat(run.out(), startsWith("Usage: aiprod " + command));
      assertThat(run.out(), containsString("--help"));
    }
    Run top = cli("--help");
    assertThat(top.status(), equalTo(0));
    assertThat(top.out(), containsString("kebab-case"));
  }

  @Test
  void aTypoIsRefusedWithTheUsageAndNothingIsDone() throws Exception {
    for (Map.Entry<String, List<String>> e : working().entrySet()) {
      for (String typo : List.of("--dryrun", "--dev-auth-dri=x", "--topc")) {
        List<String> args = new ArrayList<>();
        args.add(e.getKey());
        args.addAll(e.getValue());
        args.add(typo);
        Run run = cli(args.toArray(new String[0]));
        String what = String.join(" ", args);
        assertThat(what, run.status(), equalTo(2));
        assertThat(what, run.out(), emptyString());
        assertThat(what, run.err(), containsString("Unknown option: '" + typo + "'"));
        assertThat(what, run.err(), containsString("Usage: aiprod " + e.getKey()));
        assertThat(what, run.err(), not(containsString("null")));
      }
    }
    assertThat(cli("replay-dead-letters", "--dryrun").err(), containsString("--dry-run"));
    assertNothingDone();
  }

  @Test
  void aMissingValueIsRefusedWithTheUsageAndNothingIsDone() throws Exception {
    Map<String, String> lastOption = new LinkedHashMap<>();
    lastOption.put("dev-token", "--ttl");
    lastOption.put("sign-samples", "--firebase-project");
    lastOption.put("publish", "--topic");
    lastOption.put("query", "--file");
    lastOption.put("analyst-views", "--sql-dir");
    lastOption.put("summary", "--expected-messages");
    lastOption.put("export-jobs", "--output");
    lastOption.put("verify-audit", "--since");
    lastOption.put("replay-dead-letters", "--message-ids");
    lastOption.put("report", "--since");
    lastOption.put("bench-encoder", "--ffmpeg");
    lastOption.put("bench-sheet", "--runs");
    lastOption.put("bench-inputs", "--firebase-project");
    lastOption.put("bench-verify-floor", "--dev-auth-dir");
    lastOption.put("bench-stream", "--rate");
    assertThat(lastOption.keySet(), equalTo(working().keySet()));
    for (Map.Entry<String, List<String>> e : working().entrySet()) {
      List<String> args = new ArrayList<>();
      args.add(e.getKey());
      args.addAll(e.getValue());
      args.add(lastOption.get(e.getKey()));
      Run run = cli(args.toArray(new String[0]));
      String what = String.join(" ", args);
      assertThat(what, run.status(), equalTo(2));
      assertThat(what, run.out(), emptyString());
      assertThat(
          what,
          run.err(),
          containsString("Missing required parameter for option '" + lastOption.get(e.getKey())));
      assertThat(what, run.err(), containsString("Usage: aiprod " + e.getKey()));
    }
    assertNothingDone();
  }

  @Test
  void noOrAnUnknownCommandIsBadUsage() {
    Run none = cli();
    assertThat(none.status(), equalTo(2));
    assertThat(none.err(), containsString("Missing command"));
    Run unknown = cli("replay", "--dry-run");
    assertThat(unknown.status(), equalTo(2));
    assertThat(unknown.err(), containsString("replay-dead-letters"));
  }

  @Test
  void aFailureSaysWhatHappenedNeverNull() {
    assertThat(Cli.describe(new IOException()), equalTo("IOException"));
    assertThat(
        Cli.describe(new RuntimeException(new IllegalStateException("the topic does not exist"))),
        containsString("the topic does not exist"));
    Run publish =
        cli(
            "publish",
            samples.toString(),
            "--topic=projects/demo-aiprod/topics/no-such-topic",
            "--pubsub-root-url=" + PUBSUB.rootUrl());
    assertThat(publish.status(), equalTo(1));
    assertThat(publish.err(), containsString("NOT_FOUND"));
    assertThat(publish.err(), not(containsString("null")));
  }
}
