package com.aiprod.pipeline.tools;

import com.aiprod.pipeline.media.PreviewCard;
import com.aiprod.pipeline.media.PreviewEncoder;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jcodec.common.model.ColorSpace;
import org.jcodec.common.model.Picture;
import org.jcodec.scale.AWTUtil;
import org.jcodec.scale.ColorUtil;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench-encoder}: frames per CPU-second of the preview encoder ({@link PreviewEncoder}) and,
 * in the same run, of ffmpeg's libx264 {@code -preset ultrafast -threads 1} on the same pictures
 * (rendered once with {@link PreviewEncoder#renderFrame}, converted to raw yuv420p or bgr24 and
 * read from a file), the floor. Prints one line {@code figure=preview_encoder value=…
 * unit=fps/cpu-s floor=… ratio=… load=…}; {@code floor=absent} when there is no ffmpeg.
 *
 * <p>Our figure is the process CPU time (all JVM threads, GC and JIT included) of whole {@code
 * PreviewEncoder.encode} calls — drawing, colour conversion, encoding, MP4 writing — after warm-up
 * runs; ffmpeg's is the user + system time it reports with {@code -benchmark}. Each side is the
 * median of {@code --runs} runs.
 */
@Command(
    name = "bench-encoder",
    sortOptions = false,
    description = {
      "Measures the preview encoder's frames per CPU-second against ffmpeg libx264 ultrafast"
          + " (1 thread) on the same pictures, in the same run (scripts/bench's encoder figure)."
    })
public final class BenchEncoder extends Tool {
  private static final Pattern BENCH =
      Pattern.compile("bench: utime=([0-9.]+)s stime=([0-9.]+)s rtime=([0-9.]+)s");

  @Option(
      names = "--frames",
      paramLabel = "N",
      defaultValue = "600",
      description = "Frames per clip (default ${DEFAULT-VALUE}).")
  int frames;

  @Option(
      names = "--width",
      paramLabel = "PX",
      defaultValue = "640",
      description = "Width (default ${DEFAULT-VALUE}).")
  int width;

  @Option(
      names = "--height",
      paramLabel = "PX",
      defaultValue = "360",
      description = "Height (default ${DEFAULT-VALUE}).")
  int height;

  @Option(
      names = "--fps",
      paramLabel = "FPS",
      defaultValue = "12",
      description = "Frame rate of the clip (default ${DEFAULT-VALUE}).")
  int fps;

  @Option(
      names = "--runs",
      paramLabel = "N",
      defaultValue = "3",
      description = "Measured runs per side; the median counts (default ${DEFAULT-VALUE}).")
  int runs;

  @Option(
      names = "--warmup",
      paramLabel = "N",
      defaultValue = "6",
      description =
          "Unmeasured encoder runs first, until the JIT has compiled the encoder (default"
              + " ${DEFAULT-VALUE}).")
  int warmup;

  @Option(
      names = "--ffmpeg",
      paramLabel = "PATH",
      defaultValue = "ffmpeg",
      description = "The ffmpeg binary (default ${DEFAULT-VALUE}, looked up on PATH).")
  String ffmpeg;

  @Option(
      names = "--ffmpeg-input",
      paramLabel = "FORMAT",
      defaultValue = "yuv420p",
      description =
          "Raw pixel format ffmpeg reads: yuv420p (no conversion in ffmpeg, the stricter floor)"
              + " or bgr24 (ffmpeg converts, as our encoder does) (default ${DEFAULT-VALUE}).")
  String ffmpegInput;

  @Option(
      names = "--work-dir",
      paramLabel = "DIR",
      description = "Where the clips and raw frames go (default: a temporary directory, removed).")
  Path workDir;

  @Override
  public Integer call() throws Exception {
    if (frames < 1 || width < 16 || height < 16 || fps < 1 || runs < 1 || warmup < 0) {
      throw usage("--frames, --fps and --runs must be at least 1, the size at least 16x16");
    }
    if (!ffmpegInput.equals("yuv420p") && !ffmpegInput.equals("bgr24")) {
      throw usage("--ffmpeg-input must be yuv420p or bgr24");
    }
    PreviewCard card =
        PreviewCard.builder()
            .setTitle(
                "A lone lighthouse keeper climbs the spiral stairs at dusk while a storm gathers"
                    + " over a slate-grey sea; warm light spills from the lamp room.")
            .setShotIndex(1)
            .setShotCount(5)
            .setJobId("job-bench-7f3a9c21")
            .setDurationSec((double) frames / fps)
            .setWidth(width)
            .setHeight(height)
            .setFps(fps)
            .build();
    boolean temporary = workDir == null;
    Path dir = temporary ? Files.createTempDirectory("bench-encoder") : workDir;
    Files.createDirectories(dir);
    try {
      double ours = measureOurs(card, dir.resolve("preview.mp4"));
      String floor = "absent";
      String ratio = "absent";
      Double theirs = measureFfmpeg(card, dir);
      if (theirs != null) {
        floor = fmt(theirs);
        ratio = String.format(Locale.ROOT, "%.3f", ours / theirs);
      }
      out()
          .printf(
              Locale.ROOT,
              "figure=preview_encoder value=%s unit=fps/cpu-s floor=%s ratio=%s load=%.2f%n",
              fmt(ours),
              floor,
              ratio,
              ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
      return 0;
    } finally {
      if (temporary) {
        deleteTree(dir);
      }
    }
  }

  private double measureOurs(PreviewCard card, Path clip) throws IOException {
    for (int i = 0; i < warmup; i++) {
      PreviewEncoder.encode(clip, card);
    }
    double[] rates = new double[runs];
    for (int i = 0; i < runs; i++) {
      long cpu0 = processCpuNanos();
      long wall0 = System.nanoTime();
      PreviewEncoder.encode(clip, card);
      long cpu = processCpuNanos() - cpu0;
      long wall = System.nanoTime() - wall0;
      rates[i] = card.frameCount() / (cpu / 1e9);
      err()
          .printf(
              Locale.ROOT,
              "preview encoder run %d: %d frames, %.3f CPU-s, %.3f s wall, %s fps/cpu-s, %d bytes%n",
              i + 1,
              card.frameCount(),
              cpu / 1e9,
              wall / 1e9,
              fmt(rates[i]),
              Files.size(clip));
    }
    return median(rates);
  }

  /** ffmpeg's frames per CPU-second on the card's frames, or null if there is no ffmpeg. */
  private Double measureFfmpeg(PreviewCard card, Path dir)
      throws IOException, InterruptedException {
    if (!ffmpegAvailable()) {
      err().println("ffmpeg not found (" + ffmpeg + "): floor=absent");
      return null;
    }
    Path raw = dir.resolve("frames." + ffmpegInput);
    try (OutputStream os = Files.newOutputStream(raw)) {
      for (int i = 0; i < card.frameCount(); i++) {
        os.write(raw(PreviewEncoder.renderFrame(card, i), ffmpegInput));
      }
    }
    Path out = dir.resolve("ffmpeg.mp4");
    double[] rates = new double[runs];
    for (int i = 0; i < runs; i++) {
      List<String> command =
          new ArrayList<>(
              Arrays.asList(
                  ffmpeg,
                  "-hide_banner",
                  "-nostdin",
                  "-benchmark",
                  "-f",
                  "rawvideo",
                  "-pix_fmt",
                  ffmpegInput,
                  "-s",
                  card.width() + "x" + card.height(),
                  "-r",
                  Integer.toString(card.fps()),
                  "-i",
                  raw.toString(),
                  "-threads",
                  "1",
                  "-c:v",
                  "libx264",
                  "-preset",
                  "ultrafast",
                  "-pix_fmt",
                  "yuv420p",
                  "-y",
                  out.toString()));
      Path log = dir.resolve("ffmpeg.log");
      Process p =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      int code = p.waitFor();
      String text = Files.readString(log, StandardCharsets.UTF_8);
      Matcher m = BENCH.matcher(text);
      if (code != 0 || !m.find()) {
        throw new IOException("ffmpeg failed (exit " + code + "): " + tail(text));
      }
      double cpu = Double.parseDouble(m.group(1)) + Double.parseDouble(m.group(2));
      rates[i] = card.frameCount() / cpu;
      err()
          .printf(
              Locale.ROOT,
              "ffmpeg libx264 ultrafast run %d: %d frames (%s), %.3f CPU-s, %s s wall,"
                  + " %s fps/cpu-s, %d bytes%n",
              i + 1,
              card.frameCount(),
              ffmpegInput,
              cpu,
              m.group(3),
              fmt(rates[i]),
              Files.size(out));
    }
    return median(rates);
  }

  /** The picture as raw bgr24 bytes, or as yuv420p (JCodec's RGB to YUV 4:2:0 conversion). */
  static byte[] raw(BufferedImage image, String format) {
    if (format.equals("bgr24")) {
      BufferedImage bgr = image;
      if (image.getType() != BufferedImage.TYPE_3BYTE_BGR) {
        bgr = new BufferedImage(image.getWidth(), image.getHeight(), BufferedImage.TYPE_3BYTE_BGR);
        bgr.getGraphics().drawImage(image, 0, 0, null);
      }
      return ((DataBufferByte) bgr.getRaster().getDataBuffer()).getData().clone();
    }
    int w = image.getWidth();
    int h = image.getHeight();
    Picture yuv = Picture.create(w, h, ColorSpace.YUV420J);
    ColorUtil.getTransform(ColorSpace.RGB, ColorSpace.YUV420J)
        .transform(AWTUtil.fromBufferedImageRGB(image), yuv);
    byte[] out = new byte[w * h + 2 * ((w + 1) / 2) * ((h + 1) / 2)];
    int pos = 0;
    for (int plane = 0; plane < 3; plane++) {
      int pw = plane == 0 ? w : (w + 1) / 2;
      int ph = plane == 0 ? h : (h + 1) / 2;
      byte[] data = yuv.getPlaneData(plane);
      int stride = yuv.getPlaneWidth(plane);
      for (int y = 0; y < ph; y++) {
        for (int x = 0; x < pw; x++) {
          // JCodec stores samples minus 128.
          out[pos++] = (byte) (data[y * stride + x] + 128);
        }
      }
    }
    return out;
  }

  private boolean ffmpegAvailable() {
    try {
      Process p =
          new ProcessBuilder(ffmpeg, "-hide_banner", "-version")
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      return p.waitFor() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  static long processCpuNanos() {
    java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof com.sun.management.OperatingSystemMXBean) {
      return ((com.sun.management.OperatingSystemMXBean) os).getProcessCpuTime();
    }
    throw new IllegalStateException("this JVM does not report process CPU time");
  }

  static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, "%.1f", v);
  }

  private static String tail(String text) {
    return text.length() <= 600 ? text.strip() : text.substring(text.length() - 600).strip();
  }

  private static void deleteTree(Path dir) throws IOException {
    File[] files = dir.toFile().listFiles();
    if (files != null) {
      for (File f : files) {
        Files.deleteIfExists(f.toPath());
      }
    }
    Files.deleteIfExists(dir);
  }
}
