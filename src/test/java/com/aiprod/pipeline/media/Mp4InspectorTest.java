package com.aiprod.pipeline.media;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.aiprod.pipeline.assemble.Mp4Concatenator;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Mp4InspectorTest {
  @TempDir static Path shared;

  /** JCodec writes mdat before moov. */
  private static Path encoded;

  /** The concatenator writes moov before mdat. */
  private static Path fastStart;

  @TempDir Path dir;

  @BeforeAll
  static void render() throws IOException {
    encoded = shared.resolve("clip.mp4");
    PreviewEncoder.encode(encoded, PreviewCard.of("inspect me", 0, 1, "job-i", 1.0));
    fastStart = shared.resolve("faststart.mp4");
    Mp4Concatenator.concat(List.of(encoded, encoded), fastStart);
  }

  @Test
  void readsFilesAndBytes() throws Exception {
    VideoInfo fromFile = Mp4Inspector.inspect(encoded);
    VideoInfo fromBytes = Mp4Inspector.inspect(Files.readAllBytes(encoded));
    assertThat(fromBytes, is(fromFile));
    assertThat(fromFile.getFrameCount(), is(12));
    assertThat(fromFile.getDurationSec(), closeTo(1.0, 1e-9));
    assertThat(Mp4Inspector.inspect(fastStart).getFrameCount(), is(24));
  }

  @Test
  void garbageIsNotAnMp4() {
    byte[] text = "Hello, this is clearly not a movie file.".getBytes(StandardCharsets.UTF_8);
    assertThat(message(text), containsString("not an MP4"));
    byte[] random = new byte[4096];
    new Random(42).nextBytes(random);
    assertThat(message(random), containsString("not an MP4"));
    assertThat(message(new byte[0]), containsString("not an MP4"));
  }

  @Test
  void truncatedFilesAreReported() throws Exception {
    byte[] whole = Files.readAllBytes(encoded);
    byte[] half = Arrays.copyOf(whole, whole.length / 2);
    assertThat(message(half), containsString("truncated"));

    Path truncated = dir.resolve("truncated.mp4");
    byte[] faststart = Files.readAllBytes(fastStart);
    Files.write(truncated, Arrays.copyOf(faststart, faststart.length - 1000));
    IOException e = assertThrows(IOException.class, () -> Mp4Inspector.inspect(truncated));
    assertThat(e.getMessage(), containsString("truncated"));

    // Cut inside the moov box itself.
    byte[] header = Arrays.copyOf(faststart, 200);
    assertThat(message(header), containsString("truncated"));
  }

  @Test
  void corruptMoovIsAnIoException() throws Exception {
    byte[] bytes = Files.readAllBytes(fastStart);
    // Scribble over the moov content (after ftyp and the moov header), keeping box sizes intact.
    int moov = 32;
    assertThat(new String(bytes, moov + 4, 4, StandardCharsets.US_ASCII), is("moov"));
    for (int i = moov + 8; i < moov + 400 && i < bytes.length; i++) {
      bytes[i] = (byte) 0xFF;
    }
    assertThrows(IOException.class, () -> Mp4Inspector.inspect(bytes));
  }

  @Test
  void missingFileIsAnIoException() {
    assertThrows(IOException.class, () -> Mp4Inspector.inspect(dir.resolve("absent.mp4")));
  }

  private static String message(byte[] bytes) {
    return assertThrows(IOException.class, () -> Mp4Inspector.inspect(bytes)).getMessage();
  }
}
