package com.aiprod.pipeline.tools;

import com.aiprod.pipeline.media.ContactSheet;
import com.aiprod.pipeline.media.PreviewCard;
import com.aiprod.pipeline.media.PreviewEncoder;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench-sheet}: the CPU of one contact sheet ({@link ContactSheet#png}) against its bound
 * (DESIGN/issue: a 60-shot sheet under 1 s of CPU and 2 MB). {@code --make-clips} writes {@code
 * --shots} preview clips of 8 s (different prompts) into {@code --clips} and stops, so that the
 * measuring run starts in a fresh JVM: its first sheet pays the JIT compilation and the first touch
 * of the heap, once per worker; later sheets are what a running worker pays per job. Prints {@code
 * figure=contact_sheet_first}, {@code figure=contact_sheet} (median of the second half of the runs)
 * and {@code figure=contact_sheet_png}, each {@code value=… unit=… target=… ratio=… load=…}.
 */
@Command(
    name = "bench-sheet",
    sortOptions = false,
    description = {
      "Measures the CPU of a contact sheet of --shots preview clips, first in a fresh JVM and then"
          + " warm (scripts/bench's sheet figures)."
    })
public final class BenchSheet extends Tool {
  /** The bound on one sheet's CPU. */
  static final double TARGET_CPU_MS = 1000;

  @Option(
      names = "--clips",
      paramLabel = "DIR",
      required = true,
      description = "Directory of the clips shot-0.mp4 … (made by --make-clips).")
  Path clips;

  @Option(
      names = "--make-clips",
      description = "Write the clips into --clips and stop (measure in a new JVM).")
  boolean makeClips;

  @Option(
      names = "--shots",
      paramLabel = "N",
      defaultValue = "60",
      description = "Shots on the sheet (default ${DEFAULT-VALUE}).")
  int shots;

  @Option(
      names = "--runs",
      paramLabel = "N",
      defaultValue = "10",
      description =
          "Sheets drawn in this JVM, at least 4; the warm figure is the median of the second"
              + " half (default ${DEFAULT-VALUE}).")
  int runs;

  @Override
  public Integer call() throws Exception {
    if (shots < 1 || runs < 4) {
      throw usage("--shots must be at least 1 and --runs at least 4");
    }
    if (makeClips) {
      Files.createDirectories(clips);
      for (int i = 0; i < shots; i++) {
        PreviewEncoder.encode(
            clip(i),
            PreviewCard.of(
                "Shot "
                    + i
                    + ": a lighthouse keeper climbs the stairs at dusk while a storm gathers, take "
                    + (i * 37 % 101),
                i,
                shots,
                "job-bench-sheet",
                8));
      }
      err().printf(Locale.ROOT, "%d clips in %s%n", shots, clips);
      return 0;
    }
    List<ContactSheet.Shot> sheetShots = new ArrayList<>();
    for (int i = 0; i < shots; i++) {
      if (!Files.isRegularFile(clip(i))) {
        throw usage("no " + clip(i) + ": make the clips first with --make-clips");
      }
      sheetShots.add(
          new ContactSheet.Shot(
              i, 8, i % 7 == 3 ? "veo" : "preview", 1 + i % 3, clip(i).toString()));
    }
    ContactSheet.Header header =
        new ContactSheet.Header(
            "job-bench-sheet", "acme", "premium_spot", "NEEDS_REVIEW", null, 48.0, 39.5);
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    double[] cpuMs = new double[runs];
    int bytes = 0;
    for (int run = 0; run < runs; run++) {
      long cpu0 = BenchEncoder.processCpuNanos();
      long thread0 = threads.getCurrentThreadCpuTime();
      long wall0 = System.nanoTime();
      bytes = ContactSheet.png(header, sheetShots).length;
      cpuMs[run] = (BenchEncoder.processCpuNanos() - cpu0) / 1e6;
      err()
          .printf(
              Locale.ROOT,
              "sheet %d: %d shots, %d bytes, process CPU %.0f ms, thread CPU %.0f ms, wall %.0f"
                  + " ms%n",
              run + 1,
              shots,
              bytes,
              cpuMs[run],
              (threads.getCurrentThreadCpuTime() - thread0) / 1e6,
              (System.nanoTime() - wall0) / 1e6);
    }
    double warm = BenchEncoder.median(Arrays.copyOfRange(cpuMs, runs / 2, runs));
    figure("contact_sheet_first", cpuMs[0], "cpu-ms", TARGET_CPU_MS);
    figure("contact_sheet", warm, "cpu-ms", TARGET_CPU_MS);
    figure("contact_sheet_png", bytes, "bytes", ContactSheet.MAX_BYTES);
    return 0;
  }

  private Path clip(int i) {
    return clips.resolve("shot-" + i + ".mp4");
  }

  private void figure(String name, double value, String unit, double target) {
    out()
        .printf(
            Locale.ROOT,
            "figure=%s_%d value=%.0f unit=%s target=%.0f ratio=%.3f load=%.2f%n",
            name,
            shots,
            value,
            unit,
            target,
            value / target,
            ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
  }
}
