package com.aiprod.pipeline.media;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThanOrEqualTo;

import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;
import org.jcodec.scale.AWTUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Contact sheets read back from their PNG bytes. Label text is checked by pixels: the label area of
 * the PNG must equal, pixel for pixel, the same label lines drawn by {@link ContactSheet#drawLabel}
 * into an empty image (same JVM, same fonts), and must differ from a label with another backend or
 * attempt. That proves which text was drawn, not that it is legible (no OCR here).
 */
class ContactSheetTest {
  @TempDir Path dir;

  private static final ContactSheet.Header HEADER =
      new ContactSheet.Header(
          "job-7f3a9c21", "acme", "quick_social", "DELIVERED", null, 1.25, 0.875);

  private Path clip(String prompt, int index, int count) throws Exception {
    Path out = dir.resolve("shot-" + index + ".mp4");
    PreviewEncoder.encode(out, PreviewCard.of(prompt, index, count, "job-7f3a9c21", 2.5));
    return out;
  }

  private static BufferedImage read(byte[] png) throws Exception {
    assertThat("PNG signature", png[1] == 'P' && png[2] == 'N' && png[3] == 'G', is(true));
    return ImageIO.read(new ByteArrayInputStream(png));
  }

  @Test
  void sheetOfKnownShotsHasTheLayoutsSizeOneFramePerShotAndTheirLabels() throws Exception {
    List<ContactSheet.Shot> shots = new ArrayList<>();
    String[] prompts = {"A red sunrise", "A blue ocean", "A green forest", "A gold desert"};
    for (int i = 0; i < prompts.length; i++) {
      shots.add(
          new ContactSheet.Shot(
              i, 2.5, i == 2 ? "veo" : "preview", i + 1, clip(prompts[i], i, 4).toString()));
    }
    BufferedImage sheet = read(ContactSheet.png(HEADER, shots));

    ContactSheet.Layout layout = ContactSheet.Layout.of(4, 1);
    assertThat(sheet.getWidth(), equalTo(layout.width()));
    assertThat(sheet.getHeight(), equalTo(layout.height()));
    assertThat(layout.columns() * layout.rows(), greaterThan(4));
    // Every tile shows its shot's middle frame: the tile's mean colour is the frame's.
    for (int i = 0; i < shots.size(); i++) {
      // The reference: JCodec's own RGB conversion of the frame, scaled by Java 2D.
      BufferedImage frame =
          AWTUtil.toBufferedImage(ContactSheet.middleFrame(Path.of(shots.get(i).uri())).cropped());
      Rectangle f = layout.frame(i);
      double[] expected =
          mean(scaled(frame, f.width, f.height), new Rectangle(0, 0, f.width, f.height));
      double[] actual = mean(sheet, f);
      for (int c = 0; c < 3; c++) {
        assertThat("tile " + i + " channel " + c, actual[c], closeTo(expected[c], 6));
      }
      assertThat("tile " + i + " is not a placeholder", isPlaceholder(sheet, f), is(false));
      assertThat(
          "label " + i,
          labelMatches(sheet, layout.label(i), ContactSheet.labelLines(shots.get(i), 4)),
          is(true));
    }
    // The labels say what rendered each shot: another backend or attempt is other pixels.
    assertThat(
        labelMatches(
            sheet,
            layout.label(2),
            ContactSheet.labelLines(new ContactSheet.Shot(2, 2.5, "preview", 3, null), 4)),
        is(false));
    assertThat(
        labelMatches(
            sheet,
            layout.label(1),
            ContactSheet.labelLines(new ContactSheet.Shot(1, 2.5, "preview", 1, null), 4)),
        is(false));
    assertThat(
        ContactSheet.labelLines(shots.get(2), 4),
        equalTo(new String[] {"Shot 3/4 \u00b7 2.5 s", "veo \u00b7 attempt 3"}));
    // Exactly four tiles: the grid's remaining slots are empty background.
    for (int i = 4; i < layout.columns() * layout.rows(); i++) {
      double[] m = mean(sheet, layout.frame(i));
      assertThat("slot " + i + " empty", m[0], closeTo(ContactSheet.BACKGROUND.getRed(), 0.01));
    }
    // The header: state colour bar, and its text lines as drawn.
    assertThat(
        sheet.getRGB(2, 10) & 0xFFFFFF,
        equalTo(ContactSheet.stateColor("DELIVERED").getRGB() & 0xFFFFFF));
    assertThat(
        ContactSheet.headerLines(HEADER, 4, 4),
        equalTo(
            new String[] {
              "Job job-7f3a9c21  \u2014  DELIVERED",
              "tenant acme \u00b7 preset quick_social \u00b7 charged $1.25 \u00b7 provider cost"
                  + " $0.88 \u00b7 4/4 shots shown"
            }));
  }

  @Test
  void missingAndUndecodableShotsGetPlaceholderTiles() throws Exception {
    Path broken = dir.resolve("broken.mp4");
    Files.write(broken, new byte[] {0, 0, 0, 8, 'f', 't', 'y', 'p', 1, 2, 3});
    List<ContactSheet.Shot> shots =
        List.of(
            new ContactSheet.Shot(0, 2.5, "preview", 1, clip("A red sunrise", 0, 3).toString()),
            new ContactSheet.Shot(1, 2.5, null, 0, null),
            new ContactSheet.Shot(2, 2.5, "preview", 2, broken.toString()));
    ContactSheet.Header failed =
        new ContactSheet.Header("job-1", "acme", "quick_social", "FAILED", "DEADLINE", 0, 0.5);
    BufferedImage sheet = read(ContactSheet.png(failed, shots));
    ContactSheet.Layout layout = ContactSheet.Layout.of(3, 1);

    assertThat(isPlaceholder(sheet, layout.frame(0)), is(false));
    assertThat(isPlaceholder(sheet, layout.frame(1)), is(true));
    assertThat(isPlaceholder(sheet, layout.frame(2)), is(true));
    assertThat(
        labelMatches(
            sheet, layout.label(1), new String[] {"Shot 2/3 \u00b7 2.5 s", "not rendered"}),
        is(true));
    assertThat(
        labelMatches(sheet, layout.label(2), ContactSheet.labelLines(shots.get(2), 3)), is(true));
    assertThat(ContactSheet.tile(shots.get(1), 96, 54).problem(), equalTo("not rendered"));
    assertThat(ContactSheet.tile(shots.get(2), 96, 54).problem(), equalTo("could not be decoded"));
    assertThat(
        sheet.getRGB(2, 10) & 0xFFFFFF,
        equalTo(ContactSheet.stateColor("FAILED").getRGB() & 0xFFFFFF));
    assertThat(
        ContactSheet.headerLines(failed, 1, 3)[1].endsWith("1/3 shots shown \u00b7 DEADLINE"),
        is(true));
  }

  @Test
  void sixtyNoiseFramesStayUnderTheSizeBound() throws Exception {
    // Noise does not compress: the worst case for the PNG size. The pixel budget alone keeps 60.
    ContactSheet.Layout layout = ContactSheet.Layout.of(60, 1);
    byte[] png = ContactSheet.bounded(HEADER, shots(60), noise(60, 640, 360));
    assertThat(png.length, lessThanOrEqualTo(ContactSheet.MAX_BYTES));
    assertThat(read(png).getWidth(), equalTo(layout.width()));
  }

  @Test
  void aSheetOverTheSizeBoundIsDrawnAgainWithSmallerTiles() throws Exception {
    // 200 shots at the smallest tile width hold more noise than the bound: tiles half as wide.
    ContactSheet.Layout full = ContactSheet.Layout.of(200, 1);
    List<ContactSheet.Tile> tiles = noise(200, full.tileWidth(), full.tileHeight());
    byte[] first = ContactSheet.encode(ContactSheet.draw(HEADER, shots(200), tiles, full));
    byte[] bounded = ContactSheet.bounded(HEADER, shots(200), tiles);
    assertThat("noise at full tile size", first.length, greaterThan(ContactSheet.MAX_BYTES));
    assertThat(bounded.length, lessThanOrEqualTo(ContactSheet.MAX_BYTES));
    assertThat(read(bounded).getHeight(), equalTo(ContactSheet.Layout.of(200, 0.5).height()));
  }

  private static List<ContactSheet.Shot> shots(int n) {
    List<ContactSheet.Shot> shots = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      shots.add(new ContactSheet.Shot(i, 8, "veo", 1, "unused"));
    }
    return shots;
  }

  private static List<ContactSheet.Tile> noise(int n, int w, int h) {
    Random random = new Random(7);
    List<ContactSheet.Tile> tiles = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      BufferedImage noise = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          noise.setRGB(x, y, random.nextInt(0x1000000));
        }
      }
      tiles.add(new ContactSheet.Tile(noise, null));
    }
    return tiles;
  }

  private static BufferedImage scaled(BufferedImage src, int w, int h) {
    BufferedImage dst = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = dst.createGraphics();
    ContactSheet.hints(g);
    g.drawImage(src, 0, 0, w, h, null);
    g.dispose();
    return dst;
  }

  private static double[] mean(BufferedImage img, Rectangle r) {
    double[] sum = new double[3];
    for (int y = r.y; y < r.y + r.height; y++) {
      for (int x = r.x; x < r.x + r.width; x++) {
        int rgb = img.getRGB(x, y);
        sum[0] += (rgb >> 16) & 0xFF;
        sum[1] += (rgb >> 8) & 0xFF;
        sum[2] += rgb & 0xFF;
      }
    }
    double n = (double) r.width * r.height;
    return new double[] {sum[0] / n, sum[1] / n, sum[2] / n};
  }

  /** Most of the tile is the placeholder's two colours. */
  private static boolean isPlaceholder(BufferedImage img, Rectangle r) {
    int hits = 0;
    int fill = ContactSheet.PLACEHOLDER.getRGB() & 0xFFFFFF;
    int hatch = ContactSheet.PLACEHOLDER_HATCH.getRGB() & 0xFFFFFF;
    for (int y = r.y; y < r.y + r.height; y++) {
      for (int x = r.x; x < r.x + r.width; x++) {
        int rgb = img.getRGB(x, y) & 0xFFFFFF;
        if (rgb == fill || rgb == hatch) {
          hits++;
        }
      }
    }
    return hits > r.width * r.height / 2;
  }

  /** The label area equals {@code lines} drawn by the sheet's own label code. */
  private static boolean labelMatches(BufferedImage sheet, Rectangle box, String[] lines) {
    BufferedImage expected = new BufferedImage(box.width, box.height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = expected.createGraphics();
    ContactSheet.hints(g);
    ContactSheet.drawLabel(g, new Rectangle(0, 0, box.width, box.height), lines);
    g.dispose();
    int textPixels = 0;
    for (int y = 0; y < box.height; y++) {
      for (int x = 0; x < box.width; x++) {
        int e = expected.getRGB(x, y);
        if (e != ContactSheet.BACKGROUND.getRGB()) {
          textPixels++;
        }
        if (sheet.getRGB(box.x + x, box.y + y) != e) {
          return false;
        }
      }
    }
    return textPixels > 50;
  }
}
