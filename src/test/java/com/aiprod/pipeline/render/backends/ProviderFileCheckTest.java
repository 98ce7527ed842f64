package com.aiprod.pipeline.render.backends;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.aiprod.pipeline.media.HostileMp4;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Mp4Sink accepts a provider file only after a bounded parse and a first/last frame decode. */
class ProviderFileCheckTest {
  @TempDir Path dir;

  @Test
  void aRealClipIsAcceptedAndRenamedIntoPlace() throws Exception {
    byte[] mp4 = Loopback.sampleMp4(dir);
    Path dest = dir.resolve("out/shot-000.mp4");
    Files.createDirectories(dest.getParent());
    write(mp4, dir.resolve("out/warm-up.mp4"));
    Files.delete(dir.resolve("out/warm-up.mp4"));
    long t0 = System.nanoTime();
    assertThat(write(mp4, dest), is((long) mp4.length));
    System.out.printf(
        "provider-file-check real %d-byte clip accepted in %d us%n",
        mp4.length, (System.nanoTime() - t0) / 1000);
    assertThat(Files.readAllBytes(dest), is(mp4));
    assertThat(leftovers(dest.getParent()), is(List.of("shot-000.mp4")));
  }

  @Test
  void everyBombIsAFailedAttemptThatFallsBackAndLeavesNoFile() throws Exception {
    Path out = Files.createDirectories(dir.resolve("bombs"));
    for (Map.Entry<String, byte[]> bomb : HostileMp4.bombs().entrySet()) {
      Path dest = out.resolve("shot.mp4");
      long t0 = System.nanoTime();
      BackendException e =
          assertThrows(BackendException.class, () -> write(bomb.getValue(), dest), bomb.getKey());
      System.out.printf(
          "provider-file-check %-28s refused in %d us%n",
          bomb.getKey(), (System.nanoTime() - t0) / 1000);
      assertThat(bomb.getKey(), e.kind(), is(BackendException.Kind.PERMANENT));
      assertThat(e.getMessage(), containsString("runway_gen4_turbo output"));
      assertThat(e.getMessage(), not(containsString(dir.toString())));
      assertThat(bomb.getKey(), leftovers(out), is(empty()));
    }
  }

  @Test
  void undecodableFramesAreRefused() throws Exception {
    byte[] entry = HostileMp4.avc1(64, 64, HostileMp4.sps(3, 3), HostileMp4.pps());
    byte[] mp4 = new HostileMp4.Movie().sampleEntry(entry).sizes(400, 400).build();
    Path dest = dir.resolve("undecodable.mp4");
    long t0 = System.nanoTime();
    BackendException e = assertThrows(BackendException.class, () -> write(mp4, dest));
    System.out.printf(
        "provider-file-check undecodable frames refused in %d us: %s%n",
        (System.nanoTime() - t0) / 1000, e.getMessage());
    assertThat(e.kind(), is(BackendException.Kind.PERMANENT));
    assertThat(e.getMessage(), containsString("output refused: corrupt"));
    assertThat(Files.exists(dest), is(false));
    assertThat(leftovers(dir), is(empty()));
  }

  @Test
  void aCopiedObjectIsCheckedToo() throws Exception {
    byte[] entry = HostileMp4.avc1(64, 64, HostileMp4.sps(3, 3), HostileMp4.pps());
    Path source =
        Files.write(dir.resolve("src.bin"), new HostileMp4.Movie().sampleEntry(entry).build());
    Path dest = dir.resolve("copied/shot.mp4");
    Files.createDirectories(dest.getParent());
    BackendException e =
        assertThrows(
            BackendException.class,
            () -> Mp4Sink.copy(source.toString(), dest.toString(), 1 << 20, "veo3"));
    assertThat(e.kind(), is(BackendException.Kind.PERMANENT));
    assertThat(leftovers(dest.getParent()), is(empty()));
  }

  private static long write(byte[] bytes, Path dest) throws BackendException {
    try (Mp4Sink sink = new Mp4Sink(dest.toString(), 64 << 20, "runway_gen4_turbo")) {
      sink.write(ByteBuffer.wrap(bytes));
      return sink.commit();
    }
  }

  private static List<String> leftovers(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .filter(Files::isRegularFile)
          .map(p -> p.getFileName().toString())
          .filter(n -> !n.equals("sample.mp4") && !n.equals("src.bin"))
          .sorted()
          .collect(Collectors.toList());
    }
  }
}
