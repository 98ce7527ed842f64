package com.aiprod.pipeline.assemble;

import com.aiprod.pipeline.StageTags;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobState;
import com.aiprod.pipeline.model.ReasonCode;
import com.aiprod.pipeline.model.ShotResult;
import com.aiprod.pipeline.model.ShotSpec;
import com.aiprod.pipeline.render.OutputFiles;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.transforms.join.CoGbkResult;
import org.apache.beam.sdk.transforms.join.CoGroupByKey;
import org.apache.beam.sdk.transforms.join.KeyedPCollectionTuple;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * AssembleJobs (DESIGN §6): collects each job's shot results; when every planned shot rendered,
 * concatenates them in shot order into {@code final.mp4} and writes {@code manifest.json} next to
 * it, under {@code <outputLocation>/<tenant>/<job_id>/}, and hands the job to QA. A job with a
 * shot that no attempt rendered ends FAILED (RENDER_FAILED) with every attempt's error.
 */
public final class AssembleJobs extends PTransform<PCollectionTuple, PCollectionTuple> {
  private static final TupleTag<Job> JOB = new TupleTag<Job>() {};
  private static final TupleTag<ShotResult> SHOT = new TupleTag<ShotResult>() {};

  private final TupleTag<Job> jobsTag;
  private final TupleTag<ShotResult> resultsTag;
  private final String outputLocation;

  /**
   * @param jobsTag tag of the rendering jobs in the input tuple
   * @param resultsTag tag of their shot results
   */
  public AssembleJobs(TupleTag<Job> jobsTag, TupleTag<ShotResult> resultsTag, String outputLocation) {
    this.jobsTag = jobsTag;
    this.resultsTag = resultsTag;
    this.outputLocation = outputLocation;
  }

  @Override
  public PCollectionTuple expand(PCollectionTuple input) {
    PCollection<KV<String, Job>> jobs =
        input.get(jobsTag).apply("KeyJobs", WithKeys.of((Job j) -> j.key()).withKeyType(TypeDescriptors.strings()));
    PCollection<KV<String, ShotResult>> shots =
        input
            .get(resultsTag)
            .apply(
                "KeyShots",
                WithKeys.of((ShotResult r) -> Job.keyOf(r.getTenant(), r.getJobId()))
                    .withKeyType(TypeDescriptors.strings()));
    return KeyedPCollectionTuple.of(JOB, jobs)
        .and(SHOT, shots)
        .apply("CollectShotsPerJob", CoGroupByKey.create())
        .apply(
            "ConcatenateShots",
            ParDo.of(new AssembleFn(outputLocation))
                .withOutputTags(StageTags.JOBS, TupleTagList.of(StageTags.FINISHED)));
  }

  static final class AssembleFn extends DoFn<KV<String, CoGbkResult>, Job> {
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private final String outputLocation;

    AssembleFn(String outputLocation) {
      this.outputLocation = outputLocation;
    }

    @ProcessElement
    public void process(@Element KV<String, CoGbkResult> group, MultiOutputReceiver out) {
      Iterable<Job> jobs = group.getValue().getAll(JOB);
      List<ShotResult> results = new ArrayList<>();
      group.getValue().getAll(SHOT).forEach(results::add);
      for (Job job : jobs) { // exactly one job per key (Admit removed duplicates)
        Job assembled;
        try {
          assembled = assemble(job, results);
        } catch (IOException | RuntimeException e) {
          assembled =
              job.finish(
                  JobState.FAILED,
                  ReasonCode.INTERNAL_ERROR,
                  "assembly failed: " + e.getClass().getSimpleName() + ": " + e.getMessage(),
                  System.currentTimeMillis());
        }
        out.get(assembled.stateValue().isTerminal() ? StageTags.FINISHED : StageTags.JOBS).output(assembled);
      }
    }

    Job assemble(Job job, List<ShotResult> results) throws IOException {
      Map<Integer, ShotResult> done = new TreeMap<>();
      List<String> errors = new ArrayList<>();
      double cost = 0;
      for (ShotResult r : results) {
        cost += r.getCostUsd();
        if (r.succeeded()) {
          done.merge(r.getShotIndex(), r, (a, b) -> a.getAttempt() >= b.getAttempt() ? a : b);
        } else {
          errors.add("shot " + r.getShotIndex() + " attempt " + r.getAttempt() + " on " + r.getBackend() + ": " + r.getError());
        }
      }
      long now = System.currentTimeMillis();
      List<String> uris = new ArrayList<>();
      done.values().forEach(r -> uris.add(r.getUri()));
      Job rendered = job.toBuilder().setCostUsd(cost).setShotsDone(done.size()).setShotUris(uris).build();
      if (done.size() < job.getShots().size()) {
        return rendered.finish(
            JobState.FAILED,
            ReasonCode.RENDER_FAILED,
            (job.getShots().size() - done.size()) + " of " + job.getShots().size()
                + " shots were not rendered: " + String.join("; ", errors),
            now);
      }
      String videoUri = OutputFiles.jobFile(outputLocation, job.getTenant(), job.getJobId(), "final.mp4");
      String manifestUri = OutputFiles.jobFile(outputLocation, job.getTenant(), job.getJobId(), "manifest.json");
      List<Path> locals = new ArrayList<>();
      Path finalTmp = Files.createTempFile("aiprod-final-", ".mp4");
      try {
        for (String uri : uris) {
          locals.add(OutputFiles.localCopy(uri));
        }
        Mp4Concatenator.concat(locals, finalTmp);
        OutputFiles.publish(finalTmp, videoUri, "video/mp4");
      } finally {
        Files.deleteIfExists(finalTmp);
        for (int i = 0; i < locals.size(); i++) {
          if (!OutputFiles.isLocal(uris.get(i))) {
            Files.deleteIfExists(locals.get(i));
          }
        }
      }
      OutputFiles.publish(MAPPER.writeValueAsBytes(manifest(job, done, videoUri, cost)), manifestUri, "application/json");
      return rendered.toBuilder()
          .setVideoUri(videoUri)
          .setManifestUri(manifestUri)
          .build();
    }

    static ObjectNode manifest(Job job, Map<Integer, ShotResult> done, String videoUri, double cost) {
      ObjectNode m = MAPPER.createObjectNode();
      m.put("job_id", job.getJobId()).put("tenant", job.getTenant()).put("uid", job.getUid());
      m.put("preset", job.getRequest().getPreset()).put("mode", job.getRequest().getMode());
      m.put("lang", job.getRequest().getLang()).put("duration_sec", job.getRequest().getDurationSec());
      m.put("backend", job.getBackend()).put("video", videoUri).put("cost_usd", cost);
      m.put("assembled_at", Instant.now().toString());
      ArrayNode shots = m.putArray("shots");
      for (ShotSpec s : job.getShots()) {
        ShotResult r = done.get(s.getIndex());
        ObjectNode n = shots.addObject();
        n.put("index", s.getIndex()).put("duration_sec", s.getDurationSec()).put("seed", s.getSeed());
        n.put("uri", r.getUri()).put("backend", r.getBackend()).put("attempt", r.getAttempt());
      }
      return m;
    }
  }
}
