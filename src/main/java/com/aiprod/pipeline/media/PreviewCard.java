package com.aiprod.pipeline.media;

import com.aiprod.pipeline.model.ShotSpec;
import com.google.auto.value.AutoValue;
import java.io.Serializable;

/**
 * What the preview backend draws for one shot: an "animatic" title card carrying the shot prompt
 * (DESIGN §6: 640×360, 12 fps by default).
 *
 * <p>{@link #shotIndex()} is 0-based like {@link ShotSpec#index()}; the card shows it 1-based
 * ("Shot 2/5" for index 1 of 5).
 */
@AutoValue
public abstract class PreviewCard implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Default preview width in pixels. */
  public static final int DEFAULT_WIDTH = 640;

  /** Default preview height in pixels. */
  public static final int DEFAULT_HEIGHT = 360;

  /** Default preview frame rate (frames per second). */
  public static final int DEFAULT_FPS = 12;

  /** The shot prompt; may be long, the card wraps and ellipsizes it. */
  public abstract String title();

  /** 0-based index of the shot within its job. */
  public abstract int shotIndex();

  public abstract int shotCount();

  public abstract String jobId();

  public abstract double durationSec();

  public abstract int width();

  public abstract int height();

  public abstract int fps();

  /** Number of frames the encoded clip has: {@code round(durationSec × fps)}, at least 1. */
  public int frameCount() {
    return (int) Math.max(1, Math.round(durationSec() * fps()));
  }

  /** A builder with the preview defaults (640×360, 12 fps) already set. */
  public static Builder builder() {
    return new AutoValue_PreviewCard.Builder()
        .setWidth(DEFAULT_WIDTH)
        .setHeight(DEFAULT_HEIGHT)
        .setFps(DEFAULT_FPS);
  }

  /** A card with the default size and frame rate. */
  public static PreviewCard of(
      String title, int shotIndex, int shotCount, String jobId, double durationSec) {
    return builder()
        .setTitle(title)
        .setShotIndex(shotIndex)
        .setShotCount(shotCount)
        .setJobId(jobId)
        .setDurationSec(durationSec)
        .build();
  }

  /** The card for a planned shot of a job with {@code shotCount} shots. */
  public static PreviewCard forShot(ShotSpec shot, int shotCount, String jobId) {
    return of(shot.getPrompt(), shot.getIndex(), shotCount, jobId, shot.getDurationSec());
  }

  /** Builder of {@link PreviewCard}; {@link #build()} validates the values. */
  @AutoValue.Builder
  public abstract static class Builder {
    public abstract Builder setTitle(String title);

    public abstract Builder setShotIndex(int shotIndex);

    public abstract Builder setShotCount(int shotCount);

    public abstract Builder setJobId(String jobId);

    public abstract Builder setDurationSec(double durationSec);

    public abstract Builder setWidth(int width);

    public abstract Builder setHeight(int height);

    public abstract Builder setFps(int fps);

    abstract PreviewCard autoBuild();

    /**
     * Builds the card.
     *
     * @throws IllegalArgumentException if the duration is not positive and finite, the size is not
     *     even or smaller than 64×64, the fps is outside 1..120, or the shot index is outside
     *     {@code [0, shotCount)}
     */
    public PreviewCard build() {
      PreviewCard card = autoBuild();
      if (!(card.durationSec() > 0) || Double.isInfinite(card.durationSec())) {
        throw new IllegalArgumentException("durationSec must be > 0, got " + card.durationSec());
      }
      if (card.width() < 64
          || card.height() < 64
          || card.width() % 2 != 0
          || card.height() % 2 != 0) {
        throw new IllegalArgumentException(
            "width and height must be even and >= 64, got " + card.width() + "x" + card.height());
      }
      if (card.fps() < 1 || card.fps() > 120) {
        throw new IllegalArgumentException("fps must be within 1..120, got " + card.fps());
      }
      if (card.shotCount() < 1 || card.shotIndex() < 0 || card.shotIndex() >= card.shotCount()) {
        throw new IllegalArgumentException(
            "shotIndex " + card.shotIndex() + " outside [0, " + card.shotCount() + ")");
      }
      return card;
    }
  }
}
