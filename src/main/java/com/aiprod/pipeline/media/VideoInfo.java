package com.aiprod.pipeline.media;

import com.google.auto.value.AutoValue;
import org.apache.beam.sdk.schemas.AutoValueSchema;
import org.apache.beam.sdk.schemas.annotations.DefaultSchema;

/** What Technical QA reads out of a real MP4 file. */
@DefaultSchema(AutoValueSchema.class)
@AutoValue
public abstract class VideoInfo {
  /** Sample-entry type of the video track, e.g. {@code avc1} for H.264. */
  public abstract String getCodec();

  public abstract double getDurationSec();

  public abstract int getWidth();

  public abstract int getHeight();

  public abstract double getFps();

  public abstract int getFrameCount();

  public boolean isH264() {
    return "avc1".equals(getCodec()) || "avc3".equals(getCodec());
  }

  public static VideoInfo create(
      String codec, double durationSec, int width, int height, double fps, int frameCount) {
    return new AutoValue_VideoInfo(codec, durationSec, width, height, fps, frameCount);
  }
}
