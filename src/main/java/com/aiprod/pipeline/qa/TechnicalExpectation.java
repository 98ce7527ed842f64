package com.aiprod.pipeline.qa;

import com.aiprod.pipeline.media.PreviewCard;
import com.aiprod.pipeline.model.Preset;
import com.google.auto.value.AutoValue;
import java.io.Serializable;
import org.apache.beam.sdk.schemas.AutoValueSchema;
import org.apache.beam.sdk.schemas.annotations.DefaultSchema;

/**
 * What Technical QA expects of a job's video (DESIGN §6): the planned total duration, the minimum
 * resolution, the frame rate and the number of planned shots.
 *
 * <p>Frame rate: a real backend renders at the requested fps, so {@link #forPreset} expects it. The
 * preview backend always renders its animatic at {@value PreviewCard#DEFAULT_FPS} fps and 640×360
 * whatever the request asked, so {@link #forPreview} expects the preview's fps and size; otherwise
 * every preview job would fail the fps and resolution checks by design.
 *
 * <p>Accessors are {@code get}-prefixed because Beam's {@link AutoValueSchema} only takes such
 * methods as fields.
 */
@DefaultSchema(AutoValueSchema.class)
@AutoValue
public abstract class TechnicalExpectation implements Serializable {
  private static final long serialVersionUID = 1L;

  public abstract double getPlannedDurationSec();

  public abstract int getMinWidth();

  public abstract int getMinHeight();

  /** Frame rate the video should have (±{@link TechnicalChecks#FPS_TOLERANCE}). */
  public abstract double getFps();

  public abstract int getPlannedShots();

  public static TechnicalExpectation create(
      double plannedDurationSec, int minWidth, int minHeight, double fps, int plannedShots) {
    return new AutoValue_TechnicalExpectation(
        plannedDurationSec, minWidth, minHeight, fps, plannedShots);
  }

  /** Expectations for a real backend: the preset's output size and the requested fps. */
  public static TechnicalExpectation forPreset(
      Preset preset, double plannedDurationSec, double requestedFps, int plannedShots) {
    return create(plannedDurationSec, preset.width(), preset.height(), requestedFps, plannedShots);
  }

  /** Expectations for the preview backend: 640×360 at the preview's 12 fps. */
  public static TechnicalExpectation forPreview(double plannedDurationSec, int plannedShots) {
    return create(
        plannedDurationSec,
        PreviewCard.DEFAULT_WIDTH,
        PreviewCard.DEFAULT_HEIGHT,
        PreviewCard.DEFAULT_FPS,
        plannedShots);
  }
}
