package com.aiprod.pipeline.ingest;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.nullValue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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

  @Test
  void countMessagesCountsTheNonBlankLinesOfEveryMatchedFileAsTheSourceReadsThem(@TempDir Path dir)
      throws IOException {
    Files.writeString(
        dir.resolve("a.jsonl"),
        "{}\n\n  \n{}\r\n" + "x".repeat(Envelope.MAX_LINE_BYTES + 10) + "\n{}");
    try (OutputStream out =
        new GZIPOutputStream(Files.newOutputStream(dir.resolve("b.jsonl.gz")))) {
      out.write("{}\n{}\n\n".getBytes(StandardCharsets.UTF_8));
    }
    Files.writeString(dir.resolve("other.txt"), "{}\n");
    // a: 3 lines + 1 oversized (a message with a read error); b (decompressed): 2.
    assertThat(ReadRequests.countMessages(dir + "/*.jsonl*"), equalTo(6L));
    assertThat(ReadRequests.countMessages(dir + "/a.jsonl"), equalTo(4L));
  }
}
