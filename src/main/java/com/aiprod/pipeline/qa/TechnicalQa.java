package com.aiprod.pipeline.qa;

import com.aiprod.pipeline.kernel.JobStageFn;
import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.media.Mp4Inspector;
import com.aiprod.pipeline.media.OutputFiles;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobRequest;
import com.aiprod.pipeline.model.JobState;
import com.aiprod.pipeline.model.ShotSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTagList;

/**
 * TechnicalQa (DESIGN §6): reads the real MP4s (every shot and {@code final.mp4}) and scores the
 * technical checks: parses, H.264, duration, resolution, fps, every shot present.
 */
public final class TechnicalQa extends PTransform<PCollection<Job>, PCollectionTuple> {
  @Override
  public PCollectionTuple expand(PCollection<Job> jobs) {
    return jobs.apply(
        "InspectVideos",
        ParDo.of(new InspectFn())
            .withOutputTags(StageTags.JOBS, TupleTagList.of(StageTags.DEAD_LETTERS)));
  }

  static final class InspectFn extends JobStageFn {
    InspectFn() {
      super("TechnicalQa");
    }

    @Override
    protected void apply(Job job, MultiOutputReceiver out) {
      Map<Integer, InspectionResult> shots = new TreeMap<>();
      List<String> uris = job.getShotUris();
      for (int i = 0; i < uris.size(); i++) {
        shots.put(i, inspect(uris.get(i)));
      }
      InspectionResult fin =
          job.getVideoUri() == null
              ? InspectionResult.failed("no final.mp4")
              : inspect(job.getVideoUri());
      JobRequest req = job.getRequest();
      double planned = job.getShots().stream().mapToDouble(ShotSpec::getDurationSec).sum();
      TechnicalExpectation expected =
          "preview".equals(req.getMode())
              ? TechnicalExpectation.forPreview(planned, job.getShots().size())
              : TechnicalExpectation.forPreset(
                  req.presetValue(), planned, req.getFps(), job.getShots().size());
      TechnicalReport report = TechnicalChecks.run(expected, shots, fin);
      String failed = String.join(", ", report.failedChecks());
      out.get(StageTags.JOBS)
          .output(
              job.toBuilder()
                  .setQaTechnical(report.getScore())
                  .build()
                  .transition(
                      JobState.QA,
                      System.currentTimeMillis(),
                      String.format(Locale.ROOT, "technical QA %.2f", report.getScore())
                          + (failed.isEmpty() ? "" : " (failed: " + failed + ")")));
    }

    static InspectionResult inspect(String uri) {
      Path local = null;
      try {
        local = OutputFiles.localCopy(uri);
        return InspectionResult.ok(Mp4Inspector.inspect(local));
      } catch (IOException e) {
        return InspectionResult.failed(uri + ": " + e.getMessage());
      } finally {
        if (local != null && !OutputFiles.isLocal(uri)) {
          try {
            Files.deleteIfExists(local);
          } catch (IOException ignored) {
            // temp copy cleanup only
          }
        }
      }
    }
  }
}
