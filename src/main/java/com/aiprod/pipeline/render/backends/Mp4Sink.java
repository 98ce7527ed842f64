package com.aiprod.pipeline.render.backends;

import com.aiprod.pipeline.render.backends.BackendException.Kind;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import javax.annotation.Nullable;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.io.fs.MoveOptions;
import org.apache.beam.sdk.io.fs.ResourceId;

/**
 * Writes one output video to its destination through Beam {@code FileSystems} ({@code gs://} or a
 * local path): under a temporary name next to it, renamed into place by {@link #commit()}, so a
 * reader (and the "shot already rendered" check) never sees a partial file. Refuses more than the
 * size cap and anything whose first box is not {@code ftyp} (not an MP4); {@link #commit()} accepts
 * the file only after {@link ProviderFileCheck}. Closing without a commit deletes the temporary
 * file.
 */
final class Mp4Sink implements AutoCloseable {
  private static final byte[] FTYP = "ftyp".getBytes(StandardCharsets.US_ASCII);

  private final String destinationUri;
  private final long cap;
  private final String provider;
  private final ResourceId temp;
  private final byte[] head = new byte[8];
  private @Nullable WritableByteChannel channel;
  private long written;
  private boolean committed;

  Mp4Sink(String destinationUri, long cap, String provider) throws BackendException {
    this.destinationUri = destinationUri;
    this.cap = cap;
    this.provider = provider;
    try {
      this.temp =
          FileSystems.matchNewResource(destinationUri + ".part-" + UUID.randomUUID(), false);
    } catch (RuntimeException e) {
      throw BackendException.permanent(
          "output destination " + destinationUri + " is not a file URI: " + e.getMessage());
    }
  }

  /** Refuses a declared {@code Content-Length} over the cap before anything is written. */
  void expectLength(long declared) throws BackendException {
    if (declared > cap) {
      throw tooLarge("declares " + declared + " bytes");
    }
  }

  long written() {
    return written;
  }

  void write(ByteBuffer b) throws BackendException {
    int n = b.remaining();
    if (n == 0) {
      return;
    }
    if (written + n > cap) {
      throw tooLarge("is larger");
    }
    for (int i = 0; i < n && written + i < head.length; i++) {
      head[(int) (written + i)] = b.get(b.position() + i);
    }
    if (written < head.length && written + n >= head.length) {
      checkHead();
    }
    try {
      if (channel == null) {
        channel = FileSystems.create(temp, "video/mp4");
      }
      while (b.hasRemaining()) {
        channel.write(b);
      }
    } catch (IOException | RuntimeException e) {
      throw BackendException.retryable(
          "cannot write the output to " + destinationUri + ": " + e.getClass().getSimpleName(), e);
    }
    written += n;
  }

  private void checkHead() throws BackendException {
    long boxSize =
        ((head[0] & 0xFFL) << 24)
            | ((head[1] & 0xFFL) << 16)
            | ((head[2] & 0xFFL) << 8)
            | (head[3] & 0xFFL);
    boolean ftyp = true;
    for (int i = 0; i < 4; i++) {
      ftyp &= head[4 + i] == FTYP[i];
    }
    if (!ftyp || boxSize < 8) {
      throw BackendException.permanent(
          provider + " output is not an MP4: it does not start with an ftyp box");
    }
  }

  private BackendException tooLarge(String what) {
    return BackendException.permanent(
        provider + " output " + what + " than the limit of " + cap + " bytes; refused");
  }

  /**
   * Closes, accepts the file ({@link ProviderFileCheck}: bounded parse, first and last frames
   * decoded), renames it into place. A refused file is deleted.
   */
  long commit() throws BackendException {
    if (written < head.length) {
      throw BackendException.permanent(
          provider + " output is not an MP4: " + written + " bytes, no ftyp box");
    }
    try {
      channel.close();
      channel = null;
    } catch (IOException | RuntimeException e) {
      throw BackendException.retryable(
          "cannot close the output at " + destinationUri + ": " + e.getClass().getSimpleName(), e);
    }
    return accept(written);
  }

  /** Checks the closed temporary file and renames it into place; deletes it when refused. */
  private long accept(long size) throws BackendException {
    try {
      ProviderFileCheck.check(temp, provider);
    } catch (BackendException e) {
      close();
      throw e;
    }
    try {
      ResourceId dest = FileSystems.matchNewResource(destinationUri, false);
      FileSystems.rename(List.of(temp), List.of(dest));
      committed = true;
      return size;
    } catch (IOException | RuntimeException e) {
      throw BackendException.retryable(
          "cannot move the output into place at "
              + destinationUri
              + ": "
              + e.getClass().getSimpleName(),
          e);
    }
  }

  @Override
  public void close() {
    if (committed) {
      return;
    }
    try {
      if (channel != null) {
        channel.close();
      }
    } catch (IOException | RuntimeException e) {
      // best effort
    }
    try {
      if (channel != null || written > 0) {
        FileSystems.delete(List.of(temp), MoveOptions.StandardMoveOptions.IGNORE_MISSING_FILES);
      }
    } catch (IOException | RuntimeException e) {
      // best effort: a stray .part file is never mistaken for an output
    }
    channel = null;
  }

  /**
   * Copies an object a provider wrote itself (Veo's {@code storageUri}) to {@code destinationUri}:
   * size-checked from its metadata, its first bytes checked to be an MP4, then {@code
   * FileSystems.copy} when both are on the same scheme (a server-side copy for {@code gs://}), else
   * streamed through a sink. A missing object is PERMANENT (the provider reported an output that is
   * not there).
   */
  static long copy(String sourceUri, String destinationUri, long cap, String provider)
      throws BackendException {
    MatchResult.Metadata meta;
    try {
      meta = FileSystems.matchSingleFileSpec(sourceUri);
    } catch (FileNotFoundException e) {
      throw new BackendException(
          Kind.PERMANENT, 404, null, provider + " output " + sourceUri + " does not exist");
    } catch (IOException | RuntimeException e) {
      throw BackendException.retryable(
          provider + " output " + sourceUri + " cannot be read: " + e.getClass().getSimpleName(),
          e);
    }
    if (meta.sizeBytes() > cap) {
      throw BackendException.permanent(
          provider
              + " output has "
              + meta.sizeBytes()
              + " bytes, more than the limit of "
              + cap
              + "; refused");
    }
    ResourceId dest = FileSystems.matchNewResource(destinationUri, false);
    // Within GCS a server-side copy (an object appears whole); anything else is streamed through a
    // sink, so a local destination is renamed into place complete.
    boolean serverSide =
        "gs".equalsIgnoreCase(meta.resourceId().getScheme())
            && "gs".equalsIgnoreCase(dest.getScheme());
    try (Mp4Sink sink = new Mp4Sink(destinationUri, cap, provider);
        ReadableByteChannel in = FileSystems.open(meta.resourceId())) {
      ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
      if (serverSide) {
        // Read the head only, then let the file system copy the object.
        ByteBuffer headBuf = ByteBuffer.allocate(8);
        while (headBuf.hasRemaining() && in.read(headBuf) >= 0) {
          // fill
        }
        headBuf.flip();
        sink.head(headBuf);
        sink.written = meta.sizeBytes(); // so that close() deletes a refused copy
        FileSystems.copy(List.of(meta.resourceId()), List.of(sink.temp));
        return sink.accept(meta.sizeBytes());
      }
      while (in.read(buf) >= 0) {
        buf.flip();
        sink.write(buf);
        buf.clear();
      }
      return sink.commit();
    } catch (IOException e) {
      throw BackendException.retryable(
          provider + " output " + sourceUri + " cannot be copied: " + e.getClass().getSimpleName(),
          e);
    }
  }

  /** Checks the first 8 bytes without writing anything. */
  private void head(ByteBuffer first) throws BackendException {
    if (first.remaining() < head.length) {
      throw BackendException.permanent(
          provider + " output is not an MP4: shorter than a box header");
    }
    first.get(head);
    checkHead();
  }
}
