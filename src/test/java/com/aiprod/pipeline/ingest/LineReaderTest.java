package com.aiprod.pipeline.ingest;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.nullValue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class LineReaderTest {
  private static ReadRequests.LineReader reader(String s, int cap) {
    return new ReadRequests.LineReader(
        new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8)), cap);
  }

  private static String text(ReadRequests.LineReader.Line l) {
    return new String(l.bytes, StandardCharsets.UTF_8);
  }

  @Test
  void splitsLinesAndStripsCarriageReturns() throws IOException {
    ReadRequests.LineReader r = reader("a\r\nb\n\nc", 100);
    assertThat(text(r.next()), equalTo("a"));
    assertThat(text(r.next()), equalTo("b"));
    assertThat(r.next().isBlank(), is(true));
    assertThat(text(r.next()), equalTo("c"));
    assertThat(r.next(), nullValue());
  }

  @Test
  void capsLongLinesAndKeepsReadingAfterThem() throws IOException {
    ReadRequests.LineReader r = reader("x".repeat(1000) + "\nnext\n", 10);
    ReadRequests.LineReader.Line first = r.next();
    assertThat(first.truncated, is(true));
    assertThat(first.bytes.length, equalTo(10));
    assertThat(text(r.next()), equalTo("next"));
    assertThat(r.next(), nullValue());
  }

  @Test
  void derivedJobIdsAreStableValidAndDistinct() {
    String a = ReadRequests.derivedJobId("/in/a.jsonl", 1);
    assertThat(a, equalTo(ReadRequests.derivedJobId("/in/a.jsonl", 1)));
    assertThat(a.matches("[A-Za-z0-9_-]{8,64}"), is(true));
    assertThat(a.equals(ReadRequests.derivedJobId("/in/a.jsonl", 2)), is(false));
  }
}
