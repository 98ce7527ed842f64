package com.aiprod.pipeline.tools;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BenchStreamTest {
  private static BenchStream.Sent done(long sentAt, long updatedAt) {
    BenchStream.Sent s = new BenchStream.Sent("bench-t0", "job-" + sentAt, sentAt);
    s.state = "ESTIMATED";
    s.updatedAt = updatedAt;
    s.seenAt = updatedAt + 500;
    return s;
  }

  @Test
  void percentilesAreNearestRank() {
    double[] a = new double[100];
    for (int i = 0; i < 100; i++) {
      a[i] = i + 1;
    }
    assertThat(BenchStream.Figures.percentile(a, 50), is(50.0));
    assertThat(BenchStream.Figures.percentile(a, 99), is(99.0));
    assertThat(BenchStream.Figures.percentile(a, 100), is(100.0));
    assertThat(BenchStream.Figures.percentile(new double[] {7}, 99), is(7.0));
    assertThat(BenchStream.Figures.percentile(new double[0], 99), is(-1.0));
  }

  @Test
  void sustainedRateIgnoresStartAndTail() {
    List<Long> t = new ArrayList<>();
    // A slow start (10 documents over 20 s), then 1,000 documents at 200/s, then a straggler.
    for (int i = 0; i < 10; i++) {
      t.add(i * 2_000L);
    }
    for (int i = 0; i < 1_000; i++) {
      t.add(20_000L + i * 5L);
    }
    t.add(100_000L);
    assertThat(BenchStream.Figures.sustained(t), closeTo(200.0, 1.0));
  }

  @Test
  void latencyIsUpdatedAtMinusSendTimeAfterTheWarmup() {
    List<BenchStream.Sent> sent = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      long at = 1_000_000L + i * 10L;
      // The first 10 (the warm-up) take 30 s, the rest 100 ms, one of them 900 ms.
      sent.add(done(at, at + (i < 10 ? 30_000 : i == 50 ? 900 : 100)));
    }
    sent.add(new BenchStream.Sent("bench-t0", "never", 1_000_500L)); // no document
    BenchStream.Figures f = BenchStream.Figures.of(sent, 1_000_100L, 990_000L);
    assertThat(f.terminal(), is(100));
    assertThat(f.latencySeconds().length, is(90));
    assertThat(BenchStream.Figures.percentile(f.latencySeconds(), 50), is(0.1));
    assertThat(BenchStream.Figures.percentile(f.latencySeconds(), 100), is(0.9));
    assertThat(f.firstDocumentSeconds(), is(10.2)); // 1_000_200 - 990_000
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    f.print(
        new PrintStream(out, true, StandardCharsets.UTF_8), 100, "1.00", true, 2_000, 45_000, 1.0);
    String text = out.toString(StandardCharsets.UTF_8);
    assertThat(
        text,
        containsString(
            "figure=stream_latency_p50 value=0.100 unit=s n=90 offered=100 sent=101 terminal=100"
                + " estimated=100 load=1.00"));
    assertThat(text, containsString("figure=stream_first_document value=10.200 unit=s"));
    assertThat(text, containsString("figure=stream_cpu_per_msg value=20.000 unit=ms"));
  }

  @Test
  void badRateIsAUsageError() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        Cli.run(
            "bench-stream",
            new String[] {
              "--topic", "projects/p/topics/t", "--firestore-host", "h:1", "--rate", "0"
            },
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(code, is(Cli.USAGE));
    assertThat(err.toString(StandardCharsets.UTF_8), containsString("must be positive"));
  }
}
