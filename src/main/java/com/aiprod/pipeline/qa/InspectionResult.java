package com.aiprod.pipeline.qa;

import com.aiprod.pipeline.media.Mp4Inspector;
import com.aiprod.pipeline.media.VideoInfo;
import com.google.auto.value.AutoValue;
import java.io.IOException;
import java.nio.file.Path;
import javax.annotation.Nullable;

/**
 * The outcome of inspecting one MP4: either its {@link VideoInfo} or why it could not be read.
 *
 * <p>An input of {@link TechnicalChecks}, meant to be built and consumed inside one step; it has no
 * Beam schema because {@link VideoInfo}'s accessors are not {@code get}-prefixed, so Beam's {@code
 * AutoValueSchema} would infer an empty row for it.
 */
@AutoValue
public abstract class InspectionResult {
  /** What was read; null if the file could not be inspected. */
  public abstract @Nullable VideoInfo info();

  /** Why the file could not be inspected; null if it was. */
  public abstract @Nullable String error();

  /** Whether the file parsed as an MP4 with a video track. */
  public boolean parsed() {
    return info() != null;
  }

  public static InspectionResult create(@Nullable VideoInfo info, @Nullable String error) {
    if ((info == null) == (error == null)) {
      throw new IllegalArgumentException("exactly one of info and error must be set");
    }
    return new AutoValue_InspectionResult(info, error);
  }

  public static InspectionResult ok(VideoInfo info) {
    return create(info, null);
  }

  public static InspectionResult failed(String error) {
    return create(null, error);
  }

  /** Inspects {@code mp4} with {@link Mp4Inspector}, turning a failure into a result. */
  public static InspectionResult of(Path mp4) {
    try {
      return ok(Mp4Inspector.inspect(mp4));
    } catch (IOException e) {
      return failed(e.getMessage() == null ? e.toString() : e.getMessage());
    }
  }
}
