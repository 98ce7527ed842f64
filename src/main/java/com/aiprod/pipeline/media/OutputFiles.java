package com.aiprod.pipeline.media;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.ResourceId;

/**
 * Files under {@code --outputLocation}, through Beam's {@link FileSystems} so that {@code gs://}
 * and local directories both work. Encoders and MP4 tools need seekable local files: they work on a
 * local temp file that is then copied out (and remote files are copied in to read them).
 */
public final class OutputFiles {
  /** The contact sheet's file name beside {@code final.mp4}. */
  public static final String CONTACT_SHEET = "contact_sheet.png";

  private OutputFiles() {}

  /** {@code <outputLocation>/<tenant>/<jobId>/<relative>}. */
  public static String jobFile(
      String outputLocation, String tenant, String jobId, String relative) {
    String base = outputLocation.endsWith("/") ? outputLocation : outputLocation + "/";
    return base + tenant + "/" + jobId + "/" + relative;
  }

  /** Copies a local file to {@code uri} (local path or any registered scheme). */
  public static void publish(Path local, String uri, String mimeType) throws IOException {
    if (isLocal(uri)) {
      Path target = Paths.get(stripFileScheme(uri));
      Files.createDirectories(target.getParent());
      Path tmp = target.resolveSibling(target.getFileName() + ".tmp-" + System.nanoTime());
      Files.copy(local, tmp, StandardCopyOption.REPLACE_EXISTING);
      if (Files.getFileStore(tmp).supportsFileAttributeView("posix")) {
        // Temp files are created owner-only; deliverables are ordinary readable files.
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
      }
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return;
    }
    ResourceId id = FileSystems.matchNewResource(uri, false);
    try (WritableByteChannel ch = FileSystems.create(id, mimeType);
        OutputStream os = Channels.newOutputStream(ch)) {
      Files.copy(local, os);
    }
  }

  /** Writes bytes to {@code uri}. */
  public static void publish(byte[] bytes, String uri, String mimeType) throws IOException {
    Path tmp = Files.createTempFile("aiprod-", ".out");
    try {
      Files.write(tmp, bytes);
      publish(tmp, uri, mimeType);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /**
   * A local file with the content of {@code uri}: the file itself when local, else a temp copy that
   * the caller deletes (see {@link #isLocal}).
   */
  public static Path localCopy(String uri) throws IOException {
    if (isLocal(uri)) {
      return Paths.get(stripFileScheme(uri));
    }
    Path tmp = Files.createTempFile("aiprod-in-", ".mp4");
    ResourceId id = FileSystems.matchNewResource(uri, false);
    try (ReadableByteChannel ch = FileSystems.open(id);
        InputStream in = Channels.newInputStream(ch)) {
      Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
    }
    return tmp;
  }

  /** Whether a file exists at {@code uri}. */
  public static boolean exists(String uri) {
    if (isLocal(uri)) {
      return Files.isRegularFile(Paths.get(stripFileScheme(uri)));
    }
    try {
      return !FileSystems.match(uri, EmptyMatchTreatment.ALLOW).metadata().isEmpty();
    } catch (IOException e) {
      return false;
    }
  }

  public static boolean isLocal(String uri) {
    int colon = uri.indexOf("://");
    return colon < 0 || uri.startsWith("file://");
  }

  static String stripFileScheme(String uri) {
    return uri.startsWith("file://") ? uri.substring("file://".length()) : uri;
  }
}
