package com.aiprod.pipeline.assemble;

import com.aiprod.pipeline.media.Mp4Reader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import org.mp4parser.Box;
import org.mp4parser.boxes.iso14496.part12.ChunkOffset64BitBox;
import org.mp4parser.boxes.iso14496.part12.ChunkOffsetBox;
import org.mp4parser.boxes.iso14496.part12.CompositionTimeToSample;
import org.mp4parser.boxes.iso14496.part12.DataEntryUrlBox;
import org.mp4parser.boxes.iso14496.part12.DataInformationBox;
import org.mp4parser.boxes.iso14496.part12.DataReferenceBox;
import org.mp4parser.boxes.iso14496.part12.FileTypeBox;
import org.mp4parser.boxes.iso14496.part12.HandlerBox;
import org.mp4parser.boxes.iso14496.part12.MediaBox;
import org.mp4parser.boxes.iso14496.part12.MediaHeaderBox;
import org.mp4parser.boxes.iso14496.part12.MediaInformationBox;
import org.mp4parser.boxes.iso14496.part12.MovieBox;
import org.mp4parser.boxes.iso14496.part12.MovieHeaderBox;
import org.mp4parser.boxes.iso14496.part12.NullMediaHeaderBox;
import org.mp4parser.boxes.iso14496.part12.SampleDescriptionBox;
import org.mp4parser.boxes.iso14496.part12.SampleSizeBox;
import org.mp4parser.boxes.iso14496.part12.SampleTableBox;
import org.mp4parser.boxes.iso14496.part12.SampleToChunkBox;
import org.mp4parser.boxes.iso14496.part12.SoundMediaHeaderBox;
import org.mp4parser.boxes.iso14496.part12.StaticChunkOffsetBox;
import org.mp4parser.boxes.iso14496.part12.SyncSampleBox;
import org.mp4parser.boxes.iso14496.part12.TimeToSampleBox;
import org.mp4parser.boxes.iso14496.part12.TrackBox;
import org.mp4parser.boxes.iso14496.part12.TrackHeaderBox;
import org.mp4parser.boxes.iso14496.part12.VideoMediaHeaderBox;
import org.mp4parser.boxes.sampleentry.AbstractSampleEntry;

/**
 * Joins shot MP4s into one MP4 (DESIGN §6, Assemble), in pure Java with mp4parser's box model.
 *
 * <p>The samples are copied as they are (no re-encoding): the output has one track per media track
 * of the inputs ({@code vide} and {@code soun}; other tracks such as timecode or hint are dropped),
 * matched by order of handler type, so every input must have the same kind of tracks and each track
 * the same codec (sample-entry type) in every input.
 *
 * <p>Codec configuration: each distinct sample entry (for H.264 the {@code avc1} box with its
 * SPS/PPS in {@code avcC}) is kept once in the track's {@code stsd}. When all shots share it — the
 * usual case, e.g. JCodec derives SPS/PPS only from the picture size — the track has a single
 * sample description; when they differ, the track carries several, and each chunk points at its own
 * through {@code stsc}'s sample-description index (ISO/IEC 14496-12 §8.7.4), so a decoder switches
 * configuration exactly at the shot boundary. (mp4parser's {@code AppendTrack} refuses differing
 * {@code avcC}s; its muxer module is not on this project's classpath in any case.)
 *
 * <p>Timing: each output track uses the first input's media timescale; durations of inputs with
 * another timescale are rescaled without accumulating rounding drift. Edit lists are not carried
 * over. The {@code moov} box precedes {@code mdat} ("fast start"), {@code co64} is used when
 * offsets exceed 32 bits, and the file is written to a temporary file in the target directory and
 * moved into place atomically.
 *
 * <p>Inputs are untrusted (DESIGN §13): they are read with the bounded {@link Mp4Reader}, an input
 * whose sample ranges overlap is refused, and so is an output larger than the sum of the inputs'
 * sizes plus {@value #HEADER_ALLOWANCE_BYTES} bytes and {@value #HEADER_ALLOWANCE_PER_SAMPLE} per
 * sample. Error messages name shots by position, never by path.
 */
public final class Mp4Concatenator {
  private static final List<String> MEDIA_HANDLERS = List.of("vide", "soun");

  /** Output bytes allowed beyond the inputs' sizes: {@code ftyp}, {@code moov} headers. */
  static final long HEADER_ALLOWANCE_BYTES = 64 << 10;

  /** Output bytes allowed per sample beyond the inputs (sample tables may be written unpacked). */
  static final long HEADER_ALLOWANCE_PER_SAMPLE = 16;

  private Mp4Concatenator() {}

  /**
   * Concatenates {@code shots}, in order, into {@code out} (replaced if it exists).
   *
   * @throws IOException if an input cannot be read or parsed, the inputs do not have matching
   *     tracks and codecs, or the output cannot be written
   * @throws IllegalArgumentException if {@code shots} is empty
   */
  public static void concat(List<Path> shots, Path out) throws IOException {
    if (shots.isEmpty()) {
      throw new IllegalArgumentException("nothing to concatenate: no shots");
    }
    List<Mp4Reader.Movie> movies = new ArrayList<>();
    for (int i = 0; i < shots.size(); i++) {
      try {
        movies.add(Mp4Reader.read(shots.get(i)));
      } catch (IOException e) {
        throw new IOException("cannot concatenate: shot " + (i + 1) + ": " + e.getMessage(), e);
      }
    }
    Plan plan;
    try {
      plan = plan(shots, movies);
    } catch (RuntimeException e) {
      throw new IOException("cannot concatenate: " + e, e);
    }
    checkRanges(plan, movies);

    Path absolute = out.toAbsolutePath();
    Path dir = absolute.getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, "." + absolute.getFileName() + ".", ".tmp");
    try {
      try {
        write(plan, shots, tmp, movies);
      } catch (RuntimeException e) {
        throw new IOException("cannot concatenate: " + e, e);
      }
      if (Files.getFileStore(tmp).supportsFileAttributeView(PosixFileAttributeView.class)) {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
      }
      try {
        Files.move(
            tmp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, absolute, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** One output chunk: a run of samples of one input track sharing a sample description. */
  private static final class Chunk {
    final int input;
    final Mp4Reader.Track source;
    final int firstSample;
    final int sampleCount;
    final int descriptionIndex;
    long outputOffset;

    Chunk(
        int input, Mp4Reader.Track source, int firstSample, int sampleCount, int descriptionIndex) {
      this.input = input;
      this.source = source;
      this.firstSample = firstSample;
      this.sampleCount = sampleCount;
      this.descriptionIndex = descriptionIndex;
    }

    long bytes() {
      long sum = 0;
      for (int i = firstSample; i < firstSample + sampleCount; i++) {
        sum += source.size(i);
      }
      return sum;
    }
  }

  /** An output track: its parts from every input, unique sample entries and chunks. */
  private static final class OutTrack {
    final String handlerType;
    final List<Mp4Reader.Track> parts = new ArrayList<>();
    final List<AbstractSampleEntry> entries = new ArrayList<>();
    final List<byte[]> entryBytes = new ArrayList<>();
    final List<Chunk> chunks = new ArrayList<>();
    long timescale;
    long[] durations;
    int[] compositionOffsets;
    boolean[] sync;
    long[] sizes;

    OutTrack(String handlerType) {
      this.handlerType = handlerType;
    }

    long duration() {
      long sum = 0;
      for (long d : durations) {
        sum += d;
      }
      return sum;
    }

    int indexOfEntry(AbstractSampleEntry entry) throws IOException {
      byte[] bytes = serialize(entry);
      for (int i = 0; i < entryBytes.size(); i++) {
        if (Arrays.equals(entryBytes.get(i), bytes)) {
          return i;
        }
      }
      entries.add(entry);
      entryBytes.add(bytes);
      return entries.size() - 1;
    }
  }

  private static final class Plan {
    final List<OutTrack> tracks;
    final List<Chunk> chunksInFileOrder;
    final Mp4Reader.Movie first;

    Plan(List<OutTrack> tracks, List<Chunk> chunksInFileOrder, Mp4Reader.Movie first) {
      this.tracks = tracks;
      this.chunksInFileOrder = chunksInFileOrder;
      this.first = first;
    }
  }

  private static List<Mp4Reader.Track> mediaTracks(Mp4Reader.Movie movie) {
    List<Mp4Reader.Track> result = new ArrayList<>();
    for (Mp4Reader.Track track : movie.tracks()) {
      if (MEDIA_HANDLERS.contains(track.handlerType()) && track.sampleCount() > 0) {
        result.add(track);
      }
    }
    return result;
  }

  private static Plan plan(List<Path> shots, List<Mp4Reader.Movie> movies) throws IOException {
    List<Mp4Reader.Track> firstTracks = mediaTracks(movies.get(0));
    if (firstTracks.isEmpty()) {
      throw new IOException("cannot concatenate: shot 1 has no audio or video");
    }
    List<OutTrack> tracks = new ArrayList<>();
    for (Mp4Reader.Track track : firstTracks) {
      OutTrack outTrack = new OutTrack(track.handlerType());
      outTrack.timescale = track.timescale();
      tracks.add(outTrack);
    }
    for (int i = 0; i < movies.size(); i++) {
      List<Mp4Reader.Track> inputTracks = mediaTracks(movies.get(i));
      List<String> handlers = inputTracks.stream().map(Mp4Reader.Track::handlerType).toList();
      List<String> expected = tracks.stream().map(t -> t.handlerType).toList();
      if (!handlers.equals(expected)) {
        throw new IOException(
            "cannot concatenate: "
                + "shot "
                + (i + 1)
                + " has tracks "
                + handlers
                + " but shot 1 has "
                + expected);
      }
      for (int t = 0; t < tracks.size(); t++) {
        Mp4Reader.Track in = inputTracks.get(t);
        String codec = firstTracks.get(t).sampleEntries().get(0).getType();
        for (AbstractSampleEntry entry : in.sampleEntries()) {
          if (!entry.getType().equals(codec)) {
            throw new IOException(
                "cannot concatenate: "
                    + "shot "
                    + (i + 1)
                    + " "
                    + in.handlerType()
                    + " codec '"
                    + entry.getType()
                    + "' differs from '"
                    + codec
                    + "' of shot 1");
          }
        }
        tracks.get(t).parts.add(in);
      }
    }

    List<Chunk> fileOrder = new ArrayList<>();
    for (OutTrack track : tracks) {
      int total = 0;
      boolean anyCtts = false;
      boolean anyPartialSync = false;
      for (Mp4Reader.Track part : track.parts) {
        total += part.sampleCount();
        anyCtts |= part.hasCompositionOffsets();
        anyPartialSync |= part.hasSyncTable();
      }
      track.durations = new long[total];
      track.sizes = new long[total];
      track.compositionOffsets = anyCtts ? new int[total] : null;
      track.sync = anyPartialSync ? new boolean[total] : null;
      int n = 0;
      for (Mp4Reader.Track part : track.parts) {
        double ratio = (double) track.timescale / part.timescale();
        long sourceTime = 0;
        long outputTime = 0;
        for (int s = 0; s < part.sampleCount(); s++) {
          sourceTime += part.duration(s);
          long end = Math.round(sourceTime * ratio);
          track.durations[n] = end - outputTime;
          outputTime = end;
          track.sizes[n] = part.size(s);
          if (anyCtts) {
            track.compositionOffsets[n] = (int) Math.round(part.compositionOffset(s) * ratio);
          }
          if (anyPartialSync) {
            track.sync[n] = part.isSync(s);
          }
          n++;
        }
      }
    }
    for (int i = 0; i < movies.size(); i++) {
      for (OutTrack track : tracks) {
        Mp4Reader.Track part = track.parts.get(i);
        int start = 0;
        while (start < part.sampleCount()) {
          int description = part.descriptionIndex(start);
          int end = start + 1;
          while (end < part.sampleCount() && part.descriptionIndex(end) == description) {
            end++;
          }
          int outIndex = track.indexOfEntry(part.sampleEntries().get(description));
          Chunk chunk = new Chunk(i, part, start, end - start, outIndex);
          track.chunks.add(chunk);
          fileOrder.add(chunk);
          start = end;
        }
      }
    }
    return new Plan(tracks, fileOrder, movies.get(0));
  }

  /**
   * Refuses inputs whose copied sample ranges overlap within one file (each byte of an input is
   * copied at most once).
   */
  private static void checkRanges(Plan plan, List<Mp4Reader.Movie> movies) throws IOException {
    for (int i = 0; i < movies.size(); i++) {
      List<long[]> ranges = new ArrayList<>();
      for (Chunk chunk : plan.chunksInFileOrder) {
        if (chunk.input != i) {
          continue;
        }
        for (int s = chunk.firstSample; s < chunk.firstSample + chunk.sampleCount; s++) {
          if (chunk.source.size(s) > 0) {
            ranges.add(
                new long[] {chunk.source.offset(s), chunk.source.offset(s) + chunk.source.size(s)});
          }
        }
      }
      ranges.sort((a, b) -> Long.compare(a[0], b[0]));
      for (int r = 1; r < ranges.size(); r++) {
        if (ranges.get(r)[0] < ranges.get(r - 1)[1]) {
          throw new IOException(
              "cannot concatenate: shot " + (i + 1) + " has overlapping sample byte ranges");
        }
      }
    }
  }

  /** Bytes the output may have beyond the sum of its inputs: headers and sample tables. */
  static long headerAllowance(long samples) {
    return HEADER_ALLOWANCE_BYTES + HEADER_ALLOWANCE_PER_SAMPLE * samples;
  }

  /** Refuses an output larger than its inputs plus {@link #headerAllowance}. */
  static void checkOutputSize(long output, long payload, long inputBytes, long samples)
      throws IOException {
    if (payload > inputBytes || output > inputBytes + headerAllowance(samples)) {
      throw new IOException(
          "cannot concatenate: the output would have "
              + output
              + " bytes ("
              + payload
              + " of samples) from inputs of "
              + inputBytes
              + " bytes");
    }
  }

  private static void write(Plan plan, List<Path> shots, Path file, List<Mp4Reader.Movie> movies)
      throws IOException {
    FileTypeBox ftyp = new FileTypeBox("isom", 512, List.of("isom", "iso2", "avc1", "mp41"));
    long payload = 0;
    for (Chunk chunk : plan.chunksInFileOrder) {
      payload += chunk.bytes();
    }
    boolean largeMdat = payload + 8 > 0xFFFFFFFFL;
    int mdatHeader = largeMdat ? 16 : 8;
    // Offsets might exceed 32 bits only if the data does; the moov size does not depend on them.
    boolean offsets64 = ftyp.getSize() + payload + mdatHeader + (64L << 20) > 0xFFFFFFFFL;

    MovieBox moov = buildMoov(plan, offsets64);
    long offset = ftyp.getSize() + moov.getSize() + mdatHeader;
    for (Chunk chunk : plan.chunksInFileOrder) {
      chunk.outputOffset = offset;
      offset += chunk.bytes();
    }
    long moovSize = moov.getSize();
    moov = buildMoov(plan, offsets64);
    if (moov.getSize() != moovSize) {
      throw new IllegalStateException("moov size changed while setting chunk offsets");
    }
    long inputBytes = 0;
    long samples = 0;
    for (Mp4Reader.Movie movie : movies) {
      inputBytes += movie.fileSize();
    }
    for (OutTrack track : plan.tracks) {
      samples += track.sizes.length;
    }
    checkOutputSize(offset, payload, inputBytes, samples);

    FileChannel[] inputs = new FileChannel[shots.size()];
    try (FileChannel outChannel =
        FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
      for (int i = 0; i < shots.size(); i++) {
        inputs[i] = FileChannel.open(shots.get(i), StandardOpenOption.READ);
      }
      ftyp.getBox(outChannel);
      moov.getBox(outChannel);
      ByteBuffer header = ByteBuffer.allocate(mdatHeader);
      if (largeMdat) {
        header.putInt(1).put(new byte[] {'m', 'd', 'a', 't'}).putLong(payload + 16);
      } else {
        header.putInt((int) (payload + 8)).put(new byte[] {'m', 'd', 'a', 't'});
      }
      header.flip();
      while (header.hasRemaining()) {
        outChannel.write(header);
      }
      for (Chunk chunk : plan.chunksInFileOrder) {
        if (outChannel.position() != chunk.outputOffset) {
          throw new IllegalStateException(
              "chunk written at "
                  + outChannel.position()
                  + " but planned at "
                  + chunk.outputOffset);
        }
        copySamples(inputs[chunk.input], chunk, outChannel);
      }
      if (outChannel.position() != offset) {
        throw new IllegalStateException(
            "wrote " + outChannel.position() + " bytes but planned " + offset);
      }
      outChannel.force(false);
    } finally {
      for (FileChannel input : inputs) {
        if (input != null) {
          input.close();
        }
      }
    }
  }

  /** Copies a chunk's samples, merging samples that are adjacent in the source into one copy. */
  private static void copySamples(FileChannel in, Chunk chunk, FileChannel out) throws IOException {
    Mp4Reader.Track track = chunk.source;
    int s = chunk.firstSample;
    int end = chunk.firstSample + chunk.sampleCount;
    while (s < end) {
      long start = track.offset(s);
      long length = track.size(s);
      s++;
      while (s < end && track.offset(s) == start + length) {
        length += track.size(s);
        s++;
      }
      long copied = 0;
      while (copied < length) {
        long n = in.transferTo(start + copied, length - copied, out);
        if (n <= 0) {
          throw new IOException("input ended while copying samples at offset " + (start + copied));
        }
        copied += n;
      }
    }
  }

  private static MovieBox buildMoov(Plan plan, boolean offsets64) throws IOException {
    MovieHeaderBox firstHeader = plan.first.header();
    long movieTimescale = firstHeader.getTimescale();
    Date now = new Date();
    MovieBox moov = new MovieBox();
    MovieHeaderBox mvhd = new MovieHeaderBox();
    mvhd.setCreationTime(now);
    mvhd.setModificationTime(now);
    mvhd.setTimescale(movieTimescale);
    mvhd.setMatrix(firstHeader.getMatrix());
    mvhd.setNextTrackId(plan.tracks.size() + 1);
    long movieDuration = 0;
    for (OutTrack track : plan.tracks) {
      movieDuration = Math.max(movieDuration, toMovieTime(track, movieTimescale));
    }
    mvhd.setDuration(movieDuration);
    moov.addBox(mvhd);
    for (int t = 0; t < plan.tracks.size(); t++) {
      moov.addBox(buildTrak(plan.tracks.get(t), t + 1, movieTimescale, now, offsets64));
    }
    return moov;
  }

  private static long toMovieTime(OutTrack track, long movieTimescale) {
    return Math.round((double) track.duration() * movieTimescale / track.timescale);
  }

  private static TrackBox buildTrak(
      OutTrack track, int trackId, long movieTimescale, Date now, boolean offsets64)
      throws IOException {
    TrackHeaderBox source = track.parts.get(0).header();
    TrackHeaderBox tkhd = new TrackHeaderBox();
    tkhd.setEnabled(true);
    tkhd.setInMovie(true);
    tkhd.setCreationTime(now);
    tkhd.setModificationTime(now);
    tkhd.setTrackId(trackId);
    tkhd.setDuration(toMovieTime(track, movieTimescale));
    tkhd.setAlternateGroup(source.getAlternateGroup());
    tkhd.setLayer(source.getLayer());
    tkhd.setVolume(source.getVolume());
    tkhd.setMatrix(source.getMatrix());
    tkhd.setWidth(source.getWidth());
    tkhd.setHeight(source.getHeight());

    MediaHeaderBox mdhd = new MediaHeaderBox();
    mdhd.setCreationTime(now);
    mdhd.setModificationTime(now);
    mdhd.setTimescale(track.timescale);
    mdhd.setDuration(track.duration());
    mdhd.setLanguage("und");

    HandlerBox hdlr = new HandlerBox();
    hdlr.setHandlerType(track.handlerType);
    hdlr.setName(track.handlerType.equals("vide") ? "VideoHandler" : "SoundHandler");

    MediaInformationBox minf = new MediaInformationBox();
    if (track.handlerType.equals("vide")) {
      minf.addBox(new VideoMediaHeaderBox());
    } else if (track.handlerType.equals("soun")) {
      minf.addBox(new SoundMediaHeaderBox());
    } else {
      minf.addBox(new NullMediaHeaderBox());
    }
    DataInformationBox dinf = new DataInformationBox();
    DataReferenceBox dref = new DataReferenceBox();
    DataEntryUrlBox url = new DataEntryUrlBox();
    url.setFlags(1); // media data is in this file
    dref.addBox(url);
    dinf.addBox(dref);
    minf.addBox(dinf);
    minf.addBox(buildStbl(track, offsets64));

    MediaBox mdia = new MediaBox();
    mdia.addBox(mdhd);
    mdia.addBox(hdlr);
    mdia.addBox(minf);

    TrackBox trak = new TrackBox();
    trak.addBox(tkhd);
    trak.addBox(mdia);
    return trak;
  }

  private static SampleTableBox buildStbl(OutTrack track, boolean offsets64) {
    SampleTableBox stbl = new SampleTableBox();

    SampleDescriptionBox stsd = new SampleDescriptionBox();
    for (AbstractSampleEntry entry : track.entries) {
      stsd.addBox(entry);
    }
    stbl.addBox(stsd);

    List<TimeToSampleBox.Entry> stts = new ArrayList<>();
    for (long duration : track.durations) {
      TimeToSampleBox.Entry last = stts.isEmpty() ? null : stts.get(stts.size() - 1);
      if (last != null && last.getDelta() == duration) {
        last.setCount(last.getCount() + 1);
      } else {
        stts.add(new TimeToSampleBox.Entry(1, duration));
      }
    }
    TimeToSampleBox sttsBox = new TimeToSampleBox();
    sttsBox.setEntries(stts);
    stbl.addBox(sttsBox);

    if (track.compositionOffsets != null) {
      List<CompositionTimeToSample.Entry> ctts = new ArrayList<>();
      for (int offset : track.compositionOffsets) {
        CompositionTimeToSample.Entry last = ctts.isEmpty() ? null : ctts.get(ctts.size() - 1);
        if (last != null && last.getOffset() == offset) {
          last.setCount(last.getCount() + 1);
        } else {
          ctts.add(new CompositionTimeToSample.Entry(1, offset));
        }
      }
      CompositionTimeToSample cttsBox = new CompositionTimeToSample();
      cttsBox.setEntries(ctts);
      stbl.addBox(cttsBox);
    }

    if (track.sync != null) {
      long[] numbers = new long[track.sync.length];
      int n = 0;
      for (int i = 0; i < track.sync.length; i++) {
        if (track.sync[i]) {
          numbers[n++] = i + 1;
        }
      }
      SyncSampleBox stss = new SyncSampleBox();
      stss.setSampleNumber(Arrays.copyOf(numbers, n));
      stbl.addBox(stss);
    }

    List<SampleToChunkBox.Entry> stsc = new ArrayList<>();
    long[] chunkOffsets = new long[track.chunks.size()];
    for (int c = 0; c < track.chunks.size(); c++) {
      Chunk chunk = track.chunks.get(c);
      chunkOffsets[c] = chunk.outputOffset;
      SampleToChunkBox.Entry last = stsc.isEmpty() ? null : stsc.get(stsc.size() - 1);
      if (last == null
          || last.getSamplesPerChunk() != chunk.sampleCount
          || last.getSampleDescriptionIndex() != chunk.descriptionIndex + 1) {
        stsc.add(new SampleToChunkBox.Entry(c + 1, chunk.sampleCount, chunk.descriptionIndex + 1));
      }
    }
    SampleToChunkBox stscBox = new SampleToChunkBox();
    stscBox.setEntries(stsc);
    stbl.addBox(stscBox);

    SampleSizeBox stsz = new SampleSizeBox();
    stsz.setSampleSizes(track.sizes);
    stbl.addBox(stsz);

    ChunkOffsetBox stco = offsets64 ? new ChunkOffset64BitBox() : new StaticChunkOffsetBox();
    stco.setChunkOffsets(chunkOffsets);
    stbl.addBox(stco);
    return stbl;
  }

  private static byte[] serialize(Box box) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    box.getBox(Channels.newChannel(bytes));
    return bytes.toByteArray();
  }
}
