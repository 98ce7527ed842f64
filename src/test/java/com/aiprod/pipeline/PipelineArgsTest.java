package com.aiprod.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.emptyString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pipeline main's command line ({@link PipelineArgs}): help and bad options. */
class PipelineArgsTest {
  @TempDir Path dir;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private PipelineArgs.Built build(String... args) {
    return PipelineArgs.build(
        args,
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private String[] good(String... extra) {
    String[] base = {
      "--inputFiles=" + dir.resolve("in.jsonl"),
      "--authMode=dev",
      "--devAuthDir=" + dir.resolve("dev-auth"),
      "--project=demo-aiprod",
      "--warehouse=duckdb:" + dir.resolve("wh.duckdb"),
      "--outputLocation=" + dir.resolve("out"),
      "--secretSource=dir:" + dir.resolve("secrets"),
      "--environment=dev"
    };
    String[] all = new String[base.length + extra.length];
    System.arraycopy(base, 0, all, 0, base.length);
    System.arraycopy(extra, 0, all, base.length, extra.length);
    return all;
  }

  @Test
  void plainHelpListsThePipelineOptionsOnly() {
    PipelineArgs.Built built = build("--help");
    assertThat(built.exitCode(), equalTo(0));
    assertThat(built.pipeline(), nullValue());
    String help = out.toString(StandardCharsets.UTF_8);
    assertThat(help, containsString("com.aiprod.pipeline.options.AiprodOptions"));
    assertThat(help, containsString("--inputFiles"));
    assertThat(help, containsString("--help=DataflowPipelineOptions"));
    // Not every registered interface (Flink's, the test-only ones) as Beam's plain --help does.
    assertThat(help, not(containsString("org.apache.beam.runners.flink.FlinkPipelineOptions:")));
    assertThat(help, not(containsString("TestPipelineOptions")));
  }

  @Test
  void anUnknownOptionIsOneMessageAndExitTwo() {
    PipelineArgs.Built built = build(good("--inputFile=typo.jsonl"));
    assertThat(built.exitCode(), equalTo(2));
    assertThat(built.pipeline(), nullValue());
    String text = err.toString(StandardCharsets.UTF_8);
    assertThat(text, containsString("aiprod-pipeline: bad options:"));
    assertThat(text, containsString("inputFile"));
    assertThat(text, containsString("--help"));
    assertThat(text, not(containsString("\tat ")));
    assertThat(out.toString(StandardCharsets.UTF_8), emptyString());
  }

  @Test
  void optionsTheCheckRefusesAreOneMessageAndExitTwo() {
    PipelineArgs.Built built =
        build(good("--inputTopic=projects/p/topics/t", "--ackDelaySeconds=-1"));
    assertThat(built.exitCode(), equalTo(2));
    String text = err.toString(StandardCharsets.UTF_8);
    assertThat(text, containsString("set exactly one of --inputSubscription"));
    assertThat(text, containsString("--ackDelaySeconds must be >= 0"));
    assertThat(text, not(containsString("\tat ")));
  }

  @Test
  void goodOptionsBuildThePipeline() {
    PipelineArgs.Built built = build(good());
    assertThat(err.toString(StandardCharsets.UTF_8), built.pipeline(), notNullValue());
    assertThat(built.exitCode(), equalTo(0));
  }
}
