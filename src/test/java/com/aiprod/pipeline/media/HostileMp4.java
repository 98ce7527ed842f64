package com.aiprod.pipeline.media;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.mp4parser.boxes.sampleentry.AbstractSampleEntry;

/**
 * Writes MP4 boxes byte by byte, for a corpus of hostile files made by code (no binary blobs): a
 * one-video-track movie whose tables can be set to lie, and the bombs of issue 11.
 *
 * <p>{@link #main} parses every bomb and prints one line per file; a forked small-heap JVM runs it
 * to show the refusals allocate little.
 */
public final class HostileMp4 {
  private HostileMp4() {}

  public static byte[] box(String type, byte[]... payload) {
    byte[] body = concat(payload);
    return concat(u32(8L + body.length), ascii(type), body);
  }

  /** A box with a 64-bit size field. */
  public static byte[] largeBox(String type, byte[]... payload) {
    byte[] body = concat(payload);
    return concat(u32(1), ascii(type), u64(16L + body.length), body);
  }

  /** A box whose header claims {@code claimedSize} whatever its payload. */
  public static byte[] lyingBox(String type, long claimedSize, byte[]... payload) {
    return concat(u32(claimedSize), ascii(type), concat(payload));
  }

  public static byte[] fullBox(String type, int version, byte[]... payload) {
    return box(type, concat(new byte[] {(byte) version, 0, 0, 0}), concat(payload));
  }

  public static byte[] u32(long v) {
    return ByteBuffer.allocate(4).putInt((int) v).array();
  }

  public static byte[] u16(int v) {
    return ByteBuffer.allocate(2).putShort((short) v).array();
  }

  public static byte[] u64(long v) {
    return ByteBuffer.allocate(8).putLong(v).array();
  }

  public static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  public static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  public static byte[] ftyp() {
    return box("ftyp", ascii("isom"), u32(512), ascii("isomiso2avc1mp41"));
  }

  /** The bytes of a parsed sample entry (e.g. a real {@code avc1} with its {@code avcC}). */
  public static byte[] entryBytes(AbstractSampleEntry entry) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    entry.getBox(Channels.newChannel(out));
    return out.toByteArray();
  }

  /**
   * A movie with one video track, {@code moov} before {@code mdat}; by default its tables describe
   * the {@code mdat} payload truthfully, one sample per chunk. Each setter makes one table lie.
   */
  public static final class Movie {
    private byte[] sampleEntry = defaultAvc1(64, 64);
    private long[] sizes = {100, 100, 100};
    private long constantSize = 0;
    private long sampleCount = -1;
    private long[] chunkOffsets; // relative to the mdat payload unless absolute
    private boolean absoluteOffsets;
    private int samplesPerChunk = 1;
    private long[] stts; // pairs (count, delta); default: every sample 1/24 s
    private byte[] mdatPayload;
    private byte[] extraMoovBox = new byte[0];
    private byte[] extraStblBox = new byte[0];
    private long sync = -1;

    public Movie sampleEntry(byte[] entry) {
      this.sampleEntry = entry;
      return this;
    }

    /** Sample sizes listed in {@code stsz}. */
    public Movie sizes(long... sizes) {
      this.sizes = sizes;
      this.constantSize = 0;
      return this;
    }

    /** One size for every sample, {@code count} samples ({@code stsz} without a table). */
    public Movie constantSize(long size, long count) {
      this.constantSize = size;
      this.sampleCount = count;
      this.chunkOffsets = new long[] {0};
      this.samplesPerChunk = (int) Math.min(count, Integer.MAX_VALUE);
      return this;
    }

    /** Chunk offsets relative to the start of the {@code mdat} payload. */
    public Movie chunkOffsets(long... offsets) {
      this.chunkOffsets = offsets;
      this.absoluteOffsets = false;
      return this;
    }

    /** Chunk offsets from the start of the file. */
    public Movie absoluteChunkOffsets(long... offsets) {
      this.chunkOffsets = offsets;
      this.absoluteOffsets = true;
      return this;
    }

    public Movie samplesPerChunk(int n) {
      this.samplesPerChunk = n;
      return this;
    }

    /** {@code stts} as (count, delta) pairs. */
    public Movie stts(long... pairs) {
      this.stts = pairs;
      return this;
    }

    public Movie mdatPayload(byte[] payload) {
      this.mdatPayload = payload;
      return this;
    }

    public Movie extraMoovBox(byte[] box) {
      this.extraMoovBox = box;
      return this;
    }

    public Movie extraStblBox(byte[] box) {
      this.extraStblBox = box;
      return this;
    }

    /** Only this 1-based sample is a sync sample ({@code stss}). */
    public Movie onlySync(long sample) {
      this.sync = sample;
      return this;
    }

    public byte[] build() {
      long count = sampleCount >= 0 ? sampleCount : sizes.length;
      byte[] payload = mdatPayload;
      if (payload == null) {
        long total = 0;
        for (long s : sizes) {
          total += s;
        }
        payload = new byte[(int) Math.min(total, 1 << 20)];
        new Random(1).nextBytes(payload);
      }
      byte[] ftyp = ftyp();
      long[] relative = chunkOffsets;
      if (relative == null) {
        int chunks = (int) Math.max(1, (count + samplesPerChunk - 1) / samplesPerChunk);
        relative = new long[chunks];
        long at = 0;
        for (int c = 0; c < chunks; c++) {
          relative[c] = at;
          for (int i = 0; i < samplesPerChunk && c * samplesPerChunk + i < sizes.length; i++) {
            at += sizes[c * samplesPerChunk + i];
          }
        }
      }
      byte[] moov = moov(new long[relative.length], count);
      long mdatStart = ftyp.length + moov.length + 8;
      long[] absolute = new long[relative.length];
      for (int i = 0; i < relative.length; i++) {
        absolute[i] = absoluteOffsets ? relative[i] : mdatStart + relative[i];
      }
      moov = moov(absolute, count);
      return concat(ftyp, moov, box("mdat", payload));
    }

    private long mediaDuration(long count) {
      if (stts == null) {
        return count * 1000;
      }
      long sum = 0;
      for (int i = 0; i + 1 < stts.length; i += 2) {
        sum += stts[i] * stts[i + 1];
      }
      return sum;
    }

    private byte[] moov(long[] offsets, long count) {
      byte[] sttsBox;
      if (stts != null) {
        byte[][] entries = new byte[stts.length][];
        for (int i = 0; i < stts.length; i++) {
          entries[i] = u32(stts[i]);
        }
        sttsBox = fullBox("stts", 0, u32(stts.length / 2), concat(entries));
      } else {
        sttsBox = fullBox("stts", 0, u32(1), u32(count), u32(1000));
      }
      byte[] stsz;
      if (constantSize > 0) {
        stsz = fullBox("stsz", 0, u32(constantSize), u32(count));
      } else {
        byte[][] entries = new byte[sizes.length][];
        for (int i = 0; i < sizes.length; i++) {
          entries[i] = u32(sizes[i]);
        }
        stsz = fullBox("stsz", 0, u32(0), u32(count), concat(entries));
      }
      byte[][] stcoEntries = new byte[offsets.length][];
      for (int i = 0; i < offsets.length; i++) {
        stcoEntries[i] = u32(offsets[i]);
      }
      byte[] stss = sync > 0 ? fullBox("stss", 0, u32(1), u32(sync)) : new byte[0];
      byte[] stbl =
          box(
              "stbl",
              fullBox("stsd", 0, u32(1), sampleEntry),
              sttsBox,
              stss,
              fullBox("stsc", 0, u32(1), u32(1), u32(samplesPerChunk), u32(1)),
              stsz,
              fullBox("stco", 0, u32(offsets.length), concat(stcoEntries)),
              extraStblBox);
      byte[] minf =
          box(
              "minf",
              fullBox("vmhd", 0, new byte[8]),
              box("dinf", fullBox("dref", 0, u32(1), fullBox("url ", 1))),
              stbl);
      byte[] mdia =
          box(
              "mdia",
              fullBox(
                  "mdhd",
                  0,
                  u32(0),
                  u32(0),
                  u32(24000),
                  u32(mediaDuration(count)),
                  u16(0x55c4),
                  u16(0)),
              fullBox("hdlr", 0, u32(0), ascii("vide"), new byte[12], ascii("Video\0")),
              minf);
      byte[] tkhd =
          fullBox(
              "tkhd",
              0,
              u32(0),
              u32(0),
              u32(1),
              u32(0),
              u32(count),
              new byte[8],
              u16(0),
              u16(0),
              u16(0),
              u16(0),
              identity(),
              u32(64 << 16),
              u32(64 << 16));
      byte[] mvhd =
          fullBox(
              "mvhd",
              0,
              u32(0),
              u32(0),
              u32(1000),
              u32(count * 42),
              u32(0x00010000),
              u16(0x0100),
              new byte[10],
              identity(),
              new byte[24],
              u32(2));
      return box("moov", mvhd, box("trak", tkhd, mdia), extraMoovBox);
    }
  }

  static byte[] identity() {
    return concat(
        u32(0x00010000),
        u32(0),
        u32(0),
        u32(0),
        u32(0x00010000),
        u32(0),
        u32(0),
        u32(0),
        u32(0x40000000));
  }

  /** An {@code avc1} entry whose {@code avcC} holds a made-up SPS/PPS. */
  public static byte[] defaultAvc1(int width, int height) {
    byte[] avcC =
        box(
            "avcC",
            new byte[] {1, 66, 0, 30, (byte) 0xFF, (byte) 0xE1},
            u16(4),
            new byte[] {0x67, 66, 0, 30},
            new byte[] {1},
            u16(2),
            new byte[] {0x68, (byte) 0xCE});
    return box(
        "avc1",
        new byte[6],
        u16(1),
        new byte[16],
        u16(width),
        u16(height),
        u32(0x00480000),
        u32(0x00480000),
        u32(0),
        u16(1),
        new byte[32],
        u16(0x18),
        u16(0xFFFF),
        avcC);
  }

  /** An {@code avc1} entry with an {@code avcC} holding these SPS and PPS NAL units. */
  public static byte[] avc1(int width, int height, byte[] sps, byte[] pps) {
    byte[] avcC =
        box(
            "avcC",
            new byte[] {1, sps[1], sps[2], sps[3], (byte) 0xFF, (byte) 0xE1},
            u16(sps.length),
            sps,
            new byte[] {1},
            u16(pps.length),
            pps);
    return box(
        "avc1",
        new byte[6],
        u16(1),
        new byte[16],
        u16(width),
        u16(height),
        u32(0x00480000),
        u32(0x00480000),
        u32(0),
        u16(1),
        new byte[32],
        u16(0x18),
        u16(0xFFFF),
        avcC);
  }

  /** Writes H.264 syntax elements (no emulation prevention: tests keep values small). */
  public static final class BitWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private int current;
    private int bits;

    public BitWriter u(int n, long value) {
      for (int i = n - 1; i >= 0; i--) {
        current = (current << 1) | (int) ((value >> i) & 1);
        if (++bits == 8) {
          out.write(current);
          current = 0;
          bits = 0;
        }
      }
      return this;
    }

    public BitWriter ue(long value) {
      long v = value + 1;
      int len = 64 - Long.numberOfLeadingZeros(v);
      u(len - 1, 0);
      return u(len, v);
    }

    public BitWriter se(long value) {
      return ue(value <= 0 ? -2 * value : 2 * value - 1);
    }

    /** The NAL unit: header byte, the bits, the RBSP stop bit and alignment. */
    public byte[] nal(int header) {
      u(1, 1);
      while (bits != 0) {
        u(1, 0);
      }
      return concat(new byte[] {(byte) header}, out.toByteArray());
    }
  }

  /** A baseline SPS (id 0, frame_num and POC lsb of 4 bits) for a picture of these macroblocks. */
  public static byte[] sps(long widthMbsMinus1, long heightMbsMinus1) {
    return new BitWriter()
        .u(8, 66)
        .u(8, 0)
        .u(8, 30)
        .ue(0)
        .ue(0)
        .ue(0)
        .ue(0)
        .ue(1)
        .u(1, 0)
        .ue(widthMbsMinus1)
        .ue(heightMbsMinus1)
        .u(1, 1)
        .u(1, 1)
        .u(1, 0)
        .u(1, 0)
        .nal(0x67);
  }

  /** A PPS (id 0 on SPS 0, CAVLC, no slice groups, one reference). */
  public static byte[] pps() {
    return new BitWriter()
        .ue(0)
        .ue(0)
        .u(1, 0)
        .u(1, 0)
        .ue(0)
        .ue(0)
        .ue(0)
        .u(1, 0)
        .u(2, 0)
        .se(0)
        .se(0)
        .se(0)
        .u(1, 1)
        .u(1, 0)
        .u(1, 0)
        .nal(0x68);
  }

  /** A sample of one NAL unit with a 4-byte length prefix. */
  public static byte[] sample(byte[] nal) {
    return concat(u32(nal.length), nal);
  }

  /** {@code levels} boxes of {@code type}, each inside the previous one, around a {@code free}. */
  public static byte[] nested(String type, int levels) {
    ByteBuffer out = ByteBuffer.allocate(8 * (levels + 1));
    for (int i = 0; i < levels; i++) {
      out.putInt(8 * (levels + 1 - i)).put(ascii(type));
    }
    out.putInt(8).put(ascii("free"));
    return out.array();
  }

  /** The bombs of issue 11, by name; each must be refused by {@link Mp4Reader}. */
  public static Map<String, byte[]> bombs() {
    Map<String, byte[]> bombs = new LinkedHashMap<>();
    bombs.put(
        "huge sample count",
        new Movie()
            .constantSize(1, 268_435_456L)
            .stts(268_435_456L, 1)
            .mdatPayload(new byte[64])
            .build());
    bombs.put(
        "huge box in moov",
        new Movie().extraMoovBox(lyingBox("udta", 0x7FFF_FFF0L, new byte[32])).build());
    bombs.put(
        "huge table count",
        new Movie().extraStblBox(fullBox("ctts", 0, u32(0x7FFF_FFFFL), u32(1), u32(0))).build());
    bombs.put(
        "overlapping samples",
        new Movie()
            .sizes(4000, 4000, 4000)
            .chunkOffsets(0, 0, 0)
            .mdatPayload(new byte[4000])
            .build());
    byte[] whole = new Movie().build();
    bombs.put("truncated mdat", Arrays.copyOf(whole, whole.length - 150));
    byte[] garbage = new byte[600];
    new Random(7).nextBytes(garbage);
    bombs.put("ftyp and garbage", concat(ftyp(), garbage));
    bombs.put("chunk offset beyond EOF", new Movie().chunkOffsets(0, 100, 5_000_000).build());
    bombs.put("sample outside mdat", new Movie().absoluteChunkOffsets(0, 100, 200).build());
    bombs.put("deep nesting", new Movie().extraMoovBox(nested("udta", 10_000)).build());
    List<byte[]> many = new ArrayList<>();
    many.add(ftyp());
    for (int i = 0; i < 150_000; i++) {
      many.add(box("free"));
    }
    bombs.put("too many boxes", concat(many.toArray(new byte[0][])));
    long[] ones = new long[2000];
    Arrays.fill(ones, 1);
    bombs.put("frames faster than 480 fps", new Movie().sizes(ones).stts(2000, 1).build());
    return bombs;
  }

  /** Parses every bomb; prints {@code refused <name>: <reason>} or {@code ACCEPTED <name>}. */
  public static void main(String[] args) {
    int accepted = 0;
    for (Map.Entry<String, byte[]> bomb : bombs().entrySet()) {
      try {
        Mp4Reader.read(bomb.getValue());
        System.out.println("ACCEPTED " + bomb.getKey());
        accepted++;
      } catch (IOException e) {
        System.out.println("refused " + bomb.getKey() + ": " + e.getMessage());
      }
    }
    System.exit(accepted == 0 ? 0 : 1);
  }
}
