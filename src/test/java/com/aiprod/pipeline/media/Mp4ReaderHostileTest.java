package com.aiprod.pipeline.media;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.anyOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.hamcrest.Matcher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The crafted-MP4 corpus of issue 11 against the bounded parser. */
class Mp4ReaderHostileTest {
  @TempDir Path dir;

  private static final Map<String, Matcher<String>> EXPECTED =
      Map.ofEntries(
          Map.entry("huge sample count", containsString("stsz claims 268435456 samples in a ")),
          Map.entry(
              "huge box in moov",
              containsString("box 'udta' inside 'moov' claims 2147483632 bytes but only")),
          Map.entry(
              "huge table count",
              containsString("ctts claims 2147483647 entries but its 24-byte box holds at most 1")),
          Map.entry("overlapping samples", containsString("sample byte ranges overlap")),
          Map.entry("truncated mdat", containsString("truncated MP4: box 'mdat'")),
          Map.entry(
              "ftyp and garbage",
              anyOf(containsString("not an MP4"), containsString("truncated MP4"))),
          Map.entry("chunk offset beyond EOF", containsString("stco chunk 3 offset")),
          Map.entry("sample outside mdat", containsString("lies outside the media data")),
          Map.entry("deep nesting", containsString("nested deeper than 16 levels")),
          Map.entry("too many boxes", containsString("more than 100000 boxes")),
          Map.entry("frames faster than 480 fps", containsString("more than 480 per second")));

  @Test
  void everyBombIsRefusedWithItsReason() throws IOException {
    Mp4Reader.read(new HostileMp4.Movie().build()); // warm up: class loading is not the refusal
    Map<String, byte[]> bombs = HostileMp4.bombs();
    assertThat(bombs.keySet(), is(EXPECTED.keySet()));
    for (Map.Entry<String, byte[]> bomb : bombs.entrySet()) {
      long micros = Long.MAX_VALUE;
      IOException e = null;
      for (int run = 0; run < 5; run++) { // the fastest of 5, for docs/PERFORMANCE.md only
        long t0 = System.nanoTime();
        e = assertThrows(IOException.class, () -> Mp4Reader.read(bomb.getValue()), bomb.getKey());
        micros = Math.min(micros, (System.nanoTime() - t0) / 1000);
      }
      System.out.printf(
          Locale.ROOT,
          "hostile-mp4 %-28s %9d bytes refused in %6d us: %s%n",
          bomb.getKey(),
          bomb.getValue().length,
          micros,
          e.getMessage());
      assertThat(bomb.getKey(), e.getMessage(), EXPECTED.get(bomb.getKey()));
      assertThat(e.getMessage(), not(containsString("/")));
    }
  }

  @Test
  void theSameBombsAreRefusedFromFiles() throws IOException {
    for (Map.Entry<String, byte[]> bomb : HostileMp4.bombs().entrySet()) {
      Path file = dir.resolve("bomb.mp4");
      Files.write(file, bomb.getValue());
      IOException e = assertThrows(IOException.class, () -> Mp4Reader.read(file));
      assertThat(e.getMessage(), EXPECTED.get(bomb.getKey()));
      assertThat(e.getMessage(), not(containsString(dir.toString())));
    }
  }

  @Test
  void theBuilderWritesAValidMovieWhenNothingLies() throws IOException {
    Mp4Reader.Movie movie = Mp4Reader.read(new HostileMp4.Movie().sizes(10, 20, 30).build());
    Mp4Reader.Track video = movie.videoTrack();
    assertThat(video.sampleCount(), is(3));
    assertThat(video.size(2), is(30L));
    assertThat(video.offset(1), is(video.offset(0) + 10));
    assertThat(video.sampleEntries().get(0).getType(), is("avc1"));
  }

  @Test
  void realEncoderOutputStillParses() throws IOException {
    Path clip = dir.resolve("clip.mp4");
    PreviewEncoder.encode(clip, PreviewCard.of("still fine", 0, 1, "job-h", 1.0));
    Mp4Reader.Movie movie = Mp4Reader.read(clip);
    assertThat(movie.videoTrack().sampleCount(), is(12));
  }
}
