package com.aiprod.pipeline.qa;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.is;

import com.aiprod.pipeline.media.VideoInfo;
import com.aiprod.pipeline.model.Preset;
import java.util.HashMap;
import java.util.Map;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.SchemaCoder;
import org.apache.beam.sdk.schemas.SchemaRegistry;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.util.SerializableUtils;
import org.junit.jupiter.api.Test;

class TechnicalChecksTest {
  private static final TechnicalExpectation PREVIEW = TechnicalExpectation.forPreview(12.5, 3);

  private static InspectionResult video(double duration, int width, int height, double fps) {
    int frames = (int) Math.round(duration * fps);
    return InspectionResult.ok(VideoInfo.create("avc1", duration, width, height, fps, frames));
  }

  private static Map<Integer, InspectionResult> shots(int count) {
    Map<Integer, InspectionResult> shots = new HashMap<>();
    for (int i = 0; i < count; i++) {
      shots.put(i, video(i == 2 ? 2.5 : 5.0, 640, 360, 12));
    }
    return shots;
  }

  private static CheckResult check(TechnicalReport report, String name) {
    return report.getChecks().stream()
        .filter(c -> c.getName().equals(name))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void allChecksPass() {
    TechnicalReport report = TechnicalChecks.run(PREVIEW, shots(3), video(12.5, 640, 360, 12));
    assertThat(report.getScore(), is(1.0));
    assertThat(report.failedChecks(), is(empty()));
    assertThat(
        report.getChecks().stream().map(CheckResult::getName).toList(),
        contains("parses", "h264", "duration", "resolution", "fps", "shots_present"));
  }

  @Test
  void durationOutsideTwoSecondsFails() {
    TechnicalReport report = TechnicalChecks.run(PREVIEW, shots(3), video(15.0, 640, 360, 12));
    assertThat(report.failedChecks(), contains("duration"));
    assertThat(report.getScore(), closeTo(5.0 / 6, 1e-9));
    assertThat(check(report, "duration").getDetail(), containsString("+2.50 s"));
    // Within tolerance passes.
    assertThat(
        TechnicalChecks.run(PREVIEW, shots(3), video(14.4, 640, 360, 12)).getScore(), is(1.0));
  }

  @Test
  void lowResolutionFailsAgainstThePreset() {
    TechnicalExpectation brand = TechnicalExpectation.forPreset(Preset.BRAND_CAMPAIGN, 12.5, 24, 3);
    TechnicalReport report = TechnicalChecks.run(brand, shots(3), video(12.5, 1280, 720, 24));
    assertThat(report.failedChecks(), contains("resolution"));
    assertThat(check(report, "resolution").getDetail(), is("1280x720 vs minimum 1920x1080"));
  }

  @Test
  void previewModeExpectsThePreviewFpsNotTheRequestedOne() {
    // A preview render is 12 fps; a real backend asked for 24 fps must deliver 24 ±1.
    assertThat(
        TechnicalChecks.run(PREVIEW, shots(3), video(12.5, 640, 360, 12)).getScore(), is(1.0));
    TechnicalExpectation real = TechnicalExpectation.forPreset(Preset.QUICK_SOCIAL, 12.5, 24, 3);
    TechnicalReport report = TechnicalChecks.run(real, shots(3), video(12.5, 1280, 720, 12));
    assertThat(report.failedChecks(), contains("fps"));
  }

  @Test
  void missingShotFails() {
    Map<Integer, InspectionResult> shots = shots(3);
    shots.remove(1);
    TechnicalReport report = TechnicalChecks.run(PREVIEW, shots, video(12.5, 640, 360, 12));
    assertThat(report.failedChecks(), contains("shots_present"));
    assertThat(check(report, "shots_present").getDetail(), is("2/3 shots present, missing [1]"));
  }

  @Test
  void unparsableFinalFailsEveryCheckAboutIt() {
    TechnicalReport report =
        TechnicalChecks.run(
            PREVIEW, shots(3), InspectionResult.failed("truncated MP4: final.mp4 ..."));
    assertThat(report.failedChecks(), contains("parses", "h264", "duration", "resolution", "fps"));
    assertThat(report.getScore(), closeTo(1.0 / 6, 1e-9));
    assertThat(check(report, "parses").getDetail(), containsString("final: truncated MP4"));
  }

  @Test
  void unparsableShotCountsAsNotParsingAndMissing() {
    Map<Integer, InspectionResult> shots = shots(3);
    shots.put(2, InspectionResult.failed("not an MP4"));
    TechnicalReport report = TechnicalChecks.run(PREVIEW, shots, video(12.5, 640, 360, 12));
    assertThat(report.failedChecks(), contains("parses", "shots_present"));
    assertThat(check(report, "parses").getDetail(), is("shot 2: not an MP4"));
  }

  @Test
  void nonH264Fails() {
    InspectionResult hevc = InspectionResult.ok(VideoInfo.create("hvc1", 12.5, 640, 360, 12, 150));
    TechnicalReport report = TechnicalChecks.run(PREVIEW, shots(3), hevc);
    assertThat(report.failedChecks(), contains("h264"));
  }

  @Test
  void reportHasABeamSchemaAndSurvivesASchemaCoderRoundTrip() throws Exception {
    SchemaRegistry registry = SchemaRegistry.createDefault();
    Schema schema = registry.getSchema(TechnicalReport.class);
    assertThat(schema.getFieldNames(), containsInAnyOrder("score", "checks"));
    assertThat(
        registry.getSchema(CheckResult.class).getFieldNames(),
        containsInAnyOrder("name", "passed", "detail"));
    assertThat(registry.getSchema(TechnicalExpectation.class).getFieldCount(), is(5));

    Map<Integer, InspectionResult> shots = shots(3);
    shots.remove(0);
    TechnicalReport report = TechnicalChecks.run(PREVIEW, shots, video(9.0, 640, 360, 12));
    SchemaCoder<TechnicalReport> coder = registry.getSchemaCoder(TechnicalReport.class);
    assertThat(CoderUtils.clone(coder, report), is(report));
    assertThat(SerializableUtils.clone(report), is(report));
  }
}
