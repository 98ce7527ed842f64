package com.aiprod.pipeline.media;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;

/**
 * Reads the fields of H.264 parameter sets and slice headers that size JCodec's allocations and
 * loops, and refuses values outside the ranges the standard allows (ITU-T H.264 §7.3, §7.4), so a
 * hostile stream cannot make the decoder allocate or loop by a number of its choosing. Pictures are
 * capped at {@value #MAX_WIDTH}×{@value #MAX_HEIGHT} and {@value #MAX_PIXELS} pixels; slice groups
 * (FMO) are not supported. Every failure is an {@link IOException} naming the field.
 */
final class H264Checks {
  static final int MAX_WIDTH = 4096;
  static final int MAX_HEIGHT = 4096;
  static final long MAX_PIXELS = 4096L * 2304;

  /** Bytes of a slice NAL unit read for its header (the largest legal header is ~3 KiB). */
  static final int MAX_SLICE_HEADER_BYTES = 8 << 10;

  private H264Checks() {}

  /** What a slice header needs from its sequence parameter set. */
  static final class Sps {
    int id;
    int chromaFormat = 1;
    boolean separateColourPlane;
    int log2MaxFrameNum;
    int pocType;
    int log2MaxPocLsb;
    boolean deltaPicOrderAlwaysZero;
    boolean frameMbsOnly;
    int width;
    int height;
    int mbs;
  }

  /** What a slice header needs from its picture parameter set. */
  static final class Pps {
    int id;
    int spsId;
    boolean bottomFieldPicOrder;
    int refIdxL0;
    int refIdxL1;
    boolean weightedPred;
    int weightedBipred;
    boolean redundantPicCnt;
  }

  /** Reads a sequence parameter set NAL unit (with its header byte). */
  static Sps sps(ByteBuffer nal) throws IOException {
    Bits b = new Bits(nal, "SPS", Integer.MAX_VALUE);
    int profile = b.u(8);
    b.u(16); // constraint flags, level
    Sps s = new Sps();
    s.id = b.ue(31, "seq_parameter_set_id");
    if (profile == 100
        || profile == 110
        || profile == 122
        || profile == 244
        || profile == 44
        || profile == 83
        || profile == 86
        || profile == 118
        || profile == 128
        || profile == 138
        || profile == 139
        || profile == 134
        || profile == 135) {
      s.chromaFormat = b.ue(3, "chroma_format_idc");
      if (s.chromaFormat == 3) {
        s.separateColourPlane = b.u(1) == 1;
      }
      b.ue(6, "bit_depth_luma_minus8");
      b.ue(6, "bit_depth_chroma_minus8");
      b.u(1);
      if (b.u(1) == 1) {
        for (int i = 0; i < (s.chromaFormat != 3 ? 8 : 12); i++) {
          if (b.u(1) == 1) {
            scalingList(b, i < 6 ? 16 : 64);
          }
        }
      }
    }
    s.log2MaxFrameNum = b.ue(12, "log2_max_frame_num_minus4") + 4;
    s.pocType = b.ue(2, "pic_order_cnt_type");
    if (s.pocType == 0) {
      s.log2MaxPocLsb = b.ue(12, "log2_max_pic_order_cnt_lsb_minus4") + 4;
    } else if (s.pocType == 1) {
      s.deltaPicOrderAlwaysZero = b.u(1) == 1;
      b.se();
      b.se();
      int cycle = b.ue(255, "num_ref_frames_in_pic_order_cnt_cycle");
      for (int i = 0; i < cycle; i++) {
        b.se();
      }
    }
    b.ue(16, "max_num_ref_frames");
    b.u(1);
    long widthMbs = b.ue(MAX_WIDTH / 16 - 1, "pic_width_in_mbs_minus1") + 1L;
    long heightUnits = b.ue(MAX_HEIGHT / 16 - 1, "pic_height_in_map_units_minus1") + 1L;
    s.frameMbsOnly = b.u(1) == 1;
    long heightMbs = heightUnits * (s.frameMbsOnly ? 1 : 2);
    s.width = (int) (widthMbs * 16);
    s.height = (int) (heightMbs * 16);
    if (s.height > MAX_HEIGHT || (long) s.width * s.height > MAX_PIXELS) {
      throw new IOException(
          "unsupported H.264: pictures of " + s.width + "x" + s.height + " exceed the limit");
    }
    s.mbs = (int) (widthMbs * heightMbs);
    if (!s.frameMbsOnly) {
      b.u(1);
    }
    b.u(1);
    if (b.u(1) == 1) {
      for (int i = 0; i < 4; i++) {
        b.ue(MAX_WIDTH, "frame_crop_offset");
      }
    }
    if (b.u(1) == 1) {
      vui(b);
    }
    return s;
  }

  private static void scalingList(Bits b, int size) throws IOException {
    int last = 8;
    int next = 8;
    for (int j = 0; j < size; j++) {
      if (next != 0) {
        int delta = b.se();
        if (delta < -128 || delta > 127) {
          throw new IOException("corrupt H.264: SPS scaling list delta " + delta);
        }
        next = (last + delta + 256) % 256;
      }
      last = next == 0 ? last : next;
    }
  }

  private static void vui(Bits b) throws IOException {
    if (b.u(1) == 1 && b.u(8) == 255) {
      b.u(32);
    }
    if (b.u(1) == 1) {
      b.u(1);
    }
    if (b.u(1) == 1) {
      b.u(4);
      if (b.u(1) == 1) {
        b.u(24);
      }
    }
    if (b.u(1) == 1) {
      b.ue(5, "chroma_sample_loc_type_top_field");
      b.ue(5, "chroma_sample_loc_type_bottom_field");
    }
    if (b.u(1) == 1) {
      b.u(32);
      b.u(32);
      b.u(1);
    }
    boolean nal = b.u(1) == 1;
    if (nal) {
      hrd(b);
    }
    boolean vcl = b.u(1) == 1;
    if (vcl) {
      hrd(b);
    }
    if (nal || vcl) {
      b.u(1);
    }
    b.u(1);
    if (b.u(1) == 1) {
      b.u(1);
      b.ue(16, "max_bytes_per_pic_denom");
      b.ue(16, "max_bits_per_mb_denom");
      b.ue(16, "log2_max_mv_length_horizontal");
      b.ue(16, "log2_max_mv_length_vertical");
      b.ue(16, "max_num_reorder_frames");
      b.ue(16, "max_dec_frame_buffering");
    }
  }

  private static void hrd(Bits b) throws IOException {
    int count = b.ue(31, "cpb_cnt_minus1") + 1;
    b.u(8);
    for (int i = 0; i < count; i++) {
      b.ue(Integer.MAX_VALUE - 1, "bit_rate_value_minus1");
      b.ue(Integer.MAX_VALUE - 1, "cpb_size_value_minus1");
      b.u(1);
    }
    b.u(20);
  }

  /** Reads a picture parameter set NAL unit (with its header byte). */
  static Pps pps(ByteBuffer nal) throws IOException {
    Bits b = new Bits(nal, "PPS", Integer.MAX_VALUE);
    Pps p = new Pps();
    p.id = b.ue(255, "pic_parameter_set_id");
    p.spsId = b.ue(31, "seq_parameter_set_id");
    b.u(1);
    p.bottomFieldPicOrder = b.u(1) == 1;
    if (b.ue(7, "num_slice_groups_minus1") != 0) {
      throw new IOException("unsupported H.264: slice groups (FMO)");
    }
    p.refIdxL0 = b.ue(31, "num_ref_idx_l0_default_active_minus1") + 1;
    p.refIdxL1 = b.ue(31, "num_ref_idx_l1_default_active_minus1") + 1;
    p.weightedPred = b.u(1) == 1;
    p.weightedBipred = b.u(2);
    b.se();
    b.se();
    b.se();
    b.u(1);
    b.u(1);
    p.redundantPicCnt = b.u(1) == 1;
    return p;
  }

  /**
   * Reads a coded slice's header (NAL unit type 1 or 5, with its header byte) up to the end of its
   * reference-picture marking, checking every count against its parameter sets.
   */
  static void sliceHeader(ByteBuffer nal, Map<Integer, Sps> spss, Map<Integer, Pps> ppss)
      throws IOException {
    int refIdc = (nal.get(nal.position()) >> 5) & 3;
    boolean idr = (nal.get(nal.position()) & 0x1F) == 5;
    Bits b = new Bits(nal, "slice header", MAX_SLICE_HEADER_BYTES);
    long firstMb = b.ue(Integer.MAX_VALUE - 1, "first_mb_in_slice");
    int type = b.ue(9, "slice_type") % 5;
    int ppsId = b.ue(255, "pic_parameter_set_id");
    Pps p = ppss.get(ppsId);
    Sps s = p == null ? null : spss.get(p.spsId);
    if (s == null) {
      throw new IOException("corrupt H.264: a slice names an unknown parameter set " + ppsId);
    }
    if (firstMb >= s.mbs) {
      throw new IOException("corrupt H.264: a slice starts at macroblock " + firstMb);
    }
    boolean p0 = type == 0 || type == 3;
    boolean bSlice = type == 1;
    if (s.separateColourPlane) {
      b.u(2);
    }
    b.u(s.log2MaxFrameNum);
    boolean field = false;
    if (!s.frameMbsOnly) {
      field = b.u(1) == 1;
      if (field) {
        b.u(1);
      }
    }
    if (idr) {
      b.ue(65535, "idr_pic_id");
    }
    if (s.pocType == 0) {
      b.u(s.log2MaxPocLsb);
      if (p.bottomFieldPicOrder && !field) {
        b.se();
      }
    }
    if (s.pocType == 1 && !s.deltaPicOrderAlwaysZero) {
      b.se();
      if (p.bottomFieldPicOrder && !field) {
        b.se();
      }
    }
    if (p.redundantPicCnt) {
      b.ue(127, "redundant_pic_cnt");
    }
    if (bSlice) {
      b.u(1);
    }
    int l0 = p.refIdxL0;
    int l1 = p.refIdxL1;
    if (p0 || bSlice) {
      if (b.u(1) == 1) {
        l0 = b.ue(31, "num_ref_idx_l0_active_minus1") + 1;
        if (bSlice) {
          l1 = b.ue(31, "num_ref_idx_l1_active_minus1") + 1;
        }
      }
    }
    if (type != 2 && type != 4) {
      listModification(b, l0);
      if (bSlice) {
        listModification(b, l1);
      }
    }
    if ((p.weightedPred && p0) || (p.weightedBipred == 1 && bSlice)) {
      b.ue(7, "luma_log2_weight_denom");
      if (s.chromaFormat != 0) {
        b.ue(7, "chroma_log2_weight_denom");
      }
      weights(b, l0, s.chromaFormat != 0);
      if (bSlice) {
        weights(b, l1, s.chromaFormat != 0);
      }
    }
    if (refIdc != 0) {
      if (idr) {
        b.u(2);
      } else if (b.u(1) == 1) {
        for (int n = 0; ; n++) {
          if (n > 66) {
            throw new IOException("corrupt H.264: too many memory management operations");
          }
          int op = b.ue(6, "memory_management_control_operation");
          if (op == 0) {
            break;
          }
          if (op == 1 || op == 3) {
            b.ue(Integer.MAX_VALUE - 1, "difference_of_pic_nums_minus1");
          }
          if (op == 2) {
            b.ue(Integer.MAX_VALUE - 1, "long_term_pic_num");
          }
          if (op == 3 || op == 6) {
            b.ue(31, "long_term_frame_idx");
          }
          if (op == 4) {
            b.ue(31, "max_long_term_frame_idx_plus1");
          }
        }
      }
    }
  }

  private static void listModification(Bits b, int refs) throws IOException {
    if (b.u(1) == 0) {
      return;
    }
    for (int n = 0; ; n++) {
      if (n > refs) {
        throw new IOException("corrupt H.264: too many reference list modifications");
      }
      int op = b.ue(5, "modification_of_pic_nums_idc");
      if (op == 3) {
        return;
      }
      if (op > 3) {
        throw new IOException("corrupt H.264: modification_of_pic_nums_idc " + op);
      }
      b.ue(Integer.MAX_VALUE - 1, "abs_diff_pic_num_minus1");
    }
  }

  private static void weights(Bits b, int refs, boolean chroma) throws IOException {
    for (int i = 0; i < refs; i++) {
      if (b.u(1) == 1) {
        b.se();
        b.se();
      }
      if (chroma && b.u(1) == 1) {
        b.se();
        b.se();
        b.se();
        b.se();
      }
    }
  }

  /** An RBSP bit reader (emulation-prevention bytes removed) that refuses to read past the end. */
  private static final class Bits {
    private final byte[] rbsp;
    private final String what;
    private int bitPos;
    private final int bitLimit;

    /** The RBSP of {@code nal} after its header byte, at most {@code maxBytes} of it. */
    Bits(ByteBuffer nal, String what, int maxBytes) {
      this.what = what;
      ByteBuffer in = nal.duplicate();
      in.get(); // NAL header
      byte[] out = new byte[Math.min(in.remaining(), maxBytes)];
      int n = 0;
      int zeros = 0;
      while (in.hasRemaining() && n < out.length) {
        byte v = in.get();
        if (zeros >= 2 && v == 3) {
          zeros = 0;
          continue;
        }
        zeros = v == 0 ? zeros + 1 : 0;
        out[n++] = v;
      }
      this.rbsp = out;
      this.bitLimit = n * 8;
    }

    int u(int bits) throws IOException {
      if (bitPos + bits > bitLimit) {
        throw new IOException("corrupt H.264: the " + what + " ends early");
      }
      long v = 0;
      for (int i = 0; i < bits; i++) {
        int bit = (rbsp[bitPos >> 3] >> (7 - (bitPos & 7))) & 1;
        v = (v << 1) | bit;
        bitPos++;
      }
      return (int) v;
    }

    private long ueRaw() throws IOException {
      int zeros = 0;
      while (u(1) == 0) {
        if (++zeros > 31) {
          throw new IOException(
              "corrupt H.264: an Exp-Golomb code in the " + what + " is too long");
        }
      }
      return (1L << zeros) - 1 + (zeros == 0 ? 0 : (u(zeros) & 0xFFFFFFFFL));
    }

    int ue(int max, String field) throws IOException {
      long v = ueRaw();
      if (v > max) {
        throw new IOException("corrupt H.264: " + what + " " + field + " is " + v);
      }
      return (int) v;
    }

    int se() throws IOException {
      long k = ueRaw();
      long v = (k & 1) == 1 ? (k + 1) / 2 : -(k / 2);
      return (int) v;
    }
  }
}
