package com.aiprod.pipeline.media;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import org.mp4parser.Box;
import org.mp4parser.IsoFile;
import org.mp4parser.PropertyBoxParserImpl;
import org.mp4parser.boxes.iso14496.part12.MediaHeaderBox;
import org.mp4parser.boxes.iso14496.part12.MovieHeaderBox;
import org.mp4parser.boxes.iso14496.part12.SampleDescriptionBox;
import org.mp4parser.boxes.iso14496.part12.TrackHeaderBox;
import org.mp4parser.boxes.sampleentry.AbstractSampleEntry;
import org.mp4parser.boxes.sampleentry.AudioSampleEntry;
import org.mp4parser.boxes.sampleentry.VisualSampleEntry;
import org.mp4parser.support.AbstractBox;

/**
 * Reads the structure of a (non-fragmented) MP4 file as untrusted input (DESIGN §13), for {@link
 * Mp4Inspector}, {@link VideoFrames} and the concatenator.
 *
 * <p>Every allocation is bounded by the file itself: box sizes are checked to lie within their
 * parent and the file before anything is read; the {@code moov} box (at most {@value
 * #MAX_MOOV_BYTES} bytes) is walked by hand, and the sample tables are decoded here with every
 * entry count checked against the bytes its box holds. mp4parser only parses boxes already known to
 * lie within their parent ({@code mvhd}, {@code tkhd}, {@code mdhd} and the {@code stsd} of audio
 * and video tracks, whose sample entries may only hold leaf boxes). Sample counts are checked
 * against the file length, every sample's byte range must lie inside an {@code mdat} box, and no
 * two samples may overlap. Caps: {@value #MAX_BOXES} boxes, nesting depth {@value #MAX_DEPTH},
 * {@value #MAX_TRACKS} tracks, {@value #MAX_SAMPLES} samples per file, {@value #MAX_FPS} frames per
 * second of video.
 *
 * <p>Every problem surfaces as an {@link IOException} whose message names the check (e.g. "stsz
 * claims 268435456 samples in a 671-byte file") and never a file path: it may reach a tenant.
 */
public final class Mp4Reader {
  /** Largest {@code moov} box read into memory (an hour of 60 fps video needs ~4 MB). */
  public static final long MAX_MOOV_BYTES = 64L << 20;

  /** Most boxes walked in one file (top level and inside {@code moov}). */
  public static final int MAX_BOXES = 100_000;

  /** Deepest box nesting walked inside {@code moov} ({@code moov} itself is level 1). */
  public static final int MAX_DEPTH = 16;

  /** Most tracks in one movie. */
  public static final int MAX_TRACKS = 64;

  /** Most samples in one file, all tracks together (2^20). */
  public static final int MAX_SAMPLES = 1 << 20;

  /** Highest frame rate a video track may claim (samples over the duration of its samples). */
  public static final int MAX_FPS = 480;

  /** Largest file whose sample ranges are checked (2^43 bytes = 8 TiB). */
  private static final long MAX_FILE_BYTES = 1L << 43;

  private static final Set<String> FIRST_BOX_TYPES =
      Set.of("ftyp", "moov", "mdat", "free", "skip", "wide", "pdin", "styp", "uuid", "junk");

  /** Boxes whose payload is only child boxes, walked to check their structure. */
  private static final Set<String> CONTAINERS =
      Set.of(
          "moov", "trak", "mdia", "minf", "stbl", "dinf", "edts", "udta", "mvex", "tref", "moof",
          "traf", "mfra", "sinf", "schi", "tapt", "gmhd", "clip", "matt");

  private Mp4Reader() {}

  /** Reads the structure of the MP4 file at {@code file}. */
  public static Movie read(java.nio.file.Path file) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      return read(channel);
    }
  }

  /** Reads the structure of the MP4 behind {@code channel} (its position is not kept). */
  public static Movie read(SeekableByteChannel channel) throws IOException {
    return read(new ChannelSource(channel));
  }

  /** Reads the structure of an MP4 held in memory. */
  public static Movie read(byte[] bytes) throws IOException {
    return read(new ArraySource(bytes));
  }

  /** Reads {@code length} bytes at {@code position} of {@code channel} (bounded by the caller). */
  static ByteBuffer readFully(SeekableByteChannel channel, long position, int length)
      throws IOException {
    return new ChannelSource(channel).read(position, length);
  }

  private static Movie read(Source source) throws IOException {
    long size = source.size();
    if (size < 8) {
      throw new IOException("not an MP4: the file has only " + size + " bytes");
    }
    if (size > MAX_FILE_BYTES) {
      throw new IOException("unsupported MP4: the file has " + size + " bytes");
    }
    Budget budget = new Budget();
    long moovOffset = -1;
    long moovSize = 0;
    int moovHeader = 0;
    List<long[]> mdats = new ArrayList<>();
    long pos = 0;
    while (pos < size) {
      budget.count();
      if (size - pos < 8) {
        throw new IOException("truncated MP4: the file ends inside a box header at offset " + pos);
      }
      ByteBuffer header = source.read(pos, (int) Math.min(16, size - pos));
      long boxSize = header.getInt() & 0xFFFFFFFFL;
      String type = fourCc(header);
      if (type == null || (pos == 0 && !FIRST_BOX_TYPES.contains(type))) {
        throw new IOException(
            "not an MP4: no valid box at offset "
                + pos
                + (type == null ? "" : " (type '" + type + "')"));
      }
      int headerSize = 8;
      if (boxSize == 1) {
        if (header.remaining() < 8) {
          throw new IOException("truncated MP4: the file ends inside the '" + type + "' header");
        }
        boxSize = header.getLong();
        headerSize = 16;
      } else if (boxSize == 0) {
        boxSize = size - pos;
      }
      if (boxSize < headerSize) {
        throw new IOException(
            "corrupt MP4: box '" + type + "' at offset " + pos + " has size " + boxSize);
      }
      if (boxSize > size - pos) {
        throw new IOException(
            "truncated MP4: box '"
                + type
                + "' at offset "
                + pos
                + " claims "
                + boxSize
                + " bytes but only "
                + (size - pos)
                + " remain in the "
                + size
                + "-byte file");
      }
      switch (type) {
        case "moov":
          if (moovOffset >= 0) {
            throw new IOException("corrupt MP4: the file has more than one 'moov' box");
          }
          moovOffset = pos;
          moovSize = boxSize;
          moovHeader = headerSize;
          break;
        case "mdat":
          mdats.add(new long[] {pos + headerSize, pos + boxSize});
          break;
        case "moof":
          throw new IOException("unsupported MP4: the file is fragmented ('moof')");
        default:
          break;
      }
      pos += boxSize;
    }
    if (moovOffset < 0) {
      throw new IOException("not a playable MP4: the file has no 'moov' box");
    }
    if (moovSize > MAX_MOOV_BYTES) {
      throw new IOException(
          "unsupported MP4: its 'moov' box has "
              + moovSize
              + " bytes, more than the limit of "
              + MAX_MOOV_BYTES);
    }
    long mdatBytes = 0;
    for (long[] range : mdats) {
      mdatBytes += range[1] - range[0];
    }
    ByteBuffer moovBytes = source.read(moovOffset, (int) moovSize);
    Node moov = new Node("moov", 0, moovHeader, (int) moovSize, 1);
    budget.walk(moovBytes, moov);
    List<Node> children = children(moovBytes, moov);
    try {
      return readMovie(moovBytes, children, new Sizes(size, mdatBytes, mdats), budget);
    } catch (RuntimeException e) {
      throw new IOException("corrupt MP4: the 'moov' box could not be parsed: " + e, e);
    }
  }

  private static Movie readMovie(ByteBuffer moov, List<Node> children, Sizes file, Budget budget)
      throws IOException {
    MovieHeaderBox mvhd = null;
    List<Node> traks = new ArrayList<>();
    for (Node child : children) {
      switch (child.type) {
        case "mvhd":
          if (mvhd != null) {
            throw new IOException("corrupt MP4: more than one 'mvhd'");
          }
          mvhd = parse(moov, child, MovieHeaderBox.class);
          break;
        case "trak":
          traks.add(child);
          break;
        case "mvex":
          throw new IOException("unsupported MP4: the file is fragmented ('mvex')");
        default:
          break;
      }
    }
    if (mvhd == null || mvhd.getTimescale() <= 0) {
      throw new IOException("corrupt MP4: no valid 'mvhd'");
    }
    if (traks.size() > MAX_TRACKS) {
      throw new IOException(
          "unsupported MP4: " + traks.size() + " tracks, more than the limit of " + MAX_TRACKS);
    }
    List<Track> tracks = new ArrayList<>();
    for (int t = 0; t < traks.size(); t++) {
      tracks.add(readTrack(moov, traks.get(t), t + 1, file, budget));
    }
    checkSampleRanges(tracks, file);
    return new Movie(file.size, mvhd, tracks);
  }

  private static Track readTrack(ByteBuffer moov, Node trak, int number, Sizes file, Budget budget)
      throws IOException {
    String where = "track " + number;
    List<Node> trakChildren = children(moov, trak);
    Node tkhdNode = only(trakChildren, "tkhd", where);
    Node mdia = only(trakChildren, "mdia", where);
    List<Node> mdiaChildren = children(moov, mdia);
    Node mdhdNode = only(mdiaChildren, "mdhd", where);
    Node hdlr = only(mdiaChildren, "hdlr", where);
    Node minf = only(mdiaChildren, "minf", where);
    Node stbl = only(children(moov, minf), "stbl", where);
    TrackHeaderBox tkhd = parse(moov, tkhdNode, TrackHeaderBox.class);
    MediaHeaderBox mdhd = parse(moov, mdhdNode, MediaHeaderBox.class);
    if (mdhd.getTimescale() <= 0) {
      throw new IOException(
          "corrupt MP4: " + where + " has media timescale " + mdhd.getTimescale());
    }
    Table hdlrTable = new Table(moov, hdlr, where);
    hdlrTable.need(12);
    String handler = hdlrTable.fourCcAt(8);

    List<Node> stblChildren = children(moov, stbl);
    Node stsd = only(stblChildren, "stsd", where);
    Node stsz = optional(stblChildren, "stsz", where);
    Node stts = only(stblChildren, "stts", where);
    Node stsc = only(stblChildren, "stsc", where);
    Node stco = optional(stblChildren, "stco", where);
    Node co64 = optional(stblChildren, "co64", where);
    if (stsz == null) {
      if (optional(stblChildren, "stz2", where) != null) {
        throw new IOException("unsupported MP4: " + where + " uses compact sample sizes (stz2)");
      }
      throw new IOException("corrupt MP4: " + where + " has no 'stsz'");
    }
    if ((stco == null) == (co64 == null)) {
      throw new IOException("corrupt MP4: " + where + " needs exactly one of 'stco' and 'co64'");
    }

    boolean media = "vide".equals(handler) || "soun".equals(handler);
    List<AbstractSampleEntry> entries = new ArrayList<>();
    int entryCount = sampleEntries(moov, stsd, where, media, entries, budget);

    long[] sizes = sampleSizes(new Table(moov, stsz, where + " stsz"), file, budget);
    int count = sizes.length;
    long[] durations = durations(new Table(moov, stts, where + " stts"), count);
    Node ctts = optional(stblChildren, "ctts", where);
    int[] compositionOffsets =
        ctts == null ? null : compositionOffsets(new Table(moov, ctts, where + " ctts"), count);
    Node stss = optional(stblChildren, "stss", where);
    boolean[] sync =
        stss == null ? null : syncSamples(new Table(moov, stss, where + " stss"), count);
    long[] chunkOffsets =
        chunkOffsets(
            stco != null
                ? new Table(moov, stco, where + " stco")
                : new Table(moov, co64, where + " co64"),
            stco == null,
            file);
    long[] offsets = new long[count];
    int[] descriptionIndex = new int[count];
    placeSamples(
        new Table(moov, stsc, where + " stsc"),
        chunkOffsets,
        sizes,
        entryCount,
        offsets,
        descriptionIndex);

    if ("vide".equals(handler) && count > 1) {
      long units = 0;
      for (long d : durations) {
        units += d;
      }
      double seconds = (double) Math.max(units, mdhd.getDuration()) / mdhd.getTimescale();
      if (count > seconds * MAX_FPS + 1) {
        throw new IOException(
            "corrupt MP4: "
                + where
                + " claims "
                + count
                + " frames in "
                + String.format(java.util.Locale.ROOT, "%.3f", seconds)
                + " s (more than "
                + MAX_FPS
                + " per second)");
      }
    }
    return new Track(
        number,
        tkhd,
        handler,
        mdhd.getTimescale(),
        mdhd.getDuration(),
        Collections.unmodifiableList(entries),
        offsets,
        sizes,
        durations,
        compositionOffsets,
        sync,
        descriptionIndex);
  }

  /**
   * Checks {@code stsd} and returns its entry count; for audio and video tracks parses the entries
   * with mp4parser into {@code out} once every box it will read is known to lie within its parent.
   */
  private static int sampleEntries(
      ByteBuffer moov,
      Node stsd,
      String where,
      boolean media,
      List<AbstractSampleEntry> out,
      Budget budget)
      throws IOException {
    Table table = new Table(moov, stsd, where + " stsd");
    long declared = table.u32(4);
    Node entriesParent = new Node("stsd", stsd.start, stsd.payload + 8, stsd.end, stsd.depth);
    List<Node> entryNodes = children(moov, entriesParent);
    if (entryNodes.isEmpty()) {
      throw new IOException("corrupt MP4: " + where + " has no sample description");
    }
    if (declared != entryNodes.size()) {
      throw new IOException(
          "corrupt MP4: "
              + where
              + " stsd declares "
              + declared
              + " entries but holds "
              + entryNodes.size());
    }
    if (!media) {
      return entryNodes.size();
    }
    PropertyBoxParserImpl factory = new PropertyBoxParserImpl();
    for (Node entry : entryNodes) {
      Object made = factory.createBox(entry.type, null, "stsd");
      int fixed;
      if (made instanceof VisualSampleEntry) {
        fixed = 78;
      } else if (made instanceof AudioSampleEntry) {
        Table e = new Table(moov, entry, where + " sample entry");
        e.need(28);
        int soundVersion = e.u16(8);
        fixed = 28 + (soundVersion == 1 ? 16 : soundVersion == 2 ? 36 : 0);
      } else {
        throw new IOException(
            "unsupported MP4: " + where + " has sample entry '" + entry.type + "'");
      }
      if (entry.end - entry.payload < fixed || "owma".equals(entry.type)) {
        throw new IOException(
            "corrupt MP4: " + where + " sample entry '" + entry.type + "' is too short");
      }
      Node boxes = new Node(entry.type, entry.start, entry.payload + fixed, entry.end, entry.depth);
      for (Node child : children(moov, boxes)) {
        Object childBox = factory.createBox(child.type, null, entry.type);
        if (!(childBox instanceof AbstractBox) || "uuid".equals(child.type)) {
          throw new IOException(
              "unsupported MP4: "
                  + where
                  + " sample entry '"
                  + entry.type
                  + "' holds box '"
                  + child.type
                  + "'");
        }
      }
    }
    SampleDescriptionBox parsed = parse(moov, stsd, SampleDescriptionBox.class);
    for (Box box : parsed.getBoxes()) {
      AbstractSampleEntry entry = (AbstractSampleEntry) box;
      for (Box child : entry.getBoxes()) {
        // Parse now (bounded by the box), so a broken child is reported here, not when written.
        ((AbstractBox) child).parseDetails();
      }
      out.add(entry);
    }
    if (out.size() != entryNodes.size()) {
      throw new IOException("corrupt MP4: " + where + " stsd could not be parsed");
    }
    return out.size();
  }

  private static long[] sampleSizes(Table stsz, Sizes file, Budget budget) throws IOException {
    long constant = stsz.u32(4);
    long count = stsz.u32(8);
    if (count > file.size) {
      throw new IOException(
          "corrupt MP4: "
              + stsz.name
              + " claims "
              + count
              + " samples in a "
              + file.size
              + "-byte file");
    }
    if (constant > 0 && count > 0 && constant > file.mdatBytes / count) {
      throw new IOException(
          "corrupt MP4: "
              + stsz.name
              + " claims "
              + count
              + " samples of "
              + constant
              + " bytes but the file holds "
              + file.mdatBytes
              + " bytes of media data");
    }
    if (constant == 0) {
      stsz.entries(12, count, 4);
    }
    budget.samples(count, stsz.name);
    long[] sizes = new long[(int) count];
    if (constant > 0) {
      Arrays.fill(sizes, constant);
    } else {
      for (int i = 0; i < count; i++) {
        sizes[i] = stsz.u32(12 + 4L * i);
      }
    }
    return sizes;
  }

  private static long[] durations(Table stts, int count) throws IOException {
    long entries = stts.u32(4);
    stts.entries(8, entries, 8);
    long[] durations = new long[count];
    int n = 0;
    for (long e = 0; e < entries; e++) {
      long samples = stts.u32(8 + 8 * e);
      long delta = stts.u32(12 + 8 * e);
      if (samples > count - n) {
        throw new IOException(
            "corrupt MP4: " + stts.name + " describes more samples than the " + count + " of stsz");
      }
      Arrays.fill(durations, n, n + (int) samples, delta);
      n += (int) samples;
    }
    if (n != count) {
      throw new IOException(
          "corrupt MP4: " + stts.name + " covers " + n + " of " + count + " samples");
    }
    return durations;
  }

  private static int[] compositionOffsets(Table ctts, int count) throws IOException {
    long entries = ctts.u32(4);
    ctts.entries(8, entries, 8);
    int[] offsets = new int[count];
    int n = 0;
    for (long e = 0; e < entries; e++) {
      long samples = ctts.u32(8 + 8 * e);
      int offset = (int) ctts.u32(12 + 8 * e);
      if (samples > count - n) {
        throw new IOException(
            "corrupt MP4: " + ctts.name + " describes more samples than the " + count + " of stsz");
      }
      Arrays.fill(offsets, n, n + (int) samples, offset);
      n += (int) samples;
    }
    return offsets;
  }

  private static boolean[] syncSamples(Table stss, int count) throws IOException {
    long entries = stss.u32(4);
    stss.entries(8, entries, 4);
    boolean[] sync = new boolean[count];
    for (long e = 0; e < entries; e++) {
      long number = stss.u32(8 + 4 * e);
      if (number < 1 || number > count) {
        throw new IOException(
            "corrupt MP4: " + stss.name + " names sample " + number + " of " + count);
      }
      sync[(int) number - 1] = true;
    }
    return sync;
  }

  private static long[] chunkOffsets(Table table, boolean wide, Sizes file) throws IOException {
    long entries = table.u32(4);
    int width = wide ? 8 : 4;
    table.entries(8, entries, width);
    long[] offsets = new long[(int) entries];
    for (int i = 0; i < entries; i++) {
      long offset = wide ? table.u64(8 + 8L * i) : table.u32(8 + 4L * i);
      if (offset < 0 || offset >= file.size) {
        throw new IOException(
            "corrupt MP4: "
                + table.name
                + " chunk "
                + (i + 1)
                + " offset "
                + Long.toUnsignedString(offset)
                + " lies beyond the "
                + file.size
                + "-byte file");
      }
      offsets[i] = offset;
    }
    return offsets;
  }

  private static void placeSamples(
      Table stsc,
      long[] chunkOffsets,
      long[] sizes,
      int entryCount,
      long[] offsets,
      int[] descriptionIndex)
      throws IOException {
    long entries = stsc.u32(4);
    stsc.entries(8, entries, 12);
    int count = sizes.length;
    int sample = 0;
    long previousFirst = 0;
    for (long e = 0; e < entries && sample < count; e++) {
      long firstChunk = stsc.u32(8 + 12 * e);
      long perChunk = stsc.u32(12 + 12 * e);
      long sdi = stsc.u32(16 + 12 * e);
      long endChunk = e + 1 < entries ? stsc.u32(8 + 12 * (e + 1)) : chunkOffsets.length + 1L;
      if (firstChunk <= previousFirst
          || endChunk < firstChunk
          || endChunk > chunkOffsets.length + 1L
          || perChunk < 1
          || sdi < 1
          || sdi > entryCount) {
        throw new IOException("corrupt MP4: " + stsc.name + " entry " + (e + 1) + " is invalid");
      }
      previousFirst = firstChunk;
      for (long chunk = firstChunk; chunk < endChunk && sample < count; chunk++) {
        long offset = chunkOffsets[(int) chunk - 1];
        for (long i = 0; i < perChunk && sample < count; i++) {
          offsets[sample] = offset;
          descriptionIndex[sample] = (int) sdi - 1;
          offset += sizes[sample];
          sample++;
        }
      }
    }
    if (sample != count) {
      throw new IOException(
          "corrupt MP4: " + stsc.name + " chunks hold " + sample + " of " + count + " samples");
    }
  }

  /** Every sample lies inside an {@code mdat} payload and no two samples overlap. */
  private static void checkSampleRanges(List<Track> tracks, Sizes file) throws IOException {
    int total = 0;
    for (Track track : tracks) {
      total += track.sampleCount();
    }
    long[] packed = new long[total];
    long[] ends = new long[total];
    int[] trackOf = new int[total];
    int n = 0;
    for (int t = 0; t < tracks.size(); t++) {
      Track track = tracks.get(t);
      for (int s = 0; s < track.sampleCount(); s++) {
        long start = track.offset(s);
        long end = start + track.size(s);
        if (end > file.size) {
          throw new IOException(
              "truncated MP4: track "
                  + track.number()
                  + " sample "
                  + (s + 1)
                  + " ends at byte "
                  + end
                  + ", beyond the "
                  + file.size
                  + "-byte file");
        }
        packed[n] = (start << 20) | n;
        ends[n] = end;
        trackOf[n] = t;
        n++;
      }
    }
    Arrays.sort(packed);
    List<long[]> mdats = file.mdats;
    int m = 0;
    long lastEnd = -1;
    int lastIndex = -1;
    for (long key : packed) {
      int i = (int) (key & ((1 << 20) - 1));
      long start = key >>> 20;
      long end = ends[i];
      if (end == start) {
        continue;
      }
      while (m < mdats.size() && mdats.get(m)[1] <= start) {
        m++;
      }
      if (m == mdats.size() || start < mdats.get(m)[0] || end > mdats.get(m)[1]) {
        throw new IOException(
            "corrupt MP4: a sample of track "
                + tracks.get(trackOf[i]).number()
                + " (bytes "
                + start
                + "-"
                + end
                + ") lies outside the media data ('mdat')");
      }
      if (start < lastEnd) {
        throw new IOException(
            "corrupt MP4: sample byte ranges overlap (tracks "
                + tracks.get(trackOf[lastIndex]).number()
                + " and "
                + tracks.get(trackOf[i]).number()
                + ", at bytes "
                + start
                + "-"
                + Math.min(end, lastEnd)
                + ")");
      }
      lastEnd = end;
      lastIndex = i;
    }
  }

  private static Node only(List<Node> nodes, String type, String where) throws IOException {
    Node found = optional(nodes, type, where);
    if (found == null) {
      throw new IOException("corrupt MP4: " + where + " has no '" + type + "'");
    }
    return found;
  }

  private static Node optional(List<Node> nodes, String type, String where) throws IOException {
    Node found = null;
    for (Node node : nodes) {
      if (node.type.equals(type)) {
        if (found != null) {
          throw new IOException("corrupt MP4: " + where + " has more than one '" + type + "'");
        }
        found = node;
      }
    }
    return found;
  }

  /** Parses one box already known to lie within its parent with mp4parser. */
  private static <T> T parse(ByteBuffer moov, Node node, Class<T> type) throws IOException {
    try (IsoFile iso =
        new IsoFile(
            Channels.newChannel(
                new ByteArrayInputStream(
                    moov.array(), moov.arrayOffset() + node.start, node.end - node.start)))) {
      List<Box> boxes = iso.getBoxes();
      if (boxes.size() != 1 || !type.isInstance(boxes.get(0))) {
        throw new IOException("corrupt MP4: '" + node.type + "' could not be parsed");
      }
      return type.cast(boxes.get(0));
    }
  }

  private static String fourCc(ByteBuffer buffer) {
    byte[] bytes = new byte[4];
    buffer.get(bytes);
    for (byte b : bytes) {
      if (b < 0x20 || b > 0x7e) {
        return null;
      }
    }
    return new String(bytes, StandardCharsets.US_ASCII);
  }

  /** A box inside the {@code moov} buffer: header at {@code start}, payload to {@code end}. */
  private static final class Node {
    final String type;
    final int start;
    final int payload;
    final int end;
    final int depth;

    Node(String type, int start, int payload, int end, int depth) {
      this.type = type;
      this.start = start;
      this.payload = payload;
      this.end = end;
      this.depth = depth;
    }
  }

  /** The file's size, its media data, and its {@code mdat} payload ranges in file order. */
  private static final class Sizes {
    final long size;
    final long mdatBytes;
    final List<long[]> mdats;

    Sizes(long size, long mdatBytes, List<long[]> mdats) {
      this.size = size;
      this.mdatBytes = mdatBytes;
      this.mdats = mdats;
    }
  }

  /** Counts boxes and samples against the caps; walks children within their parent. */
  private static final class Budget {
    private int boxes;
    private long samples;

    void count() throws IOException {
      if (++boxes > MAX_BOXES) {
        throw new IOException("unsupported MP4: more than " + MAX_BOXES + " boxes (the limit)");
      }
    }

    void samples(long more, String where) throws IOException {
      samples += more;
      if (samples > MAX_SAMPLES) {
        throw new IOException(
            "unsupported MP4: "
                + where
                + " brings the file to "
                + samples
                + " samples, more than the limit of "
                + MAX_SAMPLES);
      }
    }

    /** Walks {@code node}'s container descendants: their structure, count and depth. */
    void walk(ByteBuffer moov, Node node) throws IOException {
      for (Node child : children(moov, node)) {
        count();
        if (CONTAINERS.contains(child.type)) {
          walk(moov, child);
        }
      }
    }
  }

  /** The child boxes of {@code parent}, each checked to lie within it. */
  private static List<Node> children(ByteBuffer moov, Node parent) throws IOException {
    int depth = parent.depth + 1;
    if (depth > MAX_DEPTH) {
      throw new IOException("unsupported MP4: boxes nested deeper than " + MAX_DEPTH + " levels");
    }
    List<Node> out = new ArrayList<>();
    int pos = parent.payload;
    while (pos < parent.end) {
      if (out.size() >= MAX_BOXES) {
        throw new IOException("unsupported MP4: more than " + MAX_BOXES + " boxes (the limit)");
      }
      int left = parent.end - pos;
      if (left < 8) {
        throw new IOException(
            "corrupt MP4: '" + parent.type + "' ends inside a box header (" + left + " bytes)");
      }
      long size = moov.getInt(pos) & 0xFFFFFFFFL;
      String type = fourCc(moov.duplicate().position(pos + 4));
      if (type == null) {
        throw new IOException("corrupt MP4: '" + parent.type + "' holds a box with no valid type");
      }
      int header = 8;
      if (size == 1) {
        if (left < 16) {
          throw new IOException("corrupt MP4: '" + parent.type + "' ends inside a box header");
        }
        size = moov.getLong(pos + 8);
        header = 16;
      }
      if (size < header || size > left) {
        throw new IOException(
            "corrupt MP4: box '"
                + type
                + "' inside '"
                + parent.type
                + "' claims "
                + Long.toUnsignedString(size)
                + " bytes but "
                + (size < header ? "a box needs at least " + header : "only " + left + " remain"));
      }
      out.add(new Node(type, pos, pos + header, pos + (int) size, depth));
      pos += (int) size;
    }
    return out;
  }

  /** Reads a full box's fields with bounds checks; offsets are relative to the payload. */
  private static final class Table {
    final ByteBuffer moov;
    final Node node;
    final String name;

    Table(ByteBuffer moov, Node node, String name) {
      this.moov = moov;
      this.node = node;
      this.name = name;
    }

    void need(long bytes) throws IOException {
      if (node.end - node.payload < bytes) {
        throw new IOException(
            "corrupt MP4: "
                + name
                + " has "
                + (node.end - node.payload)
                + " bytes, fewer than the "
                + bytes
                + " it needs");
      }
    }

    /** {@code count} entries of {@code width} bytes from {@code offset} fit in the box. */
    void entries(long offset, long count, int width) throws IOException {
      long room = Math.max(0, (node.end - node.payload - offset) / width);
      if (count > room) {
        throw new IOException(
            "corrupt MP4: "
                + name
                + " claims "
                + count
                + " entries but its "
                + (node.end - node.start)
                + "-byte box holds at most "
                + room);
      }
    }

    long u32(long offset) throws IOException {
      need(offset + 4);
      return moov.getInt(node.payload + (int) offset) & 0xFFFFFFFFL;
    }

    long u64(long offset) throws IOException {
      need(offset + 8);
      return moov.getLong(node.payload + (int) offset);
    }

    int u16(long offset) throws IOException {
      need(offset + 2);
      return moov.getShort(node.payload + (int) offset) & 0xFFFF;
    }

    String fourCcAt(long offset) throws IOException {
      need(offset + 4);
      String type = fourCc(moov.duplicate().position(node.payload + (int) offset));
      return type == null ? "" : type;
    }
  }

  /** The parts of a movie the pipeline uses. */
  public static final class Movie {
    private final long fileSize;
    private final MovieHeaderBox header;
    private final List<Track> tracks;

    Movie(long fileSize, MovieHeaderBox header, List<Track> tracks) {
      this.fileSize = fileSize;
      this.header = header;
      this.tracks = Collections.unmodifiableList(tracks);
    }

    public long fileSize() {
      return fileSize;
    }

    /** The movie header ({@code mvhd}); its timescale is positive. */
    public MovieHeaderBox header() {
      return header;
    }

    public List<Track> tracks() {
      return tracks;
    }

    /** The first track whose handler is {@code vide}, or null. */
    public Track videoTrack() {
      for (Track track : tracks) {
        if ("vide".equals(track.handlerType())) {
          return track;
        }
      }
      return null;
    }
  }

  /**
   * One track with its per-sample tables expanded: byte offset and size in the file, decode
   * duration, composition offset (or null without {@code ctts}), sync flag (null without {@code
   * stss}: every sample is a sync sample) and 0-based sample-description index. Sample entries are
   * parsed for audio and video tracks only (empty for others).
   */
  public static final class Track {
    private final int number;
    private final TrackHeaderBox header;
    private final String handlerType;
    private final long timescale;
    private final long mediaDuration;
    private final List<AbstractSampleEntry> sampleEntries;
    private final long[] offsets;
    private final long[] sizes;
    private final long[] durations;
    private final int[] compositionOffsets;
    private final boolean[] sync;
    private final int[] descriptionIndex;

    Track(
        int number,
        TrackHeaderBox header,
        String handlerType,
        long timescale,
        long mediaDuration,
        List<AbstractSampleEntry> sampleEntries,
        long[] offsets,
        long[] sizes,
        long[] durations,
        int[] compositionOffsets,
        boolean[] sync,
        int[] descriptionIndex) {
      this.number = number;
      this.header = header;
      this.handlerType = handlerType;
      this.timescale = timescale;
      this.mediaDuration = mediaDuration;
      this.sampleEntries = sampleEntries;
      this.offsets = offsets;
      this.sizes = sizes;
      this.durations = durations;
      this.compositionOffsets = compositionOffsets;
      this.sync = sync;
      this.descriptionIndex = descriptionIndex;
    }

    /** 1-based position of the track in the file. */
    public int number() {
      return number;
    }

    public TrackHeaderBox header() {
      return header;
    }

    /** {@code vide}, {@code soun}, ... */
    public String handlerType() {
      return handlerType;
    }

    /** Media timescale (units per second, from {@code mdhd}). */
    public long timescale() {
      return timescale;
    }

    /** Duration declared in {@code mdhd}, in media timescale units. */
    public long mediaDuration() {
      return mediaDuration;
    }

    /** Sum of the sample durations ({@code stts}), in media timescale units. */
    public long sampleDurationSum() {
      long sum = 0;
      for (long d : durations) {
        sum += d;
      }
      return sum;
    }

    public List<AbstractSampleEntry> sampleEntries() {
      return sampleEntries;
    }

    public int sampleCount() {
      return sizes.length;
    }

    public long offset(int sample) {
      return offsets[sample];
    }

    public long size(int sample) {
      return sizes[sample];
    }

    public long duration(int sample) {
      return durations[sample];
    }

    public boolean hasCompositionOffsets() {
      return compositionOffsets != null;
    }

    public int compositionOffset(int sample) {
      return compositionOffsets == null ? 0 : compositionOffsets[sample];
    }

    public boolean hasSyncTable() {
      return sync != null;
    }

    public boolean isSync(int sample) {
      return sync == null || sync[sample];
    }

    /** 0-based index into {@link #sampleEntries()} of the sample's description. */
    public int descriptionIndex(int sample) {
      return descriptionIndex[sample];
    }
  }

  private interface Source {
    long size() throws IOException;

    /** Exactly {@code length} bytes at {@code position}, as a heap buffer positioned at 0. */
    ByteBuffer read(long position, int length) throws IOException;
  }

  /** Reads a channel; box headers (small reads) come from a 64 KiB read-ahead window. */
  private static final class ChannelSource implements Source {
    private static final int WINDOW = 64 << 10;
    private final SeekableByteChannel channel;
    private ByteBuffer window;
    private long windowStart = -1;

    ChannelSource(SeekableByteChannel channel) {
      this.channel = channel;
    }

    @Override
    public long size() throws IOException {
      return channel.size();
    }

    @Override
    public ByteBuffer read(long position, int length) throws IOException {
      if (length > 64) {
        return readDirect(position, length);
      }
      if (windowStart < 0
          || position < windowStart
          || position + length > windowStart + window.limit()) {
        window = readDirect(position, (int) Math.min(WINDOW, channel.size() - position));
        windowStart = position;
        if (length > window.limit()) {
          throw new IOException(
              "truncated MP4: read past the end of the file at offset " + position);
        }
      }
      ByteBuffer slice = window.duplicate();
      slice.position((int) (position - windowStart));
      slice.limit(slice.position() + length);
      return slice.slice();
    }

    private ByteBuffer readDirect(long position, int length) throws IOException {
      if (position < 0 || length < 0 || position + length > channel.size()) {
        throw new IOException("truncated MP4: read past the end of the file at offset " + position);
      }
      ByteBuffer buffer = ByteBuffer.allocate(length);
      if (channel instanceof FileChannel) {
        FileChannel file = (FileChannel) channel;
        while (buffer.hasRemaining()) {
          if (file.read(buffer, position + buffer.position()) < 0) {
            throw new IOException(
                "truncated MP4: the file ended at offset " + (position + buffer.position()));
          }
        }
      } else {
        channel.position(position);
        while (buffer.hasRemaining()) {
          if (channel.read(buffer) < 0) {
            throw new IOException(
                "truncated MP4: the file ended at offset " + (position + buffer.position()));
          }
        }
      }
      buffer.flip();
      return buffer;
    }
  }

  private static final class ArraySource implements Source {
    private final byte[] bytes;

    ArraySource(byte[] bytes) {
      this.bytes = bytes;
    }

    @Override
    public long size() {
      return bytes.length;
    }

    @Override
    public ByteBuffer read(long position, int length) {
      return ByteBuffer.wrap(bytes, (int) position, length).slice();
    }
  }
}
