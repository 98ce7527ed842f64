package com.aiprod.pipeline.qa;

import com.aiprod.pipeline.media.VideoInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The technical QA of DESIGN §6 as pure logic over inspected files: the final video parses and so
 * does every shot, it is H.264, its duration is within ±{@value #DURATION_TOLERANCE_SEC} s of the
 * plan, its resolution is at least the expected one, its frame rate is within ±{@value
 * #FPS_TOLERANCE} of the expected one, and every planned shot is present. Score = passed / checks
 * (see {@link TechnicalExpectation} for the preview's fps and size).
 */
public final class TechnicalChecks {
  public static final String PARSES = "parses";
  public static final String H264 = "h264";
  public static final String DURATION = "duration";
  public static final String RESOLUTION = "resolution";
  public static final String FPS = "fps";
  public static final String SHOTS_PRESENT = "shots_present";

  /** Allowed difference between the final's duration and the plan, in seconds. */
  public static final double DURATION_TOLERANCE_SEC = 2.0;

  /** Allowed difference between the final's frame rate and the expected one. */
  public static final double FPS_TOLERANCE = 1.0;

  private static final String NO_FINAL = "final video unavailable";

  private TechnicalChecks() {}

  /**
   * Runs the checks.
   *
   * @param expected what the plan and preset (or preview mode) call for
   * @param shots inspection of each rendered shot by 0-based shot index; a planned index missing
   *     from the map is a missing shot
   * @param finalVideo inspection of the assembled video
   */
  public static TechnicalReport run(
      TechnicalExpectation expected,
      Map<Integer, InspectionResult> shots,
      InspectionResult finalVideo) {
    Map<Integer, InspectionResult> byIndex = new TreeMap<>(shots);
    VideoInfo info = finalVideo.info();
    List<CheckResult> checks = new ArrayList<>();

    List<String> unparsable = new ArrayList<>();
    if (info == null) {
      unparsable.add("final: " + finalVideo.error());
    }
    byIndex.forEach(
        (index, result) -> {
          if (!result.parsed()) {
            unparsable.add("shot " + index + ": " + result.error());
          }
        });
    checks.add(
        CheckResult.create(
            PARSES,
            unparsable.isEmpty(),
            unparsable.isEmpty()
                ? "final and " + byIndex.size() + " shot file(s) parse"
                : String.join("; ", unparsable)));

    if (info == null) {
      checks.add(CheckResult.create(H264, false, NO_FINAL));
      checks.add(CheckResult.create(DURATION, false, NO_FINAL));
      checks.add(CheckResult.create(RESOLUTION, false, NO_FINAL));
      checks.add(CheckResult.create(FPS, false, NO_FINAL));
    } else {
      List<String> notH264 = new ArrayList<>();
      if (!info.isH264()) {
        notH264.add("final is " + info.getCodec());
      }
      byIndex.forEach(
          (index, result) -> {
            if (result.parsed() && !result.info().isH264()) {
              notH264.add("shot " + index + " is " + result.info().getCodec());
            }
          });
      checks.add(
          CheckResult.create(
              H264,
              notH264.isEmpty(),
              notH264.isEmpty() ? "codec " + info.getCodec() : String.join("; ", notH264)));

      double delta = info.getDurationSec() - expected.getPlannedDurationSec();
      checks.add(
          CheckResult.create(
              DURATION,
              Math.abs(delta) <= DURATION_TOLERANCE_SEC,
              String.format(
                  Locale.ROOT,
                  "%.2f s vs planned %.2f s (%+.2f s, tolerance ±%.0f s)",
                  info.getDurationSec(),
                  expected.getPlannedDurationSec(),
                  delta,
                  DURATION_TOLERANCE_SEC)));

      checks.add(
          CheckResult.create(
              RESOLUTION,
              info.getWidth() >= expected.getMinWidth()
                  && info.getHeight() >= expected.getMinHeight(),
              String.format(
                  Locale.ROOT,
                  "%dx%d vs minimum %dx%d",
                  info.getWidth(),
                  info.getHeight(),
                  expected.getMinWidth(),
                  expected.getMinHeight())));

      checks.add(
          CheckResult.create(
              FPS,
              Math.abs(info.getFps() - expected.getFps()) <= FPS_TOLERANCE,
              String.format(
                  Locale.ROOT,
                  "%.2f fps vs expected %.2f (tolerance ±%.0f)",
                  info.getFps(),
                  expected.getFps(),
                  FPS_TOLERANCE)));
    }

    List<Integer> missing = new ArrayList<>();
    for (int i = 0; i < expected.getPlannedShots(); i++) {
      InspectionResult shot = byIndex.get(i);
      if (shot == null || !shot.parsed()) {
        missing.add(i);
      }
    }
    int present = expected.getPlannedShots() - missing.size();
    checks.add(
        CheckResult.create(
            SHOTS_PRESENT,
            missing.isEmpty(),
            missing.isEmpty()
                ? present + "/" + expected.getPlannedShots() + " shots present"
                : present
                    + "/"
                    + expected.getPlannedShots()
                    + " shots present, missing "
                    + missing));

    return TechnicalReport.of(checks);
  }
}
