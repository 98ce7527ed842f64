package com.aiprod.pipeline.tools;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.is;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bench-encoder} prints its one figure line, with and without ffmpeg (no rate asserted). */
class BenchEncoderTest {
  private static final Pattern LINE =
      Pattern.compile(
          "figure=preview_encoder value=([0-9.]+) unit=fps/cpu-s floor=(\\S+) ratio=(\\S+)"
              + " load=([0-9.-]+)\n");

  @TempDir Path dir;

  @Test
  void withoutFfmpegTheFloorIsAbsent() {
    String out = run("--ffmpeg=" + dir.resolve("no-such-ffmpeg"));
    Matcher m = LINE.matcher(out);
    assertThat(out, m.matches(), is(true));
    assertThat(Double.parseDouble(m.group(1)), greaterThan(0.0));
    assertThat(m.group(2), is("absent"));
    assertThat(m.group(3), is("absent"));
  }

  @Test
  void withFfmpegTheRatioIsOursOverTheFloor() throws Exception {
    Assumptions.assumeTrue(
        new ProcessBuilder("ffmpeg", "-version")
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start()
                .waitFor()
            == 0,
        "ffmpeg is not installed");
    String out = run("--ffmpeg-input=bgr24");
    Matcher m = LINE.matcher(out);
    assertThat(out, m.matches(), is(true));
    double value = Double.parseDouble(m.group(1));
    double floor = Double.parseDouble(m.group(2));
    assertThat(floor, greaterThan(0.0));
    assertThat(Double.parseDouble(m.group(3)), closeTo(value / floor, 0.002 + value / floor / 100));
    // The work directory is the caller's: the clips are left there.
    assertThat(Files.exists(dir.resolve("work/preview.mp4")), is(true));
    assertThat(Files.exists(dir.resolve("work/ffmpeg.mp4")), is(true));
  }

  @Test
  void badValuesAreUsageErrors() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        Cli.run(
            "bench-encoder",
            new String[] {"--frames=0"},
            new PrintStream(new ByteArrayOutputStream(), true),
            new PrintStream(err, true));
    assertThat(code, is(2));
    assertThat(err.toString(StandardCharsets.UTF_8), containsString("--frames"));
  }

  private String run(String extra) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        Cli.run(
            "bench-encoder",
            new String[] {
              "--frames=12", "--runs=1", "--warmup=0", "--work-dir=" + dir.resolve("work"), extra
            },
            new PrintStream(out, true),
            new PrintStream(err, true));
    assertThat(err.toString(StandardCharsets.UTF_8), code, is(0));
    return out.toString(StandardCharsets.UTF_8);
  }
}
