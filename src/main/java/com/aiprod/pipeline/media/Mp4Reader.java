package com.aiprod.pipeline.media;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import org.mp4parser.Box;
import org.mp4parser.IsoFile;
import org.mp4parser.boxes.iso14496.part12.ChunkOffsetBox;
import org.mp4parser.boxes.iso14496.part12.CompositionTimeToSample;
import org.mp4parser.boxes.iso14496.part12.HandlerBox;
import org.mp4parser.boxes.iso14496.part12.MediaHeaderBox;
import org.mp4parser.boxes.iso14496.part12.MovieBox;
import org.mp4parser.boxes.iso14496.part12.MovieHeaderBox;
import org.mp4parser.boxes.iso14496.part12.SampleDescriptionBox;
import org.mp4parser.boxes.iso14496.part12.SampleSizeBox;
import org.mp4parser.boxes.iso14496.part12.SampleTableBox;
import org.mp4parser.boxes.iso14496.part12.SampleToChunkBox;
import org.mp4parser.boxes.iso14496.part12.SyncSampleBox;
import org.mp4parser.boxes.iso14496.part12.TimeToSampleBox;
import org.mp4parser.boxes.iso14496.part12.TrackBox;
import org.mp4parser.boxes.iso14496.part12.TrackHeaderBox;
import org.mp4parser.boxes.sampleentry.AbstractSampleEntry;
import org.mp4parser.tools.Path;

/**
 * Reads the structure of a (non-fragmented) MP4 file defensively, for {@link Mp4Inspector} and the
 * concatenator.
 *
 * <p>The top-level boxes are walked by hand first (sizes checked against the file length, so a
 * truncated file or random bytes are reported as such instead of making the parser allocate or
 * fail), then only the {@code moov} box is parsed with mp4parser's {@link IsoFile}; the media data
 * is never loaded. Every sample's byte range is checked to lie inside the file. Any problem,
 * including a runtime exception inside mp4parser, surfaces as an {@link IOException}.
 */
public final class Mp4Reader {
  /** Largest {@code moov} box read into memory (an hour of 60 fps video needs ~4 MB). */
  static final long MAX_MOOV_BYTES = 64L << 20;

  private static final Set<String> FIRST_BOX_TYPES =
      Set.of("ftyp", "moov", "mdat", "free", "skip", "wide", "pdin", "styp", "uuid", "junk");

  private Mp4Reader() {}

  /** Reads the structure of the MP4 file at {@code file}. */
  public static Movie read(java.nio.file.Path file) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      return read(new FileSource(channel), file.toString());
    }
  }

  /** Reads the structure of an MP4 held in memory. */
  public static Movie read(byte[] bytes) throws IOException {
    return read(new ArraySource(bytes), "in-memory MP4 (" + bytes.length + " bytes)");
  }

  private static Movie read(Source source, String name) throws IOException {
    long size = source.size();
    if (size < 8) {
      throw new IOException("not an MP4: " + name + " has only " + size + " bytes");
    }
    long moovOffset = -1;
    long moovSize = 0;
    boolean fragmented = false;
    long pos = 0;
    while (pos < size) {
      if (size - pos < 8) {
        throw new IOException(
            "truncated MP4: " + name + " ends inside a box header at offset " + pos);
      }
      ByteBuffer header = source.read(pos, (int) Math.min(16, size - pos));
      long boxSize = header.getInt() & 0xFFFFFFFFL;
      byte[] typeBytes = new byte[4];
      header.get(typeBytes);
      String type = fourCc(typeBytes);
      if (type == null || (pos == 0 && !FIRST_BOX_TYPES.contains(type))) {
        throw new IOException(
            "not an MP4: "
                + name
                + " has no valid box at offset "
                + pos
                + (type == null ? "" : " (type '" + type + "')"));
      }
      int headerSize = 8;
      if (boxSize == 1) {
        if (header.remaining() < 8) {
          throw new IOException(
              "truncated MP4: " + name + " ends inside the '" + type + "' header");
        }
        boxSize = header.getLong();
        headerSize = 16;
      } else if (boxSize == 0) {
        boxSize = size - pos;
      }
      if (boxSize < headerSize) {
        throw new IOException(
            "corrupt MP4: "
                + name
                + " box '"
                + type
                + "' at offset "
                + pos
                + " has size "
                + boxSize);
      }
      if (boxSize > size - pos) {
        throw new IOException(
            "truncated MP4: "
                + name
                + " box '"
                + type
                + "' at offset "
                + pos
                + " needs "
                + boxSize
                + " bytes but only "
                + (size - pos)
                + " remain");
      }
      if (type.equals("moov")) {
        moovOffset = pos;
        moovSize = boxSize;
      } else if (type.equals("moof")) {
        fragmented = true;
      }
      pos += boxSize;
    }
    if (moovOffset < 0) {
      throw new IOException("not a playable MP4: " + name + " has no 'moov' box");
    }
    if (moovSize > MAX_MOOV_BYTES) {
      throw new IOException("unsupported MP4: " + name + " has a " + moovSize + "-byte 'moov'");
    }
    ByteBuffer moovBytes = source.read(moovOffset, (int) moovSize);
    try (IsoFile iso =
        new IsoFile(
            Channels.newChannel(
                new ByteArrayInputStream(
                    moovBytes.array(), moovBytes.arrayOffset(), (int) moovSize)))) {
      MovieBox moov = iso.getMovieBox();
      if (moov == null) {
        throw new IOException("corrupt MP4: " + name + " 'moov' box could not be parsed");
      }
      if (Path.getPath(moov, "mvex") != null || fragmented) {
        throw new IOException("unsupported MP4: " + name + " is fragmented");
      }
      MovieHeaderBox mvhd = moov.getMovieHeaderBox();
      if (mvhd == null || mvhd.getTimescale() <= 0) {
        throw new IOException("corrupt MP4: " + name + " has no valid 'mvhd'");
      }
      List<Track> tracks = new ArrayList<>();
      for (TrackBox trak : moov.getBoxes(TrackBox.class)) {
        tracks.add(readTrack(trak, size, name));
      }
      return new Movie(size, mvhd, tracks);
    } catch (RuntimeException e) {
      throw new IOException("corrupt MP4: " + name + " could not be parsed: " + e, e);
    }
  }

  private static Track readTrack(TrackBox trak, long fileSize, String name) throws IOException {
    TrackHeaderBox tkhd = trak.getTrackHeaderBox();
    MediaHeaderBox mdhd = Path.getPath(trak, "mdia[0]/mdhd[0]");
    HandlerBox hdlr = Path.getPath(trak, "mdia[0]/hdlr[0]");
    SampleTableBox stbl = Path.getPath(trak, "mdia[0]/minf[0]/stbl[0]");
    if (tkhd == null || mdhd == null || hdlr == null || stbl == null) {
      throw new IOException("corrupt MP4: " + name + " has a track without tkhd/mdhd/hdlr/stbl");
    }
    String where = name + " track " + tkhd.getTrackId();
    if (mdhd.getTimescale() <= 0) {
      throw new IOException(
          "corrupt MP4: " + where + " has media timescale " + mdhd.getTimescale());
    }
    SampleDescriptionBox stsd = Path.getPath(stbl, "stsd[0]");
    SampleSizeBox stsz = Path.getPath(stbl, "stsz[0]");
    TimeToSampleBox stts = Path.getPath(stbl, "stts[0]");
    SampleToChunkBox stsc = Path.getPath(stbl, "stsc[0]");
    ChunkOffsetBox stco = Path.getPath(stbl, "stco[0]");
    if (stco == null) {
      stco = Path.getPath(stbl, "co64[0]");
    }
    if (stsd == null || stsz == null || stts == null || stsc == null || stco == null) {
      if (Path.getPath(stbl, "stz2[0]") != null) {
        throw new IOException("unsupported MP4: " + where + " uses compact sample sizes (stz2)");
      }
      throw new IOException("corrupt MP4: " + where + " lacks one of stsd/stsz/stts/stsc/stco");
    }
    List<AbstractSampleEntry> entries = new ArrayList<>();
    for (Box box : stsd.getBoxes()) {
      if (box instanceof AbstractSampleEntry) {
        entries.add((AbstractSampleEntry) box);
      }
    }
    if (entries.isEmpty()) {
      throw new IOException("corrupt MP4: " + where + " has no sample description");
    }

    long sampleCountLong = stsz.getSampleCount();
    if (sampleCountLong > Integer.MAX_VALUE / 8) {
      throw new IOException("unsupported MP4: " + where + " has " + sampleCountLong + " samples");
    }
    int count = (int) sampleCountLong;
    long[] sizes = new long[count];
    if (stsz.getSampleSize() > 0) {
      Arrays.fill(sizes, stsz.getSampleSize());
    } else {
      long[] listed = stsz.getSampleSizes();
      if (listed == null || listed.length != count) {
        throw new IOException("corrupt MP4: " + where + " sample size table is inconsistent");
      }
      System.arraycopy(listed, 0, sizes, 0, count);
    }

    long[] durations = new long[count];
    int n = 0;
    for (TimeToSampleBox.Entry e : stts.getEntries()) {
      if (e.getCount() < 0 || n + e.getCount() > count) {
        throw new IOException("corrupt MP4: " + where + " stts describes more samples than stsz");
      }
      for (long i = 0; i < e.getCount(); i++) {
        durations[n++] = e.getDelta();
      }
    }
    if (n != count) {
      throw new IOException(
          "corrupt MP4: " + where + " stts covers " + n + " of " + count + " samples");
    }

    int[] compositionOffsets = null;
    CompositionTimeToSample ctts = Path.getPath(stbl, "ctts[0]");
    if (ctts != null) {
      compositionOffsets = new int[count];
      n = 0;
      for (CompositionTimeToSample.Entry e : ctts.getEntries()) {
        if (e.getCount() < 0 || n + e.getCount() > count) {
          throw new IOException("corrupt MP4: " + where + " ctts describes too many samples");
        }
        for (int i = 0; i < e.getCount(); i++) {
          compositionOffsets[n++] = e.getOffset();
        }
      }
    }

    boolean[] sync = null;
    SyncSampleBox stss = Path.getPath(stbl, "stss[0]");
    if (stss != null) {
      sync = new boolean[count];
      for (long number : stss.getSampleNumber()) {
        if (number >= 1 && number <= count) {
          sync[(int) number - 1] = true;
        }
      }
    }

    long[] chunkOffsets = stco.getChunkOffsets();
    List<SampleToChunkBox.Entry> stscEntries = stsc.getEntries();
    long[] offsets = new long[count];
    int[] descriptionIndex = new int[count];
    int sample = 0;
    for (int e = 0; e < stscEntries.size() && sample < count; e++) {
      SampleToChunkBox.Entry entry = stscEntries.get(e);
      long firstChunk = entry.getFirstChunk();
      long endChunk =
          e + 1 < stscEntries.size()
              ? stscEntries.get(e + 1).getFirstChunk()
              : chunkOffsets.length + 1L;
      long sdi = entry.getSampleDescriptionIndex();
      if (firstChunk < 1
          || endChunk < firstChunk
          || endChunk > chunkOffsets.length + 1L
          || sdi < 1
          || sdi > entries.size()
          || entry.getSamplesPerChunk() < 0) {
        throw new IOException("corrupt MP4: " + where + " has an invalid stsc entry " + entry);
      }
      for (long chunk = firstChunk; chunk < endChunk && sample < count; chunk++) {
        long offset = chunkOffsets[(int) chunk - 1];
        for (long i = 0; i < entry.getSamplesPerChunk() && sample < count; i++) {
          offsets[sample] = offset;
          descriptionIndex[sample] = (int) sdi - 1;
          offset += sizes[sample];
          sample++;
        }
      }
    }
    if (sample != count) {
      throw new IOException(
          "corrupt MP4: " + where + " chunks hold " + sample + " of " + count + " samples");
    }
    for (int i = 0; i < count; i++) {
      if (offsets[i] < 0 || sizes[i] < 0 || offsets[i] + sizes[i] > fileSize) {
        throw new IOException(
            "truncated MP4: " + where + " sample " + (i + 1) + " lies beyond the end of the file");
      }
    }
    return new Track(
        tkhd,
        hdlr.getHandlerType(),
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

  private static String fourCc(byte[] bytes) {
    for (byte b : bytes) {
      if (b < 0x20 || b > 0x7e) {
        return null;
      }
    }
    return new String(bytes, StandardCharsets.US_ASCII);
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
   * stss}: every sample is a sync sample) and 0-based sample-description index.
   */
  public static final class Track {
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

  private static final class FileSource implements Source {
    private final FileChannel channel;

    FileSource(FileChannel channel) {
      this.channel = channel;
    }

    @Override
    public long size() throws IOException {
      return channel.size();
    }

    @Override
    public ByteBuffer read(long position, int length) throws IOException {
      ByteBuffer buffer = ByteBuffer.allocate(length);
      while (buffer.hasRemaining()) {
        int n = channel.read(buffer, position + buffer.position());
        if (n < 0) {
          throw new IOException(
              "unexpected end of file at offset " + (position + buffer.position()));
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
