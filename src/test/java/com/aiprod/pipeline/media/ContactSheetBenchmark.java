package com.aiprod.pipeline.media;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.lessThanOrEqualTo;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a 60-shot contact sheet costs (docs/PERFORMANCE.md, "Contact sheets"): 60 preview clips of 8
 * s (12 fps, a sync sample every 2 s), the sheet drawn five times in one thread; prints the thread
 * CPU time of each and the PNG size, and keeps the sheet as {@code target/contact-sheet-60.png} to
 * look at. Not a timed test: only the size bound is asserted.
 *
 * <pre>
 * mvn -o test -Dtest=ContactSheetBenchmark -DexcludedGroups=none -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 */
@Tag("benchmark")
class ContactSheetBenchmark {
  @TempDir Path dir;

  @Test
  void sixtyShotSheet() throws Exception {
    int n = 60;
    List<ContactSheet.Shot> shots = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Path clip = dir.resolve("shot-" + i + ".mp4");
      // Different prompts, so that tiles differ as real shots do.
      PreviewEncoder.encode(
          clip,
          PreviewCard.of(
              "Shot "
                  + i
                  + ": a lighthouse keeper climbs the stairs at dusk while a storm gathers, take "
                  + (i * 37 % 101),
              i,
              n,
              "job-benchmark-60",
              8));
      shots.add(
          new ContactSheet.Shot(i, 8, i % 7 == 3 ? "veo" : "preview", 1 + i % 3, clip.toString()));
    }
    ContactSheet.Header header =
        new ContactSheet.Header(
            "job-benchmark-60", "acme", "premium_spot", "NEEDS_REVIEW", null, 48.0, 39.5);
    // Process CPU: JCodec's decoder may use threads of its own.
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    byte[] png = null;
    for (int run = 1; run <= 5; run++) {
      long cpu = os.getProcessCpuTime();
      long wall = System.nanoTime();
      png = ContactSheet.png(header, shots);
      System.out.printf(
          Locale.ROOT,
          "contact sheet run %d: %d shots, %d bytes, process CPU %d ms, wall %d ms%n",
          run,
          n,
          png.length,
          (os.getProcessCpuTime() - cpu) / 1_000_000,
          (System.nanoTime() - wall) / 1_000_000);
    }
    Files.createDirectories(Paths.get("target"));
    Files.write(Paths.get("target/contact-sheet-60.png"), png);
    assertThat(png.length, lessThanOrEqualTo(ContactSheet.MAX_BYTES));
  }
}
