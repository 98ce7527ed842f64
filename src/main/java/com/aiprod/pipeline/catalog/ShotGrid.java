package com.aiprod.pipeline.catalog;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * How a job's duration is cut into shots: the one place both the planner and the router take shot
 * counts and rendered seconds from, so the price of a route always matches its plan.
 *
 * <p>Decisions where DESIGN §6 ("shots of the backend's clip length covering duration_sec") is
 * silent:
 *
 * <ul>
 *   <li><b>Finals are whole clips.</b> A final uses {@code ceil(duration / clip)} shots of exactly
 *       the clip length; the last shot is not shortened, because providers render and bill whole
 *       clips. The rendered (and billed, and planned) length may therefore exceed {@code
 *       duration_sec} by less than one clip: 30 s with 8 s clips = 4 shots = 32 s.
 *   <li><b>Several clip lengths</b> (Runway: 5 or 10 s): take the length whose grid overshoots
 *       {@code duration_sec} least (it costs least, at a per-second price); on a tie the longer
 *       clip (fewer shots: fewer API calls and cuts). 30 s → 3 × 10 s; 25 s → 5 × 5 s; 12 s → 3 × 5
 *       s.
 *   <li><b>Previews</b> use {@value #PREVIEW_CLIP_SECONDS} s shots (the preview backend renders any
 *       length, it is local and free) and the last shot takes the remainder, so a preview runs
 *       exactly {@code duration_sec}: 12 s → 5 + 5 + 2 s. Whole seconds keep every shot a whole
 *       number of frames at the preview's 12 fps.
 * </ul>
 */
public final class ShotGrid {
  /** Shot length of {@code mode=preview} plans. */
  public static final int PREVIEW_CLIP_SECONDS = 5;

  private ShotGrid() {}

  /** Number of shots of {@code clipSeconds} covering {@code durationSec}. */
  public static int shotCount(int durationSec, double clipSeconds) {
    requirePositive(durationSec, clipSeconds);
    // Guard against 30 / 7.5 style fractions landing a hair above an integer.
    double ratio = durationSec / clipSeconds;
    long rounded = Math.round(ratio);
    if (Math.abs(ratio - rounded) < 1e-9) {
      return (int) Math.max(1, rounded);
    }
    return (int) Math.ceil(ratio);
  }

  /**
   * Shot durations covering {@code durationSec}: whole clips, or, when {@code trimLast}, the last
   * shot shortened so they sum to exactly {@code durationSec}.
   */
  public static List<Double> durations(int durationSec, double clipSeconds, boolean trimLast) {
    int n = shotCount(durationSec, clipSeconds);
    List<Double> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      double d = clipSeconds;
      if (trimLast && i == n - 1) {
        d = durationSec - clipSeconds * (n - 1);
      }
      out.add(d);
    }
    return Collections.unmodifiableList(out);
  }

  /** Seconds a final renders (and is billed for) with {@code clipSeconds}: whole clips. */
  public static double renderedSeconds(int durationSec, double clipSeconds) {
    return shotCount(durationSec, clipSeconds) * clipSeconds;
  }

  /**
   * The clip length a final on {@code backend} uses for {@code durationSec}: least overshoot, then
   * the longer clip.
   *
   * @throws IllegalArgumentException for a backend without clip lengths (preview)
   */
  public static int chooseClipSeconds(PricingTable.Backend backend, int durationSec) {
    if (backend.clipSeconds().isEmpty()) {
      throw new IllegalArgumentException(
          "backend " + backend.id() + " has no clip lengths; it cannot render a final");
    }
    int best = -1;
    double bestRendered = Double.MAX_VALUE;
    for (int clip : backend.clipSeconds()) {
      double rendered = renderedSeconds(durationSec, clip);
      if (rendered < bestRendered || (rendered == bestRendered && clip > best)) {
        best = clip;
        bestRendered = rendered;
      }
    }
    return best;
  }

  private static void requirePositive(int durationSec, double clipSeconds) {
    if (durationSec <= 0 || !(clipSeconds > 0) || Double.isInfinite(clipSeconds)) {
      throw new IllegalArgumentException(
          "durationSec and clipSeconds must be > 0, got " + durationSec + ", " + clipSeconds);
    }
  }
}
