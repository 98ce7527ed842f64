package com.aiprod.pipeline.render.backends;

import com.aiprod.pipeline.media.VideoFrames;
import java.io.IOException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SeekableByteChannel;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.ResourceId;

/**
 * The acceptance check of a provider's file (DESIGN §13), run before it is renamed into place: a
 * parse bounded by the file ({@link com.aiprod.pipeline.media.Mp4Reader}) and a decode of its first
 * and last video frames ({@link VideoFrames}). A file that fails is a {@link
 * BackendException.Kind#PERMANENT} failure: the attempt fails with the reason and the shot falls
 * back to the next candidate.
 */
final class ProviderFileCheck {
  private ProviderFileCheck() {}

  /** Checks the file at {@code file}; the reason names the check, never the file's location. */
  static void check(ResourceId file, String provider) throws BackendException {
    ReadableByteChannel channel;
    try {
      channel = FileSystems.open(file);
    } catch (IOException | RuntimeException e) {
      throw BackendException.retryable(
          provider + " output cannot be read back for its check: " + e.getClass().getSimpleName(),
          e);
    }
    try (ReadableByteChannel in = channel) {
      if (!(in instanceof SeekableByteChannel)) {
        throw BackendException.permanent(
            provider + " output cannot be checked: its file system gives no random access");
      }
      VideoFrames.of((SeekableByteChannel) in).decodeFirstAndLast();
    } catch (IOException e) {
      throw new BackendException(
          BackendException.Kind.PERMANENT,
          0,
          null,
          provider + " output refused: " + e.getMessage(),
          e);
    }
  }
}
