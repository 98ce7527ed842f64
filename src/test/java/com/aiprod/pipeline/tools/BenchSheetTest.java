package com.aiprod.pipeline.tools;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThanOrEqualTo;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bench-sheet} makes its clips, then prints its three figure lines (no CPU asserted). */
class BenchSheetTest {
  private static final Pattern LINE =
      Pattern.compile(
          "figure=(contact_sheet_first|contact_sheet|contact_sheet_png)_3 value=([0-9]+)"
              + " unit=(cpu-ms|bytes) target=([0-9]+) ratio=([0-9.]+) load=[0-9.-]+");

  @TempDir Path dir;

  @Test
  void measuresTheSheetsOfTheClipsItMade() {
    Path clips = dir.resolve("clips");
    assertThat(run("--clips=" + clips, "--make-clips", "--shots=3").code(), is(0));
    assertThat(Files.isRegularFile(clips.resolve("shot-2.mp4")), is(true));

    Result r = run("--clips=" + clips, "--shots=3", "--runs=4");
    assertThat(r.err(), r.code(), is(0));
    String[] lines = r.out().strip().split("\n");
    assertThat(r.out(), lines.length, is(3));
    String[] names = {"contact_sheet_first", "contact_sheet", "contact_sheet_png"};
    for (int i = 0; i < 3; i++) {
      Matcher m = LINE.matcher(lines[i]);
      assertThat(lines[i], m.matches(), is(true));
      assertThat(m.group(1), is(names[i]));
      double value = Double.parseDouble(m.group(2));
      double target = Double.parseDouble(m.group(4));
      assertThat(value, greaterThan(0.0));
      assertThat(Double.parseDouble(m.group(5)), closeTo(value / target, 0.001));
    }
    assertThat(lines[2], containsString("unit=bytes target=2000000"));
    // Four sheets were drawn, each logged.
    assertThat(r.err(), containsString("sheet 4: 3 shots"));
    Matcher png = LINE.matcher(lines[2]);
    assertThat(png.matches(), is(true));
    assertThat(Double.parseDouble(png.group(2)), lessThanOrEqualTo(2_000_000.0));
  }

  @Test
  void withoutTheClipsItSaysHowToMakeThem() {
    Result r = run("--clips=" + dir.resolve("none"), "--shots=2");
    assertThat(r.code(), is(2));
    assertThat(r.err(), containsString("--make-clips"));
    assertThat(r.out(), is(""));
  }

  @Test
  void fewerThanFourRunsIsAUsageError() {
    Result r = run("--clips=" + dir, "--runs=3");
    assertThat(r.code(), is(2));
    assertThat(r.err(), containsString("--runs"));
  }

  private record Result(int code, String out, String err) {}

  private static Result run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Cli.run("bench-sheet", args, new PrintStream(out, true), new PrintStream(err, true));
    return new Result(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }
}
