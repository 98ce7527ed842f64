package com.aiprod.pipeline.media;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.endsWith;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.aiprod.pipeline.model.ShotSpec;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PreviewEncoderTest {
  private static final String LONG_PROMPT =
      "A lone lighthouse keeper climbs the spiral stairs at dusk while a storm gathers over a "
          + "slate-grey sea; warm tungsten light spills from the lamp room, gulls wheel below, and "
          + "the camera slowly cranes up past rain-streaked windows to reveal the beam sweeping "
          + "across the waves. Style: painterly, muted teal and amber palette, melancholic mood, "
          + "low-key lighting. Character: weathered keeper in a yellow oilskin, grey beard.";

  @TempDir Path dir;

  @Test
  void encodesAnH264Mp4WithTheCardsSizeRateAndDuration() throws Exception {
    Path out = dir.resolve("shot-1.mp4");
    PreviewEncoder.encode(out, PreviewCard.of(LONG_PROMPT, 1, 5, "job-7f3a9c21", 2.5));

    VideoInfo info = Mp4Inspector.inspect(out);
    assertThat(info.getCodec(), is("avc1"));
    assertThat(info.isH264(), is(true));
    assertThat(info.getWidth(), is(640));
    assertThat(info.getHeight(), is(360));
    assertThat(info.getFps(), closeTo(12.0, 0.01));
    assertThat(info.getDurationSec(), closeTo(2.5, 1e-9));
    assertThat(info.getFrameCount(), is(30));
    // Written under a temporary name and moved into place: nothing else is left behind.
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files.collect(Collectors.toList()), equalTo(List.of(out)));
    }
  }

  @Test
  void frameCountIsDurationTimesFpsRounded() throws Exception {
    Path out = dir.resolve("odd.mp4");
    PreviewCard card =
        PreviewCard.builder()
            .setTitle("short")
            .setShotIndex(0)
            .setShotCount(1)
            .setJobId("j")
            .setDurationSec(1.3)
            .setWidth(320)
            .setHeight(180)
            .setFps(10)
            .build();
    PreviewEncoder.encode(out, card);

    VideoInfo info = Mp4Inspector.inspect(out);
    assertThat(card.frameCount(), is(13));
    assertThat(info.getFrameCount(), is(13));
    assertThat(info.getDurationSec(), closeTo(1.3, 1e-9));
    assertThat(info.getWidth(), is(320));
    assertThat(info.getHeight(), is(180));
    assertThat(info.getFps(), closeTo(10.0, 1e-9));
  }

  @Test
  void replacesAnExistingFile() throws Exception {
    Path out = dir.resolve("again.mp4");
    Files.writeString(out, "stale");
    PreviewEncoder.encode(out, PreviewCard.of("again", 0, 1, "j", 0.5));
    assertThat(Mp4Inspector.inspect(out).getFrameCount(), is(6));
  }

  @Test
  void framesDifferAndTheBackgroundDependsOnTheJob() {
    PreviewCard card = PreviewCard.of(LONG_PROMPT, 0, 3, "job-a", 2.0);
    byte[] first = pixels(PreviewEncoder.renderFrame(card, 0));
    byte[] last = pixels(PreviewEncoder.renderFrame(card, card.frameCount() - 1));
    byte[] otherJob =
        pixels(PreviewEncoder.renderFrame(PreviewCard.of(LONG_PROMPT, 0, 3, "job-b", 2.0), 0));
    assertThat(Arrays.equals(first, last), is(false));
    assertThat(Arrays.equals(first, otherJob), is(false));
  }

  @Test
  void wrapsLongPromptsToAtMostSixLinesWithAnEllipsis() {
    BufferedImage image = new BufferedImage(10, 10, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    FontMetrics metrics = g.getFontMetrics(new Font(Font.SANS_SERIF, Font.PLAIN, 21));
    g.dispose();
    int maxWidth = 592;

    List<String> lines = PreviewEncoder.wrap(LONG_PROMPT + " " + LONG_PROMPT, metrics, maxWidth, 6);
    assertThat(lines, hasSize(6));
    assertThat(lines.get(5), endsWith("\u2026"));
    assertThat(
        lines.stream().map(metrics::stringWidth).collect(Collectors.toList()),
        everyItem(lessThanOrEqualTo(maxWidth)));

    assertThat(
        PreviewEncoder.wrap("  two   words ", metrics, maxWidth, 6), equalTo(List.of("two words")));
    List<String> broken = PreviewEncoder.wrap("x".repeat(300), metrics, maxWidth, 6);
    assertThat(broken.size(), lessThanOrEqualTo(6));
    assertThat(broken.get(0), not(endsWith("\u2026")));
    assertThat(PreviewEncoder.wrap("", metrics, maxWidth, 6), hasSize(0));
  }

  @Test
  void cardDefaultsAndValidation() {
    PreviewCard card = PreviewCard.forShot(ShotSpec.create(2, 4.0, "p", 7L), 5, "job");
    assertThat(card.width(), is(640));
    assertThat(card.height(), is(360));
    assertThat(card.fps(), is(12));
    assertThat(card.shotIndex(), is(2));
    assertThat(card.frameCount(), is(48));
    assertThrows(IllegalArgumentException.class, () -> PreviewCard.of("p", 0, 1, "j", 0));
    assertThrows(IllegalArgumentException.class, () -> PreviewCard.of("p", 3, 3, "j", 1));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            PreviewCard.builder()
                .setTitle("p")
                .setShotIndex(0)
                .setShotCount(1)
                .setJobId("j")
                .setDurationSec(1)
                .setWidth(641)
                .build());
  }

  @Test
  void bgrToYuvConvertsLikeJCodec() {
    BufferedImage image = new BufferedImage(64, 20, BufferedImage.TYPE_3BYTE_BGR);
    new java.util.Random(3).nextBytes(pixels(image));
    org.jcodec.common.model.Picture expected =
        org.jcodec.common.model.Picture.create(64, 20, org.jcodec.common.model.ColorSpace.YUV420J);
    org.jcodec.scale.ColorUtil.getTransform(
            org.jcodec.common.model.ColorSpace.RGB, org.jcodec.common.model.ColorSpace.YUV420J)
        .transform(org.jcodec.scale.AWTUtil.fromBufferedImageRGB(image), expected);
    // Into rows 10..29 of a taller picture: rows above stay as they were.
    org.jcodec.common.model.Picture frame =
        org.jcodec.common.model.Picture.create(64, 30, org.jcodec.common.model.ColorSpace.YUV420J);
    PreviewEncoder.bgrToYuv(pixels(image), frame, 10);
    for (int plane = 0; plane < 3; plane++) {
      int stride = frame.getPlaneWidth(plane);
      int top = plane == 0 ? 10 : 5;
      byte[] data = frame.getPlaneData(plane);
      byte[] want = expected.getPlaneData(plane);
      assertThat(
          Arrays.equals(Arrays.copyOfRange(data, top * stride, top * stride + want.length), want),
          is(true));
      assertThat(
          Arrays.equals(Arrays.copyOf(data, top * stride), new byte[top * stride]), is(true));
    }
  }

  @Test
  void bgrToYuvOfChangedPiecesGivesTheFullConversion() {
    java.util.Random random = new java.util.Random(5);
    BufferedImage image = new BufferedImage(72, 20, BufferedImage.TYPE_3BYTE_BGR);
    byte[] bgr = pixels(image);
    random.nextBytes(bgr);
    org.jcodec.common.model.Picture frame =
        org.jcodec.common.model.Picture.create(72, 20, org.jcodec.common.model.ColorSpace.YUV420J);
    PreviewEncoder.bgrToYuv(bgr, null, frame, 0);
    for (int round = 0; round < 20; round++) {
      byte[] last = bgr.clone();
      // A few bytes change anywhere, also in the narrow last column piece (pixels 64..71).
      for (int k = 0; k < 5; k++) {
        bgr[random.nextInt(bgr.length)] = (byte) random.nextInt();
      }
      PreviewEncoder.bgrToYuv(bgr, last, frame, 0);
      org.jcodec.common.model.Picture full =
          org.jcodec.common.model.Picture.create(
              72, 20, org.jcodec.common.model.ColorSpace.YUV420J);
      PreviewEncoder.bgrToYuv(bgr, full, 0);
      for (int plane = 0; plane < 3; plane++) {
        assertThat(
            "round " + round + " plane " + plane,
            Arrays.equals(frame.getPlaneData(plane), full.getPlaneData(plane)),
            is(true));
      }
    }
  }

  private static byte[] pixels(BufferedImage image) {
    return ((DataBufferByte) image.getRaster().getDataBuffer()).getData();
  }
}
