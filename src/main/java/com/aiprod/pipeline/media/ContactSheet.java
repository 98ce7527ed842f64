package com.aiprod.pipeline.media;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.annotation.Nullable;
import javax.imageio.ImageIO;
import org.jcodec.common.model.Picture;

/**
 * {@code contact_sheet.png}: one labelled frame per shot in shot order under a header (job id,
 * tenant, preset, state, charge). A tile's frame is the sync sample nearest the middle of the shot,
 * decoded by {@link VideoFrames} (one frame decoded, not a GOP; the preview encoder puts a sync
 * sample every 2 s); a shot that was not rendered or cannot be read or decoded gets a hatched
 * placeholder that says why.
 *
 * <p>Bounded: frames are scaled so that all tiles hold at most {@value #FRAME_PIXEL_BUDGET} pixels
 * (each tile between {@value #MIN_TILE_WIDTH} and {@value #MAX_TILE_WIDTH} pixels wide); a PNG over
 * {@value #MAX_BYTES} bytes (noise-like frames) is drawn again with tiles half as wide.
 */
public final class ContactSheet {
  /** Most frame pixels of all tiles together, before the PNG size check. */
  public static final int FRAME_PIXEL_BUDGET = 600_000;

  public static final int MIN_TILE_WIDTH = 96;
  public static final int MAX_TILE_WIDTH = 320;

  /** Largest PNG written (DESIGN: a 60-shot sheet stays under 2 MB). */
  public static final int MAX_BYTES = 2_000_000;

  public static final int MAX_COLUMNS = 8;
  public static final int GAP = 8;
  public static final int HEADER_HEIGHT = 64;
  public static final int LABEL_HEIGHT = 30;
  public static final int MIN_WIDTH = 640;

  static final Color BACKGROUND = new Color(0x20, 0x22, 0x26);
  static final Color LABEL_TEXT = new Color(0xE8, 0xE8, 0xE8);

  /** Placeholder tile colours (tests tell a placeholder by them). */
  public static final Color PLACEHOLDER = new Color(0x4A, 0x1F, 0x1F);

  public static final Color PLACEHOLDER_HATCH = new Color(0x7A, 0x33, 0x33);

  private ContactSheet() {}

  /** The header: who, what, and how it ended. */
  public record Header(
      String jobId,
      String tenant,
      @Nullable String preset,
      String state,
      @Nullable String reasonCode,
      double chargeUsd,
      double providerCostUsd) {}

  /**
   * One planned shot: {@code uri} of its rendered clip (local path or any Beam scheme), null when
   * it was not rendered; backend and attempt of the attempt that rendered it.
   */
  public record Shot(
      int index, double durationSec, @Nullable String backend, int attempt, @Nullable String uri) {}

  /** Where everything goes on a sheet of {@code shots} tiles. */
  public record Layout(
      int columns, int rows, int tileWidth, int tileHeight, int width, int height) {
    /** The frame area of tile {@code i} (shot order, row by row). */
    public Rectangle frame(int i) {
      int x = GAP + (i % columns) * (tileWidth + GAP);
      int y = HEADER_HEIGHT + GAP + (i / columns) * (tileHeight + LABEL_HEIGHT + GAP);
      return new Rectangle(x, y, tileWidth, tileHeight);
    }

    /** The label area under tile {@code i}. */
    public Rectangle label(int i) {
      Rectangle f = frame(i);
      return new Rectangle(f.x, f.y + f.height, f.width, LABEL_HEIGHT);
    }

    /** The layout of {@code shots} tiles (at least one), tiles {@code scale} times as wide. */
    public static Layout of(int shots, double scale) {
      int n = Math.max(1, shots);
      int columns = Math.min(MAX_COLUMNS, Math.min(n, (int) Math.ceil(Math.sqrt(n * 1.5))));
      int rows = (n + columns - 1) / columns;
      int w = (int) Math.floor(Math.sqrt(FRAME_PIXEL_BUDGET / (double) n * 16 / 9));
      w = Math.max(MIN_TILE_WIDTH, Math.min(MAX_TILE_WIDTH, w));
      w = Math.max(32, (int) (w * scale)) & ~1;
      int h = (w * 9 / 16) & ~1;
      int width = Math.max(MIN_WIDTH, GAP + columns * (w + GAP));
      int height = HEADER_HEIGHT + GAP + rows * (h + LABEL_HEIGHT + GAP);
      return new Layout(columns, rows, w, h, width, height);
    }
  }

  /** The PNG of a sheet; reads and decodes each rendered shot. */
  public static byte[] png(Header header, List<Shot> shots) throws IOException {
    Layout full = Layout.of(shots.size(), 1);
    List<Tile> tiles = new ArrayList<>(shots.size());
    for (Shot s : shots) {
      tiles.add(tile(s, full.tileWidth(), full.tileHeight()));
    }
    return bounded(header, shots, tiles);
  }

  /** The sheet's PNG, drawn again with tiles half as wide while it is over {@link #MAX_BYTES}. */
  static byte[] bounded(Header header, List<Shot> shots, List<Tile> tiles) throws IOException {
    byte[] png = null;
    for (double scale = 1; scale >= 0.25; scale /= 2) {
      png = encode(draw(header, shots, tiles, Layout.of(shots.size(), scale)));
      if (png.length <= MAX_BYTES) {
        return png;
      }
    }
    throw new IOException("contact sheet of " + png.length + " bytes even with small tiles");
  }

  /** A shot's frame, or why there is none. */
  record Tile(@Nullable BufferedImage frame, @Nullable String problem) {}

  /** A shot's frame made small to fit {@code width}×{@code height}, or why there is none. */
  static Tile tile(Shot s, int width, int height) {
    if (s.uri() == null) {
      return new Tile(null, "not rendered");
    }
    Path local = null;
    try {
      local = OutputFiles.localCopy(s.uri());
      return new Tile(Thumbnail.of(middleFrame(local), width, height), null);
    } catch (IOException | RuntimeException e) {
      return new Tile(null, "could not be decoded");
    } finally {
      if (local != null && !OutputFiles.isLocal(s.uri())) {
        try {
          Files.deleteIfExists(local);
        } catch (IOException e) {
          // a temp file left behind
        }
      }
    }
  }

  /** The sync sample nearest the middle frame of the MP4, decoded. */
  static Picture middleFrame(Path mp4) throws IOException {
    try (FileChannel channel = FileChannel.open(mp4, StandardOpenOption.READ)) {
      VideoFrames video = VideoFrames.of(channel);
      Mp4Reader.Track track = video.movie().videoTrack();
      int n = video.frameCount();
      int middle = n / 2;
      int chosen = middle;
      for (int d = 0; d < n; d++) {
        if (middle - d >= 0 && track.isSync(middle - d)) {
          chosen = middle - d;
          break;
        }
        if (middle + d < n && track.isSync(middle + d)) {
          chosen = middle + d;
          break;
        }
      }
      return video.decode(chosen);
    }
  }

  static BufferedImage draw(Header header, List<Shot> shots, List<Tile> tiles, Layout layout) {
    BufferedImage img =
        new BufferedImage(layout.width(), layout.height(), BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    try {
      hints(g);
      g.setColor(BACKGROUND);
      g.fillRect(0, 0, layout.width(), layout.height());
      drawHeader(g, header, shots, tiles, layout.width());
      for (int i = 0; i < shots.size(); i++) {
        Rectangle f = layout.frame(i);
        Tile t = tiles.get(i);
        if (t.frame() != null) {
          drawFrame(g, t.frame(), f);
        } else {
          drawPlaceholder(g, f, t.problem());
        }
        drawLabel(g, layout.label(i), labelLines(shots.get(i), shots.size()));
      }
    } finally {
      g.dispose();
    }
    return img;
  }

  static void hints(Graphics2D g) {
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(
        RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setRenderingHint(
        RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    g.setRenderingHint(
        RenderingHints.KEY_FRACTIONALMETRICS, RenderingHints.VALUE_FRACTIONALMETRICS_OFF);
  }

  /** The two label lines of a tile: "Shot 3/12 · 8.0 s" and "veo · attempt 2". */
  public static String[] labelLines(Shot s, int shotCount) {
    String first =
        String.format(
            Locale.ROOT, "Shot %d/%d \u00b7 %.1f s", s.index() + 1, shotCount, s.durationSec());
    String second =
        s.backend() == null ? "not rendered" : s.backend() + " \u00b7 attempt " + s.attempt();
    return new String[] {first, second};
  }

  /** The header's two lines. */
  public static String[] headerLines(Header h, int rendered, int planned) {
    String first = "Job " + h.jobId() + "  \u2014  " + h.state();
    StringBuilder second = new StringBuilder();
    second.append("tenant ").append(h.tenant());
    second.append(" \u00b7 preset ").append(h.preset() == null ? "-" : h.preset());
    second.append(String.format(Locale.ROOT, " \u00b7 charged $%.2f", h.chargeUsd()));
    second.append(String.format(Locale.ROOT, " \u00b7 provider cost $%.2f", h.providerCostUsd()));
    second.append(" \u00b7 ").append(rendered).append('/').append(planned).append(" shots shown");
    if (h.reasonCode() != null) {
      second.append(" \u00b7 ").append(h.reasonCode());
    }
    return new String[] {first, second.toString()};
  }

  /** The colour of a state's badge. */
  public static Color stateColor(String state) {
    return switch (state) {
      case "DELIVERED" -> new Color(0x2E, 0x9E, 0x5B);
      case "NEEDS_REVIEW" -> new Color(0xD9, 0x8E, 0x1C);
      case "REJECTED", "FAILED" -> new Color(0xC6, 0x3B, 0x3B);
      default -> new Color(0x7A, 0x7F, 0x88);
    };
  }

  private static void drawHeader(
      Graphics2D g, Header h, List<Shot> shots, List<Tile> tiles, int width) {
    int shown = (int) tiles.stream().filter(t -> t.frame() != null).count();
    String[] lines = headerLines(h, shown, shots.size());
    g.setColor(stateColor(h.state()));
    g.fillRect(0, 0, 8, HEADER_HEIGHT);
    g.setColor(Color.WHITE);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
    g.drawString(fit(g, lines[0], width - 2 * GAP - 12), GAP + 12, 26);
    g.setColor(LABEL_TEXT);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
    g.drawString(fit(g, lines[1], width - 2 * GAP - 12), GAP + 12, 50);
  }

  private static void drawFrame(Graphics2D g, BufferedImage frame, Rectangle box) {
    double s =
        Math.min(box.width / (double) frame.getWidth(), box.height / (double) frame.getHeight());
    int w = Math.max(1, (int) Math.round(frame.getWidth() * s));
    int h = Math.max(1, (int) Math.round(frame.getHeight() * s));
    g.setColor(Color.BLACK);
    g.fillRect(box.x, box.y, box.width, box.height);
    g.drawImage(frame, box.x + (box.width - w) / 2, box.y + (box.height - h) / 2, w, h, null);
  }

  private static void drawPlaceholder(Graphics2D g, Rectangle box, String problem) {
    g.setColor(PLACEHOLDER);
    g.fillRect(box.x, box.y, box.width, box.height);
    Graphics2D c = (Graphics2D) g.create(box.x, box.y, box.width, box.height);
    try {
      c.setColor(PLACEHOLDER_HATCH);
      c.setStroke(new BasicStroke(2));
      for (int x = -box.height; x < box.width; x += 12) {
        c.drawLine(x, box.height, x + box.height, 0);
      }
      c.setColor(Color.WHITE);
      c.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 12));
      String text = fit(c, problem, box.width - 8);
      FontMetrics fm = c.getFontMetrics();
      int tw = fm.stringWidth(text);
      c.setColor(new Color(0, 0, 0, 160));
      c.fillRect((box.width - tw) / 2 - 4, box.height / 2 - fm.getAscent(), tw + 8, fm.getHeight());
      c.setColor(Color.WHITE);
      c.drawString(text, (box.width - tw) / 2, box.height / 2);
    } finally {
      c.dispose();
    }
  }

  /**
   * Draws a tile's label lines into {@code box} (background included): the same call draws the
   * sheet and, in tests, the expected pixels of a label.
   */
  public static void drawLabel(Graphics2D g, Rectangle box, String[] lines) {
    g.setColor(BACKGROUND);
    g.fillRect(box.x, box.y, box.width, box.height);
    g.setColor(LABEL_TEXT);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
    g.drawString(fit(g, lines[0], box.width - 2), box.x + 1, box.y + 12);
    g.drawString(fit(g, lines[1], box.width - 2), box.x + 1, box.y + 26);
  }

  /** {@code text}, cut with an ellipsis to fit {@code width} pixels in the current font. */
  static String fit(Graphics2D g, String text, int width) {
    FontMetrics fm = g.getFontMetrics();
    if (fm.stringWidth(text) <= width) {
      return text;
    }
    String t = text;
    while (!t.isEmpty() && fm.stringWidth(t + "\u2026") > width) {
      t = t.substring(0, t.length() - 1);
    }
    return t + "\u2026";
  }

  static byte[] encode(BufferedImage img) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    if (!ImageIO.write(img, "png", out)) {
      throw new IOException("no PNG writer in this JVM");
    }
    return out.toByteArray();
  }
}
