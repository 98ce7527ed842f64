package com.aiprod.pipeline.model;

import com.google.auto.value.AutoValue;
import javax.annotation.Nullable;
import org.apache.beam.sdk.schemas.AutoValueSchema;
import org.apache.beam.sdk.schemas.annotations.DefaultSchema;

/** A validated job request body with every default of DESIGN §2 applied. */
@DefaultSchema(AutoValueSchema.class)
@AutoValue
public abstract class JobRequest {
  /** NFC-normalised, trimmed. */
  public abstract String getContent();

  /** A {@link Preset#id()}. */
  public abstract String getPreset();

  /** {@code final}, {@code preview} or {@code estimate}. */
  public abstract String getMode();

  public abstract String getPriority();

  public abstract String getLang();

  public abstract int getDurationSec();

  public abstract double getBudgetUsd();

  public abstract @Nullable String getBrandId();

  public abstract @Nullable String getStyle();

  public abstract @Nullable String getMood();

  public abstract @Nullable String getCameraStyle();

  public abstract @Nullable String getColorPalette();

  /** {@code 16:9}, {@code 9:16} or {@code 1:1}. */
  public abstract String getAspectRatio();

  public abstract int getFps();

  /** A backend id forcing the route, or null. */
  public abstract @Nullable String getBackend();

  public Preset presetValue() {
    return Preset.of(getPreset());
  }

  public static Builder builder() {
    return new AutoValue_JobRequest.Builder()
        .setPreset("quick_social")
        .setMode("final")
        .setLang("en")
        .setAspectRatio("16:9")
        .setFps(24);
  }

  public abstract Builder toBuilder();

  @AutoValue.Builder
  public abstract static class Builder {
    public abstract Builder setContent(String v);

    public abstract Builder setPreset(String v);

    public abstract Builder setMode(String v);

    public abstract Builder setPriority(String v);

    public abstract Builder setLang(String v);

    public abstract Builder setDurationSec(int v);

    public abstract Builder setBudgetUsd(double v);

    public abstract Builder setBrandId(@Nullable String v);

    public abstract Builder setStyle(@Nullable String v);

    public abstract Builder setMood(@Nullable String v);

    public abstract Builder setCameraStyle(@Nullable String v);

    public abstract Builder setColorPalette(@Nullable String v);

    public abstract Builder setAspectRatio(String v);

    public abstract Builder setFps(int v);

    public abstract Builder setBackend(@Nullable String v);

    public abstract JobRequest build();
  }
}
