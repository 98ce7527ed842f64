package com.aiprod.pipeline.media;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import org.jcodec.common.model.ColorSpace;
import org.jcodec.common.model.Picture;
import org.jcodec.common.model.Rect;
import org.jcodec.scale.AWTUtil;

/**
 * A decoded frame made small straight from its YUV 4:2:0 planes: each output pixel averages its box
 * of source pixels (luma at full resolution, chroma at half), then converts to RGB. Converting only
 * the small picture costs a few percent of converting the frame to RGB and scaling it with Java 2D
 * (a 640×360 frame is 230,400 pixels, a 60-shot sheet's tile 9,768), and averaging does not alias
 * as bilinear scaling of a 5× reduction does.
 */
public final class Thumbnail {
  private Thumbnail() {}

  /**
   * {@code frame}'s visible area (its crop) scaled to fit {@code maxWidth}×{@code maxHeight},
   * aspect kept, never enlarged; a frame not in a YUV 4:2:0 colour space is converted by JCodec
   * first.
   */
  public static BufferedImage of(Picture frame, int maxWidth, int maxHeight) {
    // The visible area is read in place (no cropped copy of the frame).
    Rect crop = frame.getCrop();
    int left = crop == null ? 0 : crop.getX() & ~1;
    int top = crop == null ? 0 : crop.getY() & ~1;
    int sw = crop == null ? frame.getWidth() : crop.getWidth();
    int sh = crop == null ? frame.getHeight() : crop.getHeight();
    double s = Math.min(1, Math.min(maxWidth / (double) sw, maxHeight / (double) sh));
    int w = Math.max(1, (int) Math.round(sw * s));
    int h = Math.max(1, (int) Math.round(sh * s));
    ColorSpace cs = frame.getColor();
    if (cs != ColorSpace.YUV420J && cs != ColorSpace.YUV420) {
      BufferedImage rgb = AWTUtil.toBufferedImage(frame.cropped());
      BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
      out.getGraphics()
          .drawImage(rgb.getScaledInstance(w, h, java.awt.Image.SCALE_AREA_AVERAGING), 0, 0, null);
      return out;
    }
    boolean fullRange = cs == ColorSpace.YUV420J;
    byte[] y = frame.getPlaneData(0);
    byte[] u = frame.getPlaneData(1);
    byte[] v = frame.getPlaneData(2);
    int yStride = frame.getPlaneWidth(0);
    int cStride = frame.getPlaneWidth(1);
    int cw = Math.max(1, sw / 2);
    int ch = Math.max(1, sh / 2);
    BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    int[] rgb = ((DataBufferInt) out.getRaster().getDataBuffer()).getData();
    for (int oy = 0; oy < h; oy++) {
      int y0 = oy * sh / h;
      int y1 = Math.max(y0 + 1, (oy + 1) * sh / h);
      int cy0 = Math.min(ch - 1, y0 / 2);
      int cy1 = Math.max(cy0 + 1, Math.min(ch, (y1 + 1) / 2));
      for (int ox = 0; ox < w; ox++) {
        int x0 = ox * sw / w;
        int x1 = Math.max(x0 + 1, (ox + 1) * sw / w);
        int cx0 = Math.min(cw - 1, x0 / 2);
        int cx1 = Math.max(cx0 + 1, Math.min(cw, (x1 + 1) / 2));
        double luma = mean(y, yStride, left + x0, left + x1, top + y0, top + y1) + 128;
        int cl = left / 2;
        int ct = top / 2;
        double cb = mean(u, cStride, cl + cx0, cl + cx1, ct + cy0, ct + cy1);
        double cr = mean(v, cStride, cl + cx0, cl + cx1, ct + cy0, ct + cy1);
        if (!fullRange) {
          // BT.601 studio range: luma 16..235, chroma ±112.
          luma = (luma - 16) * 255.0 / 219.0;
          cb = cb * 255.0 / 224.0;
          cr = cr * 255.0 / 224.0;
        }
        int r = clip(luma + 1.402 * cr);
        int g = clip(luma - 0.344136 * cb - 0.714136 * cr);
        int b = clip(luma + 1.772 * cb);
        rgb[oy * w + ox] = (r << 16) | (g << 8) | b;
      }
    }
    return out;
  }

  /** The mean of a plane's signed samples (JCodec stores value − 128) over a box. */
  private static double mean(byte[] plane, int stride, int x0, int x1, int y0, int y1) {
    long sum = 0;
    for (int yy = y0; yy < y1; yy++) {
      int row = yy * stride;
      for (int xx = x0; xx < x1; xx++) {
        sum += plane[row + xx];
      }
    }
    return sum / (double) ((x1 - x0) * (y1 - y0));
  }

  private static int clip(double c) {
    return c <= 0 ? 0 : c >= 255 ? 255 : (int) Math.round(c);
  }
}
