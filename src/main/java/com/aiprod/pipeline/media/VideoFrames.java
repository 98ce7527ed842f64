package com.aiprod.pipeline.media;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import org.jcodec.codecs.h264.H264Decoder;
import org.jcodec.common.model.ColorSpace;
import org.jcodec.common.model.Picture;
import org.mp4parser.Box;
import org.mp4parser.boxes.sampleentry.AbstractSampleEntry;

/**
 * Decodes video frames of an MP4 from the sample table of the bounded {@link Mp4Reader}, with
 * JCodec's H.264 decoder (no JCodec demuxer ever sees the file). Parameter sets come from {@code
 * avcC} and are checked by {@link H264Checks}, as is every slice header before JCodec reads it;
 * in-band parameter sets and other non-slice NAL units are dropped. A frame is decoded from the
 * sync sample before it, at most {@value #MAX_DECODE_FRAMES} samples; a sample may hold at most
 * {@value #MAX_SAMPLE_BYTES} bytes.
 *
 * <p>Anything a frame's bytes make the decoder throw — exceptions, and an {@link Error} of one
 * oversized allocation or deep recursion — becomes an {@link IOException} ("frame N could not be
 * decoded").
 */
public final class VideoFrames {
  /** Most samples decoded to reach one frame (a GOP of 40 s at 25 fps). */
  public static final int MAX_DECODE_FRAMES = 1000;

  /** Largest sample read into memory. */
  public static final int MAX_SAMPLE_BYTES = 16 << 20;

  private final SeekableByteChannel channel;
  private final Mp4Reader.Movie movie;
  private final Mp4Reader.Track video;

  private VideoFrames(SeekableByteChannel channel, Mp4Reader.Movie movie) throws IOException {
    this.channel = channel;
    this.movie = movie;
    this.video = movie.videoTrack();
    if (video == null || video.sampleCount() == 0) {
      throw new IOException("no video frames in the MP4");
    }
  }

  /** Reads the structure of the MP4 behind {@code channel} (bounded); decodes nothing yet. */
  public static VideoFrames of(SeekableByteChannel channel) throws IOException {
    return new VideoFrames(channel, Mp4Reader.read(channel));
  }

  public Mp4Reader.Movie movie() {
    return movie;
  }

  public int frameCount() {
    return video.sampleCount();
  }

  /** Decodes the first frame and every frame from the last sync sample to the end. */
  public void decodeFirstAndLast() throws IOException {
    decode(0);
    decode(frameCount() - 1);
  }

  /** The picture of sample {@code index} (decode order), decoded from the sync sample before it. */
  public Picture decode(int index) throws IOException {
    int start = index;
    while (start > 0 && !video.isSync(start)) {
      start--;
    }
    if (!video.isSync(start)) {
      throw new IOException("corrupt MP4: no sync sample before frame " + (index + 1));
    }
    if (index - start >= MAX_DECODE_FRAMES) {
      throw new IOException(
          "unsupported MP4: frame "
              + (index + 1)
              + " is "
              + (index - start)
              + " frames after its sync sample (limit "
              + MAX_DECODE_FRAMES
              + ")");
    }
    Config config = config(video.descriptionIndex(start));
    H264Decoder decoder = null;
    int current = start;
    try {
      decoder = H264Decoder.createH264DecoderFromCodecPrivate(config.annexB);
      byte[][] buffer = Picture.create(config.width, config.height, ColorSpace.YUV420J).getData();
      Picture picture = null;
      for (; current <= index; current++) {
        if (video.descriptionIndex(current) != video.descriptionIndex(start)) {
          throw new IOException("corrupt MP4: the sample description changes inside a GOP");
        }
        List<ByteBuffer> nals = slices(current, config);
        picture = decoder.decodeFrameFromNals(nals, buffer);
        if (picture == null) {
          throw new IOException("corrupt MP4: frame " + (current + 1) + " could not be decoded");
        }
      }
      return picture;
    } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
      // The frame's bytes drove JCodec into a failure: that frame is undecodable, nothing more.
      throw new IOException(
          "corrupt MP4: frame "
              + (current + 1)
              + " could not be decoded ("
              + e.getClass().getSimpleName()
              + ")",
          e);
    } finally {
      shutDown(decoder);
    }
  }

  /** The slice NAL units of sample {@code index}, each header checked. */
  private List<ByteBuffer> slices(int index, Config config) throws IOException {
    long size = video.size(index);
    if (size > MAX_SAMPLE_BYTES) {
      throw new IOException(
          "unsupported MP4: frame "
              + (index + 1)
              + " has "
              + size
              + " bytes (limit "
              + MAX_SAMPLE_BYTES
              + ")");
    }
    ByteBuffer data = Mp4Reader.readFully(channel, video.offset(index), (int) size);
    List<ByteBuffer> out = new ArrayList<>();
    while (data.hasRemaining()) {
      if (data.remaining() < config.lengthSize) {
        throw new IOException("corrupt H.264: frame " + (index + 1) + " ends inside a NAL length");
      }
      long length = 0;
      for (int i = 0; i < config.lengthSize; i++) {
        length = (length << 8) | (data.get() & 0xFF);
      }
      if (length < 1 || length > data.remaining()) {
        throw new IOException(
            "corrupt H.264: frame "
                + (index + 1)
                + " has a NAL unit of "
                + length
                + " bytes in a sample with "
                + data.remaining()
                + " left");
      }
      ByteBuffer nal = data.slice();
      nal.limit((int) length);
      data.position(data.position() + (int) length);
      int type = nal.get(0) & 0x1F;
      if (type == 1 || type == 5) {
        H264Checks.sliceHeader(nal, config.spss, config.ppss);
        out.add(nal);
      }
    }
    if (out.isEmpty()) {
      throw new IOException("corrupt H.264: frame " + (index + 1) + " holds no picture slice");
    }
    return out;
  }

  /** Decoder configuration of one sample description ({@code avc1}/{@code avc3} + {@code avcC}). */
  private static final class Config {
    int lengthSize;
    ByteBuffer annexB;
    int width;
    int height;
    final Map<Integer, H264Checks.Sps> spss = new HashMap<>();
    final Map<Integer, H264Checks.Pps> ppss = new HashMap<>();
  }

  private Config config(int description) throws IOException {
    AbstractSampleEntry entry = video.sampleEntries().get(description);
    if (!entry.getType().equals("avc1") && !entry.getType().equals("avc3")) {
      throw new IOException("not H.264 ('" + entry.getType() + "'), cannot decode frames");
    }
    ByteBuffer avcC = null;
    for (Box box : entry.getBoxes()) {
      if (box.getType().equals("avcC")) {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (OutputStream out = bytes) {
          box.getBox(Channels.newChannel(out));
        }
        avcC = ByteBuffer.wrap(bytes.toByteArray());
        avcC.position(8);
      }
    }
    if (avcC == null) {
      throw new IOException("corrupt MP4: the H.264 sample entry has no 'avcC'");
    }
    try {
      return parseAvcC(avcC);
    } catch (java.nio.BufferUnderflowException | IllegalArgumentException e) {
      throw new IOException("corrupt MP4: 'avcC' is truncated", e);
    }
  }

  private static Config parseAvcC(ByteBuffer in) throws IOException {
    Config c = new Config();
    in.get(); // configurationVersion
    in.get();
    in.get();
    in.get();
    c.lengthSize = (in.get() & 3) + 1;
    if (c.lengthSize == 3) {
      throw new IOException("corrupt MP4: 'avcC' NAL length size 3");
    }
    java.io.ByteArrayOutputStream annexB = new java.io.ByteArrayOutputStream();
    int spsCount = in.get() & 0x1F;
    for (int i = 0; i < spsCount; i++) {
      ByteBuffer nal = nal(in);
      H264Checks.Sps sps = H264Checks.sps(nal);
      c.spss.put(sps.id, sps);
      c.width = Math.max(c.width, sps.width);
      c.height = Math.max(c.height, sps.height);
      append(annexB, nal);
    }
    int ppsCount = in.get() & 0xFF;
    for (int i = 0; i < ppsCount; i++) {
      ByteBuffer nal = nal(in);
      H264Checks.Pps pps = H264Checks.pps(nal);
      if (!c.spss.containsKey(pps.spsId)) {
        throw new IOException("corrupt MP4: 'avcC' PPS names an unknown SPS " + pps.spsId);
      }
      c.ppss.put(pps.id, pps);
      append(annexB, nal);
    }
    if (c.spss.isEmpty() || c.ppss.isEmpty()) {
      throw new IOException("corrupt MP4: 'avcC' lacks an SPS or a PPS");
    }
    c.annexB = ByteBuffer.wrap(annexB.toByteArray());
    return c;
  }

  private static ByteBuffer nal(ByteBuffer in) throws IOException {
    int length = in.getShort() & 0xFFFF;
    if (length < 2 || length > in.remaining()) {
      throw new IOException("corrupt MP4: 'avcC' parameter set of " + length + " bytes");
    }
    ByteBuffer nal = in.slice();
    nal.limit(length);
    in.position(in.position() + length);
    return nal;
  }

  private static void append(java.io.ByteArrayOutputStream out, ByteBuffer nal) {
    out.write(0);
    out.write(0);
    out.write(0);
    out.write(1);
    ByteBuffer copy = nal.duplicate();
    while (copy.hasRemaining()) {
      out.write(copy.get());
    }
  }

  /** JCodec's decoder keeps a thread pool per instance with no way to close it; end it here. */
  private static void shutDown(H264Decoder decoder) {
    if (decoder == null) {
      return;
    }
    try {
      Field tp = H264Decoder.class.getDeclaredField("tp");
      tp.setAccessible(true);
      Object pool = tp.get(decoder);
      if (pool instanceof ExecutorService) {
        ((ExecutorService) pool).shutdownNow();
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      // best effort: an idle pool of daemon threads
    }
  }
}
