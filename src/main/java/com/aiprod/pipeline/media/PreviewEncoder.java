package com.aiprod.pipeline.media;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Ellipse2D;
import java.awt.geom.RoundRectangle2D;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.zip.CRC32;
import org.jcodec.common.Codec;
import org.jcodec.common.MuxerTrack;
import org.jcodec.common.VideoCodecMeta;
import org.jcodec.common.io.FileChannelWrapper;
import org.jcodec.common.io.NIOUtils;
import org.jcodec.common.model.ColorSpace;
import org.jcodec.common.model.Packet;
import org.jcodec.common.model.Picture;
import org.jcodec.common.model.Size;
import org.jcodec.containers.mp4.Brand;
import org.jcodec.containers.mp4.muxer.MP4Muxer;

/**
 * Renders the preview backend's shot: a real H.264 MP4 "animatic" title card (DESIGN §6), in pure
 * Java (Java2D + JCodec), so Dataflow workers need no native binary.
 *
 * <p>Each frame shows a background derived from the job id, the shot label ("Shot 2/5"), the shot
 * prompt wrapped to at most {@value #MAX_PROMPT_LINES} lines (ellipsized), and a footer with a
 * progress bar, a moving playhead and a timecode, so consecutive frames differ.
 *
 * <p>Speed: everything but the footer strip is drawn and converted to YUV once per clip; per frame
 * only the footer strip (about an eighth of the picture) is redrawn and converted, and {@link
 * PartialFrameEncoder} codes only the macroblocks that changed since the frame before (the rest are
 * skipped) and reuses the coded static part of the picture in every key frame. The file has exactly
 * {@link PreviewCard#frameCount()} samples, each lasting {@code 1/fps} s in a media timescale of
 * {@code fps}.
 */
public final class PreviewEncoder {
  /** Most lines of prompt text drawn on the card; the last one ends with an ellipsis if cut. */
  public static final int MAX_PROMPT_LINES = 6;

  private static final String ELLIPSIS = "\u2026";

  private PreviewEncoder() {}

  /**
   * Encodes the card to {@code out} as an H.264 MP4. The file is written next to {@code out} under
   * a temporary name and moved into place, so readers never see a partial file.
   *
   * @throws IOException if the file cannot be written
   */
  public static void encode(Path out, PreviewCard card) throws IOException {
    Path absolute = out.toAbsolutePath();
    Path dir = absolute.getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, "." + absolute.getFileName() + ".", ".tmp");
    try {
      writeMp4(tmp, card);
      moveIntoPlace(tmp, absolute);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private static void writeMp4(Path file, PreviewCard card) throws IOException {
    Layout layout = new Layout(card);
    int w = card.width();
    int h = card.height();
    int frames = card.frameCount();

    BufferedImage background = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
    Graphics2D g = background.createGraphics();
    try {
      drawBackground(g, card, layout);
    } finally {
      g.dispose();
    }
    Picture frame = Picture.create(w, h, ColorSpace.YUV420J);
    bgrToYuv(((DataBufferByte) background.getRaster().getDataBuffer()).getData(), frame, 0);

    BufferedImage stripBackground =
        copyOf(background.getSubimage(0, layout.stripTop, w, layout.stripHeight));
    BufferedImage strip = new BufferedImage(w, layout.stripHeight, BufferedImage.TYPE_3BYTE_BGR);
    byte[] stripPixels = ((DataBufferByte) stripBackground.getRaster().getDataBuffer()).getData();
    byte[] stripData = ((DataBufferByte) strip.getRaster().getDataBuffer()).getData();
    byte[] stripLast = new byte[stripData.length];
    PartialFrameEncoder encoder =
        new PartialFrameEncoder(w, h, 2 * card.fps(), layout.stripTop / 16);
    ByteBuffer buffer = ByteBuffer.allocate(Math.max(1 << 16, 2 * w * h + 1024));

    try (FileChannelWrapper channel = NIOUtils.writableChannel(file.toFile())) {
      MP4Muxer muxer = MP4Muxer.createMP4Muxer(channel, Brand.MP4);
      MuxerTrack track =
          muxer.addVideoTrack(
              Codec.H264,
              VideoCodecMeta.createSimpleVideoCodecMeta(new Size(w, h), ColorSpace.YUV420J));
      for (int i = 0; i < frames; i++) {
        System.arraycopy(stripPixels, 0, stripData, 0, stripData.length);
        Graphics2D sg = strip.createGraphics();
        try {
          drawFooter(sg, card, layout, i, 0);
        } finally {
          sg.dispose();
        }
        // Rows above the strip never change: only the strip is converted, into its place.
        bgrToYuv(stripData, i == 0 ? null : stripLast, frame, layout.stripTop);
        System.arraycopy(stripData, 0, stripLast, 0, stripData.length);

        buffer.clear();
        boolean key = encoder.encode(frame, buffer);
        buffer.flip();
        track.addFrame(
            Packet.createPacket(
                buffer,
                i,
                card.fps(),
                1,
                i,
                key ? Packet.FrameType.KEY : Packet.FrameType.INTER,
                null));
      }
      muxer.finish();
    }
  }

  /**
   * Draws frame {@code frameIndex} of the card as an image, exactly as it is encoded (the encoder
   * draws the same background and footer, only in two parts).
   */
  public static BufferedImage renderFrame(PreviewCard card, int frameIndex) {
    Layout layout = new Layout(card);
    BufferedImage image =
        new BufferedImage(card.width(), card.height(), BufferedImage.TYPE_3BYTE_BGR);
    Graphics2D g = image.createGraphics();
    try {
      drawBackground(g, card, layout);
      drawFooter(g, card, layout, frameIndex, layout.stripTop);
    } finally {
      g.dispose();
    }
    return image;
  }

  /**
   * Wraps {@code text} into lines no wider than {@code maxWidth}, at most {@code maxLines}; a word
   * wider than a line is broken by characters, and if text remains the last line ends with an
   * ellipsis.
   */
  static List<String> wrap(String text, FontMetrics metrics, int maxWidth, int maxLines) {
    List<String> lines = new ArrayList<>();
    String normalized = text == null ? "" : text.strip().replaceAll("\\s+", " ");
    if (normalized.isEmpty()) {
      return lines;
    }
    String[] words = normalized.split(" ");
    StringBuilder line = new StringBuilder();
    int wordIndex = 0;
    boolean truncated = false;
    while (wordIndex < words.length) {
      String word = words[wordIndex];
      String candidate = line.length() == 0 ? word : line + " " + word;
      if (metrics.stringWidth(candidate) <= maxWidth) {
        line.setLength(0);
        line.append(candidate);
        wordIndex++;
        continue;
      }
      if (line.length() == 0) {
        // A single word wider than the line: break it by characters.
        int cut = fittingPrefix(word, metrics, maxWidth);
        line.append(word, 0, cut);
        words[wordIndex] = word.substring(cut);
      }
      if (lines.size() == maxLines - 1) {
        truncated = true;
        break;
      }
      lines.add(line.toString());
      line.setLength(0);
    }
    if (truncated) {
      String last = line.toString();
      while (!last.isEmpty() && metrics.stringWidth(last + ELLIPSIS) > maxWidth) {
        last = last.substring(0, last.length() - 1);
      }
      lines.add(last.stripTrailing() + ELLIPSIS);
    } else if (line.length() > 0) {
      lines.add(line.toString());
    }
    return lines;
  }

  private static int fittingPrefix(String word, FontMetrics metrics, int maxWidth) {
    int cut = 1;
    while (cut < word.length() && metrics.stringWidth(word.substring(0, cut + 1)) <= maxWidth) {
      cut++;
    }
    return cut;
  }

  private static void drawBackground(Graphics2D g, PreviewCard card, Layout layout) {
    int w = card.width();
    int h = card.height();
    applyHints(g);
    float hue = layout.hue;
    Color top = Color.getHSBColor(hue, 0.55f, 0.42f);
    Color bottom = Color.getHSBColor((hue + 0.12f) % 1f, 0.65f, 0.16f);
    g.setPaint(new GradientPaint(0, 0, top, w * 0.6f, h, bottom));
    g.fillRect(0, 0, w, h);

    // Two soft discs placed by the job id, so jobs look different at a glance.
    g.setColor(withAlpha(Color.getHSBColor((hue + 0.5f) % 1f, 0.4f, 0.9f), 28));
    double r1 = h * (0.45 + 0.25 * layout.unit(8));
    g.fill(
        new Ellipse2D.Double(w * layout.unit(16) - r1, h * layout.unit(24) - r1, 2 * r1, 2 * r1));
    g.setColor(withAlpha(Color.WHITE, 16));
    double r2 = h * (0.25 + 0.2 * layout.unit(32));
    g.fill(
        new Ellipse2D.Double(w * layout.unit(40) - r2, h * layout.unit(48) - r2, 2 * r2, 2 * r2));

    double s = layout.scale;
    int margin = layout.margin;

    // Shot label pill.
    Font labelFont = new Font(Font.SANS_SERIF, Font.BOLD, px(18, s));
    g.setFont(labelFont);
    FontMetrics lm = g.getFontMetrics();
    String label = String.format(Locale.ROOT, "Shot %d/%d", card.shotIndex() + 1, card.shotCount());
    int pillPad = px(10, s);
    int pillW = lm.stringWidth(label) + 2 * pillPad;
    int pillH = lm.getHeight() + px(6, s);
    int pillY = margin;
    g.setColor(withAlpha(Color.WHITE, 230));
    g.fill(new RoundRectangle2D.Double(margin, pillY, pillW, pillH, pillH, pillH));
    g.setColor(Color.getHSBColor(hue, 0.7f, 0.25f));
    g.drawString(label, margin + pillPad, pillY + (pillH - lm.getHeight()) / 2 + lm.getAscent());

    // Caption: what this is and which job.
    Font captionFont = new Font(Font.SANS_SERIF, Font.PLAIN, px(13, s));
    g.setFont(captionFont);
    FontMetrics cm = g.getFontMetrics();
    String caption = "ANIMATIC PREVIEW \u00b7 job " + ellipsize(card.jobId(), cm, w / 2);
    g.setColor(withAlpha(Color.WHITE, 190));
    g.drawString(
        caption,
        w - margin - cm.stringWidth(caption),
        pillY + (pillH - cm.getHeight()) / 2 + cm.getAscent());

    // Separator under the header.
    int lineY = pillY + pillH + px(12, s);
    g.setColor(withAlpha(Color.WHITE, 70));
    g.setStroke(new BasicStroke(Math.max(1f, (float) s)));
    g.drawLine(margin, lineY, w - margin, lineY);

    // The wrapped prompt.
    Font promptFont = new Font(Font.SANS_SERIF, Font.PLAIN, px(21, s));
    g.setFont(promptFont);
    FontMetrics pm = g.getFontMetrics();
    List<String> lines = wrap(card.title(), pm, w - 2 * margin, MAX_PROMPT_LINES);
    if (lines.isEmpty()) {
      lines = List.of("(no prompt)");
    }
    int lineHeight = pm.getHeight();
    int available = layout.stripTop - lineY - px(8, s);
    int textHeight = lines.size() * lineHeight;
    int y = lineY + Math.max(px(10, s), (available - textHeight) / 2) + pm.getAscent();
    for (String text : lines) {
      g.setColor(withAlpha(Color.BLACK, 90));
      g.drawString(text, margin + 1, y + 1);
      g.setColor(Color.WHITE);
      g.drawString(text, margin, y);
      y += lineHeight;
    }
  }

  /** Draws the per-frame footer with its top edge at {@code top} in the graphics' space. */
  private static void drawFooter(
      Graphics2D g, PreviewCard card, Layout layout, int frameIndex, int top) {
    applyHints(g);
    double s = layout.scale;
    int margin = layout.margin;
    int w = card.width();
    int frames = card.frameCount();
    double progress = frames <= 1 ? 1.0 : (double) frameIndex / (frames - 1);

    int barY = top + px(10, s);
    int barH = Math.max(2, px(6, s));
    int barW = w - 2 * margin;
    g.setColor(withAlpha(Color.WHITE, 60));
    g.fill(new RoundRectangle2D.Double(margin, barY, barW, barH, barH, barH));
    int fill = (int) Math.round(barW * progress);
    g.setColor(Color.getHSBColor((layout.hue + 0.5f) % 1f, 0.55f, 1f));
    g.fill(new RoundRectangle2D.Double(margin, barY, Math.max(barH, fill), barH, barH, barH));
    double dot = barH * 2.2;
    g.setColor(Color.WHITE);
    g.fill(new Ellipse2D.Double(margin + fill - dot / 2, barY + barH / 2.0 - dot / 2, dot, dot));

    g.setFont(new Font(Font.MONOSPACED, Font.PLAIN, px(13, s)));
    FontMetrics fm = g.getFontMetrics();
    double t = (double) frameIndex / card.fps();
    String time = timecode(t) + " / " + timecode(card.durationSec());
    String frameLabel =
        String.format(Locale.ROOT, "frame %d/%d @ %d fps", frameIndex + 1, frames, card.fps());
    int textY = barY + barH + px(8, s) + fm.getAscent();
    g.setColor(withAlpha(Color.WHITE, 220));
    g.drawString(time, margin, textY);
    g.setColor(withAlpha(Color.WHITE, 150));
    g.drawString(frameLabel, w - margin - fm.stringWidth(frameLabel), textY);
  }

  private static String timecode(double seconds) {
    long tenths = Math.round(seconds * 10);
    return String.format(Locale.ROOT, "%d:%02d.%d", tenths / 600, (tenths / 10) % 60, tenths % 10);
  }

  private static String ellipsize(String text, FontMetrics metrics, int maxWidth) {
    if (metrics.stringWidth(text) <= maxWidth) {
      return text;
    }
    String cut = text;
    while (!cut.isEmpty() && metrics.stringWidth(cut + ELLIPSIS) > maxWidth) {
      cut = cut.substring(0, cut.length() - 1);
    }
    return cut + ELLIPSIS;
  }

  /**
   * Converts packed BGR rows (a {@code TYPE_3BYTE_BGR} raster as wide as {@code frame}, an even
   * number of rows) into {@code frame}'s YUV 4:2:0 planes from (even) row {@code top}: the same
   * arithmetic as JCodec's {@code RgbToYuv420j}, without its per-pixel {@code AWTUtil} copy.
   */
  static void bgrToYuv(byte[] bgr, Picture frame, int top) {
    bgrToYuv(bgr, null, frame, top);
  }

  /**
   * As {@link #bgrToYuv(byte[], Picture, int)}, but where {@code previous} (the rows converted into
   * {@code frame} last time, or null) has the same bytes as {@code bgr}, in pieces of two rows by
   * 16 pixels, the piece is left as it is in {@code frame}.
   */
  static void bgrToYuv(byte[] bgr, byte[] previous, Picture frame, int top) {
    int w = frame.getWidth();
    int rows = bgr.length / (3 * w);
    int srcStride = 3 * w;
    for (int y = 0; y + 1 < rows; y += 2) {
      for (int x0 = 0; x0 < w; x0 += 16) {
        int x1 = Math.min(w, x0 + 16);
        int a = y * srcStride + 3 * x0;
        int b = a + srcStride;
        int n = 3 * (x1 - x0);
        if (previous != null
            && Arrays.equals(bgr, a, a + n, previous, a, a + n)
            && Arrays.equals(bgr, b, b + n, previous, b, b + n)) {
          continue;
        }
        convertPiece(bgr, frame, top, y, x0, x1);
      }
    }
  }

  /** Converts columns {@code [x0, x1)} (even) of rows {@code y} and {@code y + 1}. */
  private static void convertPiece(byte[] bgr, Picture frame, int top, int y, int x0, int x1) {
    int w = frame.getWidth();
    byte[] luma = frame.getPlaneData(0);
    byte[] cb = frame.getPlaneData(1);
    byte[] cr = frame.getPlaneData(2);
    int lumaStride = frame.getPlaneWidth(0);
    int chromaStride = frame.getPlaneWidth(1);
    int srcStride = 3 * w;
    int src = y * srcStride + 3 * x0;
    int dstLuma = (top + y) * lumaStride + x0;
    int dstChroma = ((top + y) >> 1) * chromaStride + (x0 >> 1);
    for (int x = x0; x + 1 < x1; x += 2) {
      int u = 0;
      int v = 0;
      for (int k = 0; k < 4; k++) {
        int o = src + (k & 1) * 3 + (k >> 1) * srcStride;
        int b = bgr[o] & 0xFF;
        int g = bgr[o + 1] & 0xFF;
        int r = bgr[o + 2] & 0xFF;
        int yy = (77 * r + 150 * g + 15 * b + 128) >> 8;
        luma[dstLuma + (k & 1) + (k >> 1) * lumaStride] = (byte) clip(yy - 128);
        u += clip((-43 * r - 85 * g + 128 * b + 128) >> 8);
        v += clip((128 * r - 107 * g - 21 * b + 128) >> 8);
      }
      cb[dstChroma] = (byte) ((u + 2) >> 2);
      cr[dstChroma] = (byte) ((v + 2) >> 2);
      src += 6;
      dstLuma += 2;
      dstChroma++;
    }
  }

  private static int clip(int v) {
    return v < -128 ? -128 : (v > 127 ? 127 : v);
  }

  private static BufferedImage copyOf(BufferedImage image) {
    BufferedImage copy =
        new BufferedImage(image.getWidth(), image.getHeight(), BufferedImage.TYPE_3BYTE_BGR);
    Graphics2D g = copy.createGraphics();
    try {
      g.drawImage(image, 0, 0, null);
    } finally {
      g.dispose();
    }
    return copy;
  }

  private static void applyHints(Graphics2D g) {
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(
        RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setRenderingHint(
        RenderingHints.KEY_FRACTIONALMETRICS, RenderingHints.VALUE_FRACTIONALMETRICS_ON);
  }

  private static Color withAlpha(Color c, int alpha) {
    return new Color(c.getRed(), c.getGreen(), c.getBlue(), alpha);
  }

  private static int px(double base, double scale) {
    return Math.max(1, (int) Math.round(base * scale));
  }

  private static void moveIntoPlace(Path tmp, Path out) throws IOException {
    // Temporary files are created owner-only; the delivered clip gets ordinary permissions.
    if (Files.getFileStore(tmp).supportsFileAttributeView(PosixFileAttributeView.class)) {
      Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
    }
    try {
      Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** Geometry and job-derived parameters shared by the static and the per-frame drawing. */
  private static final class Layout {
    final double scale;
    final int margin;
    final int stripTop;
    final int stripHeight;
    final float hue;
    private final long hash;

    Layout(PreviewCard card) {
      scale = Math.min(card.width() / 640.0, card.height() / 360.0);
      margin = px(24, scale);
      // The footer strip starts on an even row so its 4:2:0 chroma rows align with the frame's.
      stripHeight = Math.min(card.height(), (px(46, scale) + 1) & ~1);
      stripTop = card.height() - stripHeight;
      CRC32 crc = new CRC32();
      crc.update(card.jobId().getBytes(StandardCharsets.UTF_8));
      long c = crc.getValue();
      hash = c * 0x9E3779B97F4A7C15L ^ (c << 29);
      hue = unitOf(hash, 0);
    }

    /** A value in [0, 1) taken from 8 bits of the job hash at {@code shift}. */
    float unit(int shift) {
      return unitOf(hash, shift);
    }

    private static float unitOf(long hash, int shift) {
      return ((hash >>> shift) & 0xFF) / 256f;
    }
  }
}
