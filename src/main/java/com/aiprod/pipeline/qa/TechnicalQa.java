package com.aiprod.pipeline.qa;

import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobRequest;
import com.aiprod.pipeline.model.ShotSpec;
import com.aiprod.pipeline.render.OutputFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;

/**
 * TechnicalQa (DESIGN §6): reads the real MP4s (every shot and {@code final.mp4}) and scores the
 * technical checks: parses, H.264, duration, resolution, fps, every shot present.
 */
public final class TechnicalQa extends PTransform<PCollection<Job>, PCollection<Job>> {
  @Override
  public PCollection<Job> expand(PCollection<Job> jobs) {
    return jobs.apply("InspectVideos", ParDo.of(new InspectFn()));
  }

  static final class InspectFn extends DoFn<Job, Job> {
    @ProcessElement
    public void process(@Element Job job, OutputReceiver<Job> out) {
      List<TechnicalChecks.Inspection> shots = new ArrayList<>();
      for (String uri : job.shotUris()) {
        shots.add(inspect(uri));
      }
      TechnicalChecks.Inspection fin = job.videoUri() == null ? TechnicalChecks.Inspection.failed("no final.mp4") : inspect(job.videoUri());
      JobRequest req = job.request();
      double planned = job.shots().stream().mapToDouble(ShotSpec::durationSec).sum();
      TechnicalReport report =
          TechnicalChecks.evaluate(
              TechnicalChecks.Expectation.forJob(req, planned, job.shots().size()), shots, fin);
      out.output(job.toBuilder().setQaTechnical(report.score()).build());
    }

    static TechnicalChecks.Inspection inspect(String uri) {
      Path local = null;
      try {
        local = OutputFiles.localCopy(uri);
        return TechnicalChecks.Inspection.of(Mp4Inspector.inspect(local));
      } catch (IOException e) {
        return TechnicalChecks.Inspection.failed(uri + ": " + e.getMessage());
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
