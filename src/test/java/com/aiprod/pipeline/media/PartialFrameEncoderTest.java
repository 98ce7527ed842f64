package com.aiprod.pipeline.media;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThan;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.jcodec.common.model.ColorSpace;
import org.jcodec.common.model.Picture;
import org.jcodec.scale.AWTUtil;
import org.jcodec.scale.ColorUtil;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The preview encoder's skipped and intra-coded macroblocks decode to the right pictures: every
 * frame of a clip decoded back (JCodec, the QA decoder) is close to the frame {@link
 * PreviewEncoder#renderFrame} draws, and, when ffmpeg is installed, ffmpeg's decoder gives the same
 * pixels bit for bit.
 */
class PartialFrameEncoderTest {
  @TempDir Path dir;

  @Test
  void everyFrameOfAClipDecodesToTheCardItShows() throws IOException {
    // 30 frames at 12 fps: key frames at 0 and 24, skipped and intra macroblocks in between.
    PreviewCard card = PreviewCard.of("A harbour at dawn, gulls and fog.", 2, 4, "job-rt", 2.5);
    Path clip = dir.resolve("clip.mp4");
    PreviewEncoder.encode(clip, card);

    VideoInfo info = Mp4Inspector.inspect(clip);
    assertThat(info.getFrameCount(), is(30));
    assertThat(info.getDurationSec(), closeTo(2.5, 1e-9));
    assertThat(info.getWidth(), is(640));
    assertThat(info.getHeight(), is(360));
    try (FileChannel ch = FileChannel.open(clip, StandardOpenOption.READ)) {
      VideoFrames frames = VideoFrames.of(ch);
      assertThat(frames.frameCount(), is(30));
      for (int i = 0; i < card.frameCount(); i++) {
        Picture decoded = frames.decode(i);
        Picture expected = yuv(PreviewEncoder.renderFrame(card, i));
        assertThat("frame " + i + " luma PSNR", psnr(decoded, expected, 0), greaterThan(30.0));
        if (i > 0) {
          // The footer moves: the picture is this frame's, not the one before.
          Picture before = yuv(PreviewEncoder.renderFrame(card, i - 1));
          assertThat(
              "frame " + i + " is closer to itself than to frame " + (i - 1),
              mse(decoded, expected, 0),
              lessThan(mse(decoded, before, 0)));
        }
      }
    }
  }

  @Test
  void picturesThatChangeAnywhereRoundTrip() throws IOException {
    // Random blocks change anywhere (also in the "static" rows, and at the picture's edges).
    int w = 96;
    int h = 72;
    Random random = new Random(7);
    PartialFrameEncoder encoder = new PartialFrameEncoder(w, h, 5, 2);
    List<Picture> sources = new ArrayList<>();
    Picture current = Picture.create(w, h, ColorSpace.YUV420J);
    fillRandomly(current, random, 0, 0, w, h);
    List<ByteBuffer> units = new ArrayList<>();
    List<Boolean> keys = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      // Frame 7 is unchanged: one slice of skipped macroblocks.
      if (i > 0 && i != 7) {
        int bw = 8 + random.nextInt(30);
        int bh = 8 + random.nextInt(30);
        fillRandomly(current, random, random.nextInt(w - 8), random.nextInt(h - 8), bw, bh);
      }
      Picture copy = Picture.create(w, h, ColorSpace.YUV420J);
      copy.copyFrom(current);
      sources.add(copy);
      ByteBuffer out = ByteBuffer.allocate(1 << 20);
      keys.add(encoder.encode(copy, out));
      out.flip();
      units.add(out);
    }
    assertThat(keys.get(0), is(true));
    assertThat(keys.get(5), is(true));
    assertThat(keys.get(10), is(true));
    assertThat(keys.get(1), is(false));

    org.jcodec.codecs.h264.H264Decoder decoder = new org.jcodec.codecs.h264.H264Decoder();
    byte[][] buffer = Picture.create(w + 32, h + 32, ColorSpace.YUV420J).getData();
    for (int i = 0; i < units.size(); i++) {
      Picture decoded = decoder.decodeFrame(units.get(i).duplicate(), buffer);
      assertThat("frame " + i + " luma PSNR", psnr(decoded, sources.get(i), 0), greaterThan(28.0));
      assertThat(
          "frame " + i + " chroma PSNR", psnr(decoded, sources.get(i), 1), greaterThan(28.0));
    }
  }

  @Test
  void ffmpegDecodesTheSamePixelsAsJCodec() throws Exception {
    Assumptions.assumeTrue(ffmpegAvailable(), "ffmpeg is not installed");
    PreviewCard card = PreviewCard.of("Bit-exact decoding.", 0, 1, "job-ff", 2.5);
    Path clip = dir.resolve("ff.mp4");
    PreviewEncoder.encode(clip, card);
    Path raw = dir.resolve("ff.yuv");
    Path log = dir.resolve("ff.log");
    Process p =
        new ProcessBuilder(
                "ffmpeg",
                "-nostdin",
                "-v",
                "error",
                "-i",
                clip.toString(),
                "-f",
                "rawvideo",
                "-pix_fmt",
                "yuv420p",
                "-y",
                raw.toString())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS), is(true));
    String errors = Files.readString(log, StandardCharsets.UTF_8);
    assertThat("ffmpeg: " + errors, p.exitValue(), is(0));
    assertThat("ffmpeg reports no errors: " + errors, errors.isBlank(), is(true));
    byte[] all = Files.readAllBytes(raw);
    int frameBytes = 640 * 360 * 3 / 2;
    assertThat(all.length, is(frameBytes * card.frameCount()));
    try (FileChannel ch = FileChannel.open(clip, StandardOpenOption.READ)) {
      VideoFrames frames = VideoFrames.of(ch);
      for (int i = 0; i < card.frameCount(); i++) {
        byte[] ours = packed(frames.decode(i), 640, 360);
        byte[] theirs = Arrays.copyOfRange(all, i * frameBytes, (i + 1) * frameBytes);
        int diff = 0;
        int max = 0;
        int first = -1;
        for (int k = 0; k < ours.length; k++) {
          int d = Math.abs((ours[k] & 0xFF) - (theirs[k] & 0xFF));
          if (d != 0) {
            diff++;
            if (first < 0) first = k;
          }
          max = Math.max(max, d);
        }
        assertThat(
            "frame "
                + i
                + " identical in ffmpeg and JCodec: "
                + diff
                + " differ, max "
                + max
                + " first "
                + first,
            Arrays.equals(ours, theirs),
            is(true));
      }
    }
  }

  private static boolean ffmpegAvailable() {
    try {
      Process p =
          new ProcessBuilder("ffmpeg", "-version")
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  private static byte[] packed(Picture pic, int w, int h) {
    byte[] out = new byte[w * h * 3 / 2];
    int pos = 0;
    for (int plane = 0; plane < 3; plane++) {
      int pw = plane == 0 ? w : w / 2;
      int ph = plane == 0 ? h : h / 2;
      int stride = pic.getPlaneWidth(plane);
      byte[] data = pic.getPlaneData(plane);
      for (int y = 0; y < ph; y++) {
        for (int x = 0; x < pw; x++) {
          out[pos++] = (byte) (data[y * stride + x] + 128);
        }
      }
    }
    return out;
  }

  private static void fillRandomly(Picture pic, Random random, int x0, int y0, int bw, int bh) {
    int base = random.nextInt(200) - 100;
    for (int plane = 0; plane < 3; plane++) {
      int shift = plane == 0 ? 0 : 1;
      int stride = pic.getPlaneWidth(plane);
      int ph = pic.getPlaneHeight(plane);
      byte[] data = pic.getPlaneData(plane);
      for (int y = y0 >> shift; y < Math.min(ph, (y0 + bh) >> shift); y++) {
        for (int x = x0 >> shift; x < Math.min(stride, (x0 + bw) >> shift); x++) {
          // Smooth gradients with a little noise: something an encoder at QP ~20 keeps well.
          data[y * stride + x] =
              (byte) Math.max(-128, Math.min(127, base + x + y + random.nextInt(5)));
        }
      }
    }
  }

  private static Picture yuv(BufferedImage image) {
    Picture out = Picture.create(image.getWidth(), image.getHeight(), ColorSpace.YUV420J);
    ColorUtil.getTransform(ColorSpace.RGB, ColorSpace.YUV420J)
        .transform(AWTUtil.fromBufferedImageRGB(image), out);
    return out;
  }

  private static double mse(Picture a, Picture b, int plane) {
    int shift = plane == 0 ? 0 : 1;
    int w = b.getWidth() >> shift;
    int h = b.getHeight() >> shift;
    int sa = a.getPlaneWidth(plane);
    int sb = b.getPlaneWidth(plane);
    double sum = 0;
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int d = a.getPlaneData(plane)[y * sa + x] - b.getPlaneData(plane)[y * sb + x];
        sum += d * d;
      }
    }
    return sum / (w * h);
  }

  private static double psnr(Picture a, Picture b, int plane) {
    double mse = mse(a, b, plane);
    return mse == 0 ? 99 : 10 * Math.log10(255.0 * 255.0 / mse);
  }
}
