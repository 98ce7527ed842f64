package com.aiprod.pipeline.media;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.jcodec.common.model.Picture;
import org.jcodec.scale.AWTUtil;

/**
 * Frames of a rendered shot for semantic QA: decoded by {@link VideoFrames} (the bounded reader's
 * sample table, JCodec's H.264 decoder; H.264 in MP4 is the format technical QA requires), scaled
 * to at most {@value #MAX_WIDTH} pixels wide and encoded as JPEG (quality {@value #JPEG_QUALITY})
 * with {@code javax.imageio}.
 *
 * <p>{@code k} frames are taken at the middles of k equal slices of the shot (k = 3: at 1/6, 1/2
 * and 5/6 of its frames), so a shot's beginning, middle and end are all seen.
 */
public final class FrameSampler {
  public static final int MAX_WIDTH = 512;
  public static final float JPEG_QUALITY = 0.8f;

  private FrameSampler() {}

  /** {@code count} JPEG frames of the MP4 at {@code mp4}; fails when any cannot be decoded. */
  public static List<byte[]> sample(Path mp4, int count) throws IOException {
    try (FileChannel channel = FileChannel.open(mp4, StandardOpenOption.READ)) {
      VideoFrames video = VideoFrames.of(channel);
      int frames = video.frameCount();
      List<byte[]> out = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        int frame = (int) Math.min(frames - 1, Math.floor((2L * i + 1) * frames / (2.0 * count)));
        Picture p = video.decode(frame);
        try {
          out.add(jpeg(scale(AWTUtil.toBufferedImage(p.cropped()))));
        } catch (RuntimeException e) {
          throw new IOException("frame " + frame + " could not be converted: " + e, e);
        }
      }
      return out;
    }
  }

  static BufferedImage scale(BufferedImage src) {
    if (src.getWidth() <= MAX_WIDTH) {
      return toRgb(src);
    }
    int h = Math.max(1, (int) Math.round(src.getHeight() * (double) MAX_WIDTH / src.getWidth()));
    BufferedImage dst = new BufferedImage(MAX_WIDTH, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = dst.createGraphics();
    g.setRenderingHint(
        RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    g.drawImage(src, 0, 0, MAX_WIDTH, h, null);
    g.dispose();
    return dst;
  }

  private static BufferedImage toRgb(BufferedImage src) {
    if (src.getType() == BufferedImage.TYPE_INT_RGB
        || src.getType() == BufferedImage.TYPE_3BYTE_BGR) {
      return src;
    }
    BufferedImage dst =
        new BufferedImage(src.getWidth(), src.getHeight(), BufferedImage.TYPE_INT_RGB);
    Graphics2D g = dst.createGraphics();
    g.drawImage(src, 0, 0, null);
    g.dispose();
    return dst;
  }

  static byte[] jpeg(BufferedImage img) throws IOException {
    Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("jpeg");
    if (!writers.hasNext()) {
      throw new IOException("no JPEG writer in this JVM");
    }
    ImageWriter w = writers.next();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
      w.setOutput(out);
      ImageWriteParam param = w.getDefaultWriteParam();
      param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
      param.setCompressionQuality(JPEG_QUALITY);
      w.write(null, new IIOImage(img, null, null), param);
    } finally {
      w.dispose();
    }
    return bytes.toByteArray();
  }
}
