package com.aiprod.pipeline.media;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jcodec.codecs.h264.H264Encoder;
import org.jcodec.codecs.h264.H264Utils;
import org.jcodec.codecs.h264.io.model.NALUnit;
import org.jcodec.codecs.h264.io.model.NALUnitType;
import org.jcodec.codecs.h264.io.model.PictureParameterSet;
import org.jcodec.codecs.h264.io.model.SeqParameterSet;
import org.jcodec.common.model.ColorSpace;
import org.jcodec.common.model.Picture;
import org.jcodec.common.model.Size;

/**
 * An H.264 (Baseline, CAVLC) encoder for pictures that change in few macroblocks from one frame to
 * the next, such as the preview title card.
 *
 * <p>A key frame is an IDR picture of I slices. Every other frame is a picture whose unchanged
 * macroblocks (the same source pixels as the frame before) are {@code P_Skip} — a copy of the
 * previous picture, nothing coded — and whose changed macroblocks are intra-coded: each run of
 * changed macroblocks in a macroblock row is its own I slice. JCodec's {@link H264Encoder} codes
 * the pixels of every I slice: the run is cut out as a picture of its own and encoded as an IDR
 * frame, whose slice data is then put behind a slice header for the whole picture. This is exact
 * because H.264 predicts only from macroblocks of the same slice (intra prediction, CAVLC
 * coefficient contexts), so a run coded alone codes the same as the run in place. The deblocking
 * filter does not cross slice edges, so skipped macroblocks stay exact copies and nothing drifts.
 *
 * <p>A key frame is one I slice for the top {@code staticMbRows} macroblock rows and one per row
 * below; each is kept and reused by the next key frame while its pixels stay the same.
 */
final class PartialFrameEncoder {
  /** Unchanged macroblocks between two changed ones that are coded anyway to save a slice. */
  private static final int MERGE_GAP = 2;

  private final int width;
  private final int height;
  private final int mbW;
  private final int mbH;
  private final int keyInterval;
  private final int staticMbRows;
  private final int log2MaxFrameNum;
  private final int log2MaxPocLsb;
  private final byte[] sps;
  private final byte[] pps;
  private final Picture previous;
  private final H264Encoder sliceEncoder;
  private final ByteBuffer sliceBuffer;
  private final SeqParameterSet jcodecSps;
  private final BitWriter out = new BitWriter();
  private int frameNum;
  private int idrPicId;
  private boolean started;

  /** The cached I slice of the static rows: its data bits and its QP delta, and its pixels. */
  private CodedSlice staticSlice;

  private Picture staticSource;

  /** Key-frame I slices of the rows below the static ones, and the pixels they were coded from. */
  private final CodedSlice[] rowSlices;

  private final Picture rowSources;

  /**
   * An encoder of {@code width}×{@code height} YUV 4:2:0 (JPEG range) pictures with a key frame
   * every {@code keyInterval} frames; the top {@code staticMbRows} macroblock rows are expected to
   * stay the same over the clip (only a hint for reusing their coded key-frame slice).
   */
  PartialFrameEncoder(int width, int height, int keyInterval, int staticMbRows) {
    if (width < 16 || height < 16 || (width & 1) != 0 || (height & 1) != 0) {
      throw new IllegalArgumentException("unsupported size " + width + "x" + height);
    }
    if (keyInterval < 1) {
      throw new IllegalArgumentException("key interval " + keyInterval);
    }
    this.width = width;
    this.height = height;
    this.mbW = (width + 15) >> 4;
    this.mbH = (height + 15) >> 4;
    this.keyInterval = keyInterval;
    this.staticMbRows = Math.max(0, Math.min(mbH - 1, staticMbRows));
    this.log2MaxFrameNum =
        Math.max(4, Math.min(16, 32 - Integer.numberOfLeadingZeros(keyInterval)));
    this.log2MaxPocLsb = Math.min(16, log2MaxFrameNum + 1);
    this.sliceEncoder = H264Encoder.createH264Encoder();
    // Motion search is irrelevant (every slice it codes is intra) but keep it cheap anyway.
    sliceEncoder.setMotionSearchRange(0);
    this.jcodecSps = sliceEncoder.initSPS(new Size(16, 16));
    SeqParameterSet s = sliceEncoder.initSPS(new Size(width, height));
    s.log2MaxFrameNumMinus4 = log2MaxFrameNum - 4;
    s.picOrderCntType = 0;
    s.log2MaxPicOrderCntLsbMinus4 = log2MaxPocLsb - 4;
    PictureParameterSet p = sliceEncoder.initPPS();
    p.deblockingFilterControlPresentFlag = true;
    this.sps = parameterSet(NALUnitType.SPS, b -> s.write(b));
    this.pps = parameterSet(NALUnitType.PPS, b -> p.write(b));
    this.previous = Picture.create(width, height, ColorSpace.YUV420J);
    this.rowSlices = new CodedSlice[mbH];
    this.rowSources = Picture.create(width, height, ColorSpace.YUV420J);
    this.sliceBuffer = ByteBuffer.allocate(Math.max(1 << 16, mbW * 16 * mbH * 16 * 2));
  }

  /**
   * Encodes the next frame and appends its access unit (Annex B: start codes, and SPS and PPS
   * before a key frame) to {@code dst}; returns whether it is a key frame.
   */
  boolean encode(Picture picture, ByteBuffer dst) {
    if (picture.getColor() != ColorSpace.YUV420J
        || picture.getWidth() != width
        || picture.getHeight() != height) {
      throw new IllegalArgumentException("expected a " + width + "x" + height + " YUV420J picture");
    }
    boolean key = !started || frameNum % keyInterval == 0;
    if (key) {
      frameNum = 0;
      encodeKey(picture, dst);
      idrPicId = (idrPicId + 1) & 0xFFFF;
    } else {
      encodeInter(picture, dst);
    }
    copyPicture(picture, previous);
    started = true;
    frameNum++;
    return key;
  }

  private void encodeKey(Picture picture, ByteBuffer dst) {
    dst.put(sps);
    dst.put(pps);
    int firstRow = 0;
    if (staticMbRows > 0) {
      if (staticSlice == null || !sameRows(picture, staticSource, 0, staticMbRows * 16)) {
        staticSlice = codeIntra(picture, 0, 0, mbW, staticMbRows);
        staticSource = Picture.create(width, height, ColorSpace.YUV420J);
        copyPicture(picture, staticSource);
      }
      writeSlice(dst, true, 0, SLICE_I, staticSlice);
      firstRow = staticMbRows;
    }
    // Below the static rows, one slice per macroblock row, reused while the row stays the same.
    for (int mbY = firstRow; mbY < mbH; mbY++) {
      if (rowSlices[mbY] == null || !sameRows(picture, rowSources, mbY * 16, mbY * 16 + 16)) {
        rowSlices[mbY] = codeIntra(picture, 0, mbY, mbW, 1);
        copyRows(picture, rowSources, mbY * 16, mbY * 16 + 16);
      }
      writeSlice(dst, true, mbY * mbW, SLICE_I, rowSlices[mbY]);
    }
  }

  private static void copyRows(Picture from, Picture to, int y0, int y1) {
    for (int plane = 0; plane < 3; plane++) {
      int shift = plane == 0 ? 0 : 1;
      int stride = from.getPlaneWidth(plane);
      int start = (y0 >> shift) * stride;
      int end = Math.min(from.getPlaneHeight(plane), y1 >> shift) * stride;
      System.arraycopy(from.getPlaneData(plane), start, to.getPlaneData(plane), start, end - start);
    }
  }

  private void encodeInter(Picture picture, ByteBuffer dst) {
    int next = 0; // the first macroblock not yet in a slice
    for (int mbY = 0; mbY < mbH; mbY++) {
      if (sameRows(picture, previous, mbY * 16, mbY * 16 + 16)) {
        continue; // the whole macroblock row is unchanged: one comparison instead of 40
      }
      int runStart = -1;
      int runEnd = -1;
      for (int mbX = 0; mbX <= mbW; mbX++) {
        boolean changed = mbX < mbW && changed(picture, mbX, mbY);
        if (changed) {
          if (runStart >= 0 && mbX - runEnd <= MERGE_GAP) {
            runEnd = mbX + 1;
          } else {
            if (runStart >= 0) {
              next = writeRun(picture, dst, next, mbY, runStart, runEnd);
            }
            runStart = mbX;
            runEnd = mbX + 1;
          }
        }
      }
      if (runStart >= 0) {
        next = writeRun(picture, dst, next, mbY, runStart, runEnd);
      }
    }
    if (next < mbW * mbH) {
      writeSkipSlice(dst, next, mbW * mbH - next);
    }
  }

  /** Writes the skipped macroblocks before the run and the run's I slice; returns the next one. */
  private int writeRun(Picture picture, ByteBuffer dst, int next, int mbY, int from, int to) {
    int first = mbY * mbW + from;
    if (first > next) {
      writeSkipSlice(dst, next, first - next);
    }
    writeSlice(dst, false, first, SLICE_I, codeIntra(picture, from, mbY, to - from, 1));
    return mbY * mbW + to;
  }

  private boolean changed(Picture picture, int mbX, int mbY) {
    for (int plane = 0; plane < 3; plane++) {
      int shift = plane == 0 ? 0 : 1;
      int size = 16 >> shift;
      int stride = picture.getPlaneWidth(plane);
      int planeH = picture.getPlaneHeight(plane);
      int x0 = (mbX * 16) >> shift;
      int n = Math.min(size, stride - x0);
      byte[] a = picture.getPlaneData(plane);
      byte[] b = previous.getPlaneData(plane);
      int y0 = (mbY * 16) >> shift;
      int y1 = Math.min(planeH, y0 + size);
      for (int y = y0; y < y1; y++) {
        int off = y * stride + x0;
        if (Arrays.mismatch(a, off, off + n, b, off, off + n) >= 0) {
          return true;
        }
      }
    }
    return false;
  }

  /** Codes {@code w}×{@code h} macroblocks at ({@code mbX}, {@code mbY}) as an I slice alone. */
  private CodedSlice codeIntra(Picture picture, int mbX, int mbY, int w, int h) {
    Picture part = Picture.create(w * 16, h * 16, ColorSpace.YUV420J);
    for (int plane = 0; plane < 3; plane++) {
      int shift = plane == 0 ? 0 : 1;
      byte[] src = picture.getPlaneData(plane);
      byte[] dst = part.getPlaneData(plane);
      int srcStride = picture.getPlaneWidth(plane);
      int srcH = picture.getPlaneHeight(plane);
      int dstW = (w * 16) >> shift;
      int dstH = (h * 16) >> shift;
      int x0 = (mbX * 16) >> shift;
      int y0 = (mbY * 16) >> shift;
      for (int y = 0; y < dstH; y++) {
        // Rows and columns past the picture's edge repeat its last row and column.
        int sy = Math.min(srcH - 1, y0 + y);
        int copy = Math.max(0, Math.min(dstW, srcStride - x0));
        System.arraycopy(src, sy * srcStride + x0, dst, y * dstW, copy);
        for (int x = copy; x < dstW; x++) {
          dst[y * dstW + x] = src[sy * srcStride + srcStride - 1];
        }
      }
    }
    sliceBuffer.clear();
    ByteBuffer coded = sliceEncoder.encodeIDRFrame(part, sliceBuffer);
    return CodedSlice.of(lastNal(coded), jcodecSps);
  }

  private void writeSkipSlice(ByteBuffer dst, int firstMb, int count) {
    out.reset();
    out.u(0x60 | NALUnitType.NON_IDR_SLICE.getValue(), 8);
    header(false, firstMb, SLICE_P);
    out.u(0, 1); // num_ref_idx_active_override_flag
    out.u(0, 1); // ref_pic_list_modification_flag_l0
    out.u(0, 1); // adaptive_ref_pic_marking_mode_flag
    out.se(0); // slice_qp_delta
    deblocking();
    out.ue(count); // mb_skip_run: the whole slice
    out.trailingBits();
    putNal(dst);
  }

  private void writeSlice(ByteBuffer dst, boolean idr, int firstMb, int type, CodedSlice slice) {
    out.reset();
    out.u(
        0x60 | (idr ? NALUnitType.IDR_SLICE.getValue() : NALUnitType.NON_IDR_SLICE.getValue()), 8);
    header(idr, firstMb, type);
    if (idr) {
      out.u(0, 1); // no_output_of_prior_pics_flag
      out.u(0, 1); // long_term_reference_flag
    } else {
      out.u(0, 1); // adaptive_ref_pic_marking_mode_flag
    }
    out.se(slice.qpDelta);
    deblocking();
    out.copyBits(slice.rbsp, slice.dataStart, slice.dataEnd);
    out.trailingBits();
    putNal(dst);
  }

  /**
   * disable_deblocking_filter_idc 2: the filter runs inside each slice but not across slices, so a
   * skipped macroblock next to a newly coded one is never filtered again (no drift), while coded
   * slices are filtered as usual. (Idc 1, no filter at all, would do too, but JCodec's decoder
   * ignores it and filters anyway, so QA would see other pixels than browsers.)
   */
  private void deblocking() {
    out.ue(2);
    out.se(0); // slice_alpha_c0_offset_div2
    out.se(0); // slice_beta_offset_div2
  }

  private void header(boolean idr, int firstMb, int type) {
    out.ue(firstMb);
    out.ue(type);
    out.ue(0); // pic_parameter_set_id
    out.u(frameNum & ((1 << log2MaxFrameNum) - 1), log2MaxFrameNum);
    if (idr) {
      out.ue(idrPicId);
    }
    out.u((frameNum * 2) & ((1 << log2MaxPocLsb) - 1), log2MaxPocLsb);
  }

  private void putNal(ByteBuffer dst) {
    dst.putInt(1);
    H264Utils.escapeNAL(ByteBuffer.wrap(out.bytes(), 0, out.byteLength()), dst);
  }

  private static final int SLICE_P = 0;
  private static final int SLICE_I = 2;

  private boolean sameRows(Picture a, Picture b, int y0, int y1) {
    for (int plane = 0; plane < 3; plane++) {
      int shift = plane == 0 ? 0 : 1;
      int stride = a.getPlaneWidth(plane);
      int from = (y0 >> shift) * stride;
      int to = Math.min(a.getPlaneHeight(plane), y1 >> shift) * stride;
      if (Arrays.mismatch(a.getPlaneData(plane), from, to, b.getPlaneData(plane), from, to) >= 0) {
        return false;
      }
    }
    return true;
  }

  private static void copyPicture(Picture from, Picture to) {
    for (int plane = 0; plane < 3; plane++) {
      byte[] src = from.getPlaneData(plane);
      System.arraycopy(src, 0, to.getPlaneData(plane), 0, src.length);
    }
  }

  private interface Writer {
    void write(ByteBuffer b);
  }

  private static byte[] parameterSet(NALUnitType type, Writer writer) {
    ByteBuffer rbsp = ByteBuffer.allocate(1024);
    writer.write(rbsp);
    rbsp.flip();
    ByteBuffer nal = ByteBuffer.allocate(2048);
    nal.putInt(1);
    new NALUnit(type, 3).write(nal);
    H264Utils.escapeNAL(rbsp, nal);
    nal.flip();
    byte[] bytes = new byte[nal.remaining()];
    nal.get(bytes);
    return bytes;
  }

  /** The last NAL unit of an Annex B buffer, without its start code. */
  private static ByteBuffer lastNal(ByteBuffer annexB) {
    List<ByteBuffer> nals = new ArrayList<>(H264Utils.splitFrame(annexB.duplicate()));
    if (nals.isEmpty()) {
      throw new IllegalStateException("JCodec produced no NAL unit");
    }
    return nals.get(nals.size() - 1);
  }

  /**
   * An IDR slice JCodec coded alone: its RBSP (emulation prevention removed) and where its slice
   * data starts and ends (in bits, the stop bit excluded), and its slice QP delta.
   */
  static final class CodedSlice {
    final byte[] rbsp;
    final int dataStart;
    final int dataEnd;
    final int qpDelta;

    private CodedSlice(byte[] rbsp, int dataStart, int dataEnd, int qpDelta) {
      this.rbsp = rbsp;
      this.dataStart = dataStart;
      this.dataEnd = dataEnd;
      this.qpDelta = qpDelta;
    }

    /**
     * Parses the header JCodec writes for an IDR slice (its SPS from {@code initSPS}, its PPS from
     * {@code initPPS}: frame_num and POC LSB of {@code log2MaxFrameNum} and 4 bits).
     */
    static CodedSlice of(ByteBuffer nal, SeqParameterSet jcodecSps) {
      ByteBuffer copy = ByteBuffer.allocate(nal.remaining());
      copy.put(nal.duplicate());
      copy.flip();
      H264Utils.unescapeNAL(copy);
      byte[] rbsp = new byte[copy.remaining()];
      copy.get(rbsp);
      if ((rbsp[0] & 0x1F) != NALUnitType.IDR_SLICE.getValue()) {
        throw new IllegalStateException("JCodec's last NAL unit is not an IDR slice");
      }
      BitReader r = new BitReader(rbsp, 8);
      if (r.ue() != 0 || r.ue() % 5 != SLICE_I || r.ue() != 0) {
        throw new IllegalStateException("unexpected slice header from JCodec");
      }
      r.u(jcodecSps.log2MaxFrameNumMinus4 + 4); // frame_num
      r.ue(); // idr_pic_id
      if (jcodecSps.picOrderCntType != 0) {
        throw new IllegalStateException("unexpected POC type from JCodec");
      }
      r.u(jcodecSps.log2MaxPicOrderCntLsbMinus4 + 4); // pic_order_cnt_lsb
      r.u(2); // no_output_of_prior_pics_flag, long_term_reference_flag
      int qpDelta = r.se();
      int end = rbsp.length - 1;
      while (end >= 0 && rbsp[end] == 0) {
        end--;
      }
      if (end < 0) {
        throw new IllegalStateException("JCodec's slice has no stop bit");
      }
      int stop = end * 8 + 7 - Integer.numberOfTrailingZeros(rbsp[end] & 0xFF);
      if (stop < r.position()) {
        throw new IllegalStateException("JCodec's slice ends inside its header");
      }
      return new CodedSlice(rbsp, r.position(), stop, qpDelta);
    }
  }

  /** A big-endian bit writer into a growing array. */
  static final class BitWriter {
    private byte[] buf = new byte[1 << 12];
    private int bitPos;

    void reset() {
      Arrays.fill(buf, 0, (bitPos + 7) >> 3, (byte) 0);
      bitPos = 0;
    }

    void u(int value, int n) {
      for (int i = n - 1; i >= 0; i--) {
        bit((value >>> i) & 1);
      }
    }

    void bit(int b) {
      int index = bitPos >> 3;
      if (index >= buf.length) {
        buf = Arrays.copyOf(buf, buf.length * 2);
      }
      if (b != 0) {
        buf[index] |= (byte) (0x80 >>> (bitPos & 7));
      }
      bitPos++;
    }

    void ue(int value) {
      long v = (long) value + 1;
      int bits = 64 - Long.numberOfLeadingZeros(v);
      u(0, bits - 1);
      for (int i = bits - 1; i >= 0; i--) {
        bit((int) ((v >>> i) & 1));
      }
    }

    void se(int value) {
      ue(value <= 0 ? -2 * value : 2 * value - 1);
    }

    /** Appends bits {@code [from, to)} of {@code src}. */
    void copyBits(byte[] src, int from, int to) {
      int need = (bitPos + (to - from) + 7) >> 3;
      if (need > buf.length) {
        buf = Arrays.copyOf(buf, Math.max(need, buf.length * 2));
      }
      int pos = from;
      // Bit by bit up to a source byte boundary, then a byte at a time.
      while (pos < to && (pos & 7) != 0) {
        bit((src[pos >> 3] >> (7 - (pos & 7))) & 1);
        pos++;
      }
      int shift = bitPos & 7;
      while (to - pos >= 8) {
        int v = src[pos >> 3] & 0xFF;
        int index = bitPos >> 3;
        if (shift == 0) {
          buf[index] = (byte) v;
        } else {
          buf[index] |= (byte) (v >>> shift);
          buf[index + 1] = (byte) (v << (8 - shift));
        }
        bitPos += 8;
        pos += 8;
      }
      while (pos < to) {
        bit((src[pos >> 3] >> (7 - (pos & 7))) & 1);
        pos++;
      }
    }

    /** rbsp_stop_one_bit and zero bits up to the byte boundary. */
    void trailingBits() {
      bit(1);
      while ((bitPos & 7) != 0) {
        bit(0);
      }
    }

    byte[] bytes() {
      return buf;
    }

    int byteLength() {
      return (bitPos + 7) >> 3;
    }

    int bitPosition() {
      return bitPos;
    }
  }

  /** A big-endian bit reader of Exp-Golomb codes. */
  static final class BitReader {
    private final byte[] buf;
    private int pos;

    BitReader(byte[] buf, int bitPos) {
      this.buf = buf;
      this.pos = bitPos;
    }

    int bit() {
      if (pos >= buf.length * 8) {
        throw new IllegalStateException("read past the end of the slice");
      }
      int b = (buf[pos >> 3] >> (7 - (pos & 7))) & 1;
      pos++;
      return b;
    }

    int u(int n) {
      int v = 0;
      for (int i = 0; i < n; i++) {
        v = (v << 1) | bit();
      }
      return v;
    }

    int ue() {
      int zeros = 0;
      while (bit() == 0) {
        zeros++;
        if (zeros > 31) {
          throw new IllegalStateException("bad Exp-Golomb code");
        }
      }
      return (int) ((1L << zeros) - 1 + u(zeros));
    }

    int se() {
      int k = ue();
      return (k & 1) == 1 ? (k + 1) / 2 : -(k / 2);
    }

    int position() {
      return pos;
    }
  }
}
