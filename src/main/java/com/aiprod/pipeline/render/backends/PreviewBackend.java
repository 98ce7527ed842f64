package com.aiprod.pipeline.render.backends;

import com.aiprod.pipeline.media.OutputFiles;
import com.aiprod.pipeline.media.PreviewCard;
import com.aiprod.pipeline.media.PreviewEncoder;
import com.aiprod.pipeline.model.ShotSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The {@code preview} backend (DESIGN §5, {@code mode=preview}, $0): encodes a real H.264 title
 * card per shot (640×360, 12 fps) on the worker. A submit encodes into a temporary file (a few
 * hundred milliseconds of CPU, not minutes) whose path is the operation; the poll finds it done;
 * the fetch publishes it to the shot's URI.
 */
public final class PreviewBackend implements VideoBackend {
  private final String id;

  public PreviewBackend(String id) {
    this.id = id;
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public boolean completesOnSubmit() {
    return true;
  }

  @Override
  public String submit(RenderRequest request) throws BackendException {
    Path tmp = null;
    try {
      tmp = Files.createTempFile("aiprod-shot-", ".mp4");
      ShotSpec shot =
          ShotSpec.create(
              request.shotIndex(), request.plannedSeconds(), request.prompt(), request.seed());
      PreviewEncoder.encode(tmp, PreviewCard.forShot(shot, request.shotCount(), request.jobId()));
      return tmp.toString();
    } catch (IOException | RuntimeException e) {
      deleteQuietly(tmp);
      throw BackendException.permanent(
          "the preview encoder failed: " + e.getClass().getSimpleName() + ": " + e.getMessage());
    }
  }

  @Override
  public PollResult poll(String operation) {
    return Files.isRegularFile(Path.of(operation))
        ? PollResult.succeeded(operation, 0.0)
        : PollResult.failed("the encoded preview " + operation + " is gone");
  }

  @Override
  public long fetch(PollResult succeeded, String destinationUri) throws BackendException {
    Path tmp = Path.of(succeeded.outputUri());
    try {
      long size = Files.size(tmp);
      OutputFiles.publish(tmp, destinationUri, "video/mp4");
      return size;
    } catch (IOException e) {
      throw BackendException.retryable(
          "publishing the preview to " + destinationUri + " failed: " + e.getMessage(), e);
    } finally {
      deleteQuietly(tmp);
    }
  }

  @Override
  public void cancel(String operation) {
    deleteQuietly(Path.of(operation));
  }

  @Override
  public void refreshCredentials() {}

  @Override
  public void close() {}

  private static void deleteQuietly(Path p) {
    if (p != null) {
      try {
        Files.deleteIfExists(p);
      } catch (IOException ignored) {
        // a temporary file
      }
    }
  }
}
