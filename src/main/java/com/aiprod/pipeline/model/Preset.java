package com.aiprod.pipeline.model;

import java.util.Arrays;
import java.util.Optional;

/** The presets of DESIGN §4. */
public enum Preset {
  QUICK_SOCIAL("quick_social", 0.60, 30, 3.00, "low", 300, 1280, 720),
  BRAND_CAMPAIGN("brand_campaign", 0.80, 120, 12.00, "normal", 900, 1920, 1080),
  PREMIUM_SPOT("premium_spot", 0.90, 180, 30.00, "high", 1800, 1920, 1080);

  private final String id;
  private final double qualityFloor;
  private final int maxDurationSec;
  private final double defaultBudgetPerMinute;
  private final String defaultPriority;
  private final int deadlineSec;
  private final int width;
  private final int height;

  Preset(
      String id,
      double qualityFloor,
      int maxDurationSec,
      double defaultBudgetPerMinute,
      String defaultPriority,
      int deadlineSec,
      int width,
      int height) {
    this.id = id;
    this.qualityFloor = qualityFloor;
    this.maxDurationSec = maxDurationSec;
    this.defaultBudgetPerMinute = defaultBudgetPerMinute;
    this.defaultPriority = defaultPriority;
    this.deadlineSec = deadlineSec;
    this.width = width;
    this.height = height;
  }

  public String id() {
    return id;
  }

  public double qualityFloor() {
    return qualityFloor;
  }

  public int maxDurationSec() {
    return maxDurationSec;
  }

  public double defaultBudgetPerMinute() {
    return defaultBudgetPerMinute;
  }

  /** Default budget for a duration: the preset's $/min × duration / 60. */
  public double defaultBudgetUsd(int durationSec) {
    return defaultBudgetPerMinute * durationSec / 60.0;
  }

  public String defaultPriority() {
    return defaultPriority;
  }

  public int deadlineSec() {
    return deadlineSec;
  }

  public int width() {
    return width;
  }

  public int height() {
    return height;
  }

  public static Optional<Preset> fromId(String id) {
    return Arrays.stream(values()).filter(p -> p.id.equals(id)).findFirst();
  }

  public static Preset of(String id) {
    return fromId(id).orElseThrow(() -> new IllegalArgumentException("unknown preset " + id));
  }
}
