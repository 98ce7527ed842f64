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
  public abstract String content();

  /** A {@link Preset#id()}. */
  public abstract String preset();

  /** {@code final}, {@code preview} or {@code estimate}. */
  public abstract String mode();

  public abstract String priority();

  public abstract String lang();

  public abstract int durationSec();

  public abstract double budgetUsd();

  public abstract @Nullable String brandId();

  public abstract @Nullable String style();

  public abstract @Nullable String mood();

  public abstract @Nullable String cameraStyle();

  public abstract @Nullable String colorPalette();

  /** {@code 16:9}, {@code 9:16} or {@code 1:1}. */
  public abstract String aspectRatio();

  public abstract int fps();

  /** A backend id forcing the route, or null. */
  public abstract @Nullable String backend();

  public Preset presetValue() {
    return Preset.of(preset());
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
