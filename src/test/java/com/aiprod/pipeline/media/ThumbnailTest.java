package com.aiprod.pipeline.media;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.lessThanOrEqualTo;

import java.awt.Color;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.Image;
import java.awt.image.BufferedImage;
import org.jcodec.common.model.ColorSpace;
import org.jcodec.common.model.Picture;
import org.jcodec.common.model.Rect;
import org.jcodec.scale.AWTUtil;
import org.junit.jupiter.api.Test;

class ThumbnailTest {
  /** Four flat quadrants and a gradient band: colours a wrong conversion or box would change. */
  private static BufferedImage card(int w, int h) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
    Graphics2D g = img.createGraphics();
    g.setColor(new Color(200, 30, 40));
    g.fillRect(0, 0, w / 2, h / 2);
    g.setColor(new Color(20, 160, 60));
    g.fillRect(w / 2, 0, w - w / 2, h / 2);
    g.setColor(new Color(30, 60, 210));
    g.fillRect(0, h / 2, w / 2, h - h / 2);
    g.setColor(new Color(240, 220, 90));
    g.fillRect(w / 2, h / 2, w - w / 2, h - h / 2);
    g.setPaint(new GradientPaint(0, 0, Color.BLACK, w, 0, Color.WHITE));
    g.fillRect(0, h * 3 / 8, w, h / 4);
    g.dispose();
    return img;
  }

  /** The reference: JCodec's RGB conversion of the whole frame, area-averaged by Java 2D. */
  private static BufferedImage reference(Picture p, int w, int h) {
    BufferedImage rgb = AWTUtil.toBufferedImage(p);
    BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    out.getGraphics()
        .drawImage(rgb.getScaledInstance(w, h, Image.SCALE_AREA_AVERAGING), 0, 0, null);
    return out;
  }

  private static int worstChannelDifference(BufferedImage a, BufferedImage b) {
    int worst = 0;
    for (int y = 0; y < a.getHeight(); y++) {
      for (int x = 0; x < a.getWidth(); x++) {
        int pa = a.getRGB(x, y);
        int pb = b.getRGB(x, y);
        for (int shift = 0; shift <= 16; shift += 8) {
          worst = Math.max(worst, Math.abs(((pa >> shift) & 0xFF) - ((pb >> shift) & 0xFF)));
        }
      }
    }
    return worst;
  }

  /** The largest channel difference of {@code a} and {@code b} in one rectangle. */
  private static int worstIn(BufferedImage a, BufferedImage b, int x, int y, int w, int h) {
    return worstChannelDifference(a.getSubimage(x, y, w, h), b.getSubimage(x, y, w, h));
  }

  @Test
  void fullRangeFrameScaledDownMatchesJcodecsConversionAreaAveraged() {
    Picture frame = AWTUtil.fromBufferedImage(card(640, 360), ColorSpace.YUV420J);
    BufferedImage thumb = Thumbnail.of(frame, 132, 74);
    // 640×360 into 132×74 keeps 16:9: 132×74 (74.25 rounded).
    assertThat(thumb.getWidth(), equalTo(132));
    assertThat(thumb.getHeight(), equalTo(74));
    // Box edges fall at slightly different source pixels than Java 2D's; flat areas agree exactly
    // up to rounding, edges within a few levels.
    BufferedImage ref = reference(frame, 132, 74);
    assertThat(worstChannelDifference(thumb, ref), lessThanOrEqualTo(48));
    assertThat("flat red quadrant", worstIn(thumb, ref, 5, 5, 40, 15), lessThanOrEqualTo(3));
    assertThat("gradient band", worstIn(thumb, ref, 2, 32, 128, 8), lessThanOrEqualTo(4));
    assertThat("flat yellow quadrant", worstIn(thumb, ref, 80, 50, 40, 20), lessThanOrEqualTo(3));
  }

  @Test
  void studioRangeFrameIsExpandedToFullRange() {
    Picture frame = AWTUtil.fromBufferedImage(card(320, 180), ColorSpace.YUV420);
    BufferedImage thumb = Thumbnail.of(frame, 64, 36);
    BufferedImage ref = reference(frame, 64, 36);
    assertThat(worstIn(thumb, ref, 2, 2, 26, 8), lessThanOrEqualTo(4));
    assertThat(worstIn(thumb, ref, 36, 28, 26, 6), lessThanOrEqualTo(4));
  }

  @Test
  void keepsTheAspectAndNeverEnlarges() {
    Picture frame = AWTUtil.fromBufferedImage(card(640, 360), ColorSpace.YUV420J);
    BufferedImage tall = Thumbnail.of(frame, 100, 100);
    assertThat(tall.getWidth(), equalTo(100));
    assertThat(tall.getHeight(), equalTo(56));
    BufferedImage same = Thumbnail.of(frame, 2000, 2000);
    assertThat(same.getWidth(), equalTo(640));
    assertThat(same.getHeight(), equalTo(360));
    assertThat(worstChannelDifference(same, AWTUtil.toBufferedImage(frame)), lessThanOrEqualTo(2));
  }

  @Test
  void onlyTheVisibleAreaOfACroppedFrameIsShown() {
    // H.264 codes 360 lines as 368 (whole macroblocks) and crops; the 8 coded lines below the
    // visible area are magenta here and must not bleed into the bottom row.
    BufferedImage coded = new BufferedImage(640, 368, BufferedImage.TYPE_3BYTE_BGR);
    Graphics2D g = coded.createGraphics();
    g.drawImage(card(640, 360), 0, 0, null);
    g.setColor(Color.MAGENTA);
    g.fillRect(0, 360, 640, 8);
    g.dispose();
    Picture frame = AWTUtil.fromBufferedImage(coded, ColorSpace.YUV420J);
    frame.setCrop(new Rect(0, 0, 640, 360));
    BufferedImage thumb = Thumbnail.of(frame, 64, 36);
    assertThat(thumb.getHeight(), equalTo(36));
    BufferedImage ref = reference(frame.cropped(), 64, 36);
    assertThat(worstIn(thumb, ref, 0, 33, 64, 3), lessThanOrEqualTo(4));
  }

  @Test
  void anRgbFrameGoesThroughJcodecsConversion() {
    Picture frame = AWTUtil.fromBufferedImage(card(160, 90), ColorSpace.RGB);
    BufferedImage thumb = Thumbnail.of(frame, 80, 45);
    assertThat(thumb.getWidth(), equalTo(80));
    assertThat(worstIn(thumb, reference(frame, 80, 45), 2, 2, 30, 10), lessThanOrEqualTo(3));
  }
}
