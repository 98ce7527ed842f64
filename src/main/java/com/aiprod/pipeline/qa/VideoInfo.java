package com.aiprod.pipeline.qa;

import com.google.auto.value.AutoValue;
import org.apache.beam.sdk.schemas.AutoValueSchema;
import org.apache.beam.sdk.schemas.annotations.DefaultSchema;

/** What Technical QA reads out of a real MP4 file. */
@DefaultSchema(AutoValueSchema.class)
@AutoValue
public abstract class VideoInfo {
  /** Sample-entry type of the video track, e.g. {@code avc1} for H.264. */
  public abstract String codec();

  public abstract double durationSec();

  public abstract int width();

  public abstract int height();

  public abstract double fps();

  public abstract int frameCount();

  public boolean isH264() {
    return "avc1".equals(codec()) || "avc3".equals(codec());
  }

  public static VideoInfo create(
      String codec, double durationSec, int width, int height, double fps, int frameCount) {
    return new AutoValue_VideoInfo(codec, durationSec, width, height, fps, frameCount);
  }
}
