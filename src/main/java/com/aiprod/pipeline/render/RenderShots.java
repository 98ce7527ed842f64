package com.aiprod.pipeline.render;

import com.aiprod.pipeline.StageTags;
import com.aiprod.pipeline.audit.AuditEvents;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobState;
import com.aiprod.pipeline.persist.FirestoreClients;
import com.aiprod.pipeline.qa.Mp4Inspector;
import com.google.cloud.firestore.DocumentSnapshot;
import com.google.cloud.firestore.Firestore;
import javax.annotation.Nullable;
import com.aiprod.pipeline.model.ShotResult;
import com.aiprod.pipeline.model.ShotSpec;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.apache.beam.sdk.metrics.Distribution;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.FlatMapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.apache.beam.sdk.values.TypeDescriptor;
import java.util.stream.Collectors;

/**
 * RenderShots (DESIGN §5, §6): fans each job out into one {@link ShotTask} per planned shot,
 * spreads them over workers, and renders each on the job's backend. This slice has the
 * {@code preview} backend: a real H.264 MP4 title card per shot (640×360, 12 fps) written under
 * {@code --outputLocation}. Every attempt is a {@code shot_renders} row; a failed render is a
 * failed attempt, never a lost shot.
 */
public final class RenderShots extends PTransform<PCollection<Job>, PCollectionTuple> {
  public static final TupleTag<ShotResult> RESULTS = new TupleTag<ShotResult>() {};

  private final AuditEvents audit;
  private final String outputLocation;
  private final @Nullable FirestoreClients jobDocuments;

  /**
   * @param jobDocuments where to check, before each shot, whether its job was cancelled (null:
   *     never check, for tests without a job store)
   */
  public RenderShots(AuditEvents audit, String outputLocation, @Nullable FirestoreClients jobDocuments) {
    this.audit = audit;
    this.outputLocation = outputLocation;
    this.jobDocuments = jobDocuments;
  }

  @Override
  public PCollectionTuple expand(PCollection<Job> jobs) {
    return jobs.apply(
            "FanOutShots",
            FlatMapElements.into(TypeDescriptor.of(ShotTask.class))
                .via(
                    (Job j) ->
                        j.getShots().stream()
                            .map(
                                s ->
                                    ShotTask.create(
                                        j.getTenant(), j.getJobId(), j.getMessageId(), j.getUid(), j.getBackend(),
                                        j.getShots().size(), s))
                            .collect(Collectors.toList())))
        .apply("SpreadShots", Reshuffle.<ShotTask>viaRandomKey().withNumBuckets(64))
        .apply(
            "RenderShot",
            ParDo.of(new RenderFn(audit, outputLocation, jobDocuments))
                .withOutputTags(RESULTS, TupleTagList.of(StageTags.AUDIT)));
  }

  static final class RenderFn extends DoFn<ShotTask, ShotResult> {
    private final AuditEvents audit;
    private final String outputLocation;
    private final @Nullable FirestoreClients jobDocuments;
    private final Distribution latency = Metrics.distribution("aiprod", "render_latency_ms");
    private transient Firestore firestore;

    RenderFn(AuditEvents audit, String outputLocation, @Nullable FirestoreClients jobDocuments) {
      this.audit = audit;
      this.outputLocation = outputLocation;
      this.jobDocuments = jobDocuments;
    }

    @Setup
    public void setup() {
      if (jobDocuments != null) {
        firestore = jobDocuments.open();
      }
    }

    @Teardown
    public void teardown() throws Exception {
      if (firestore != null) {
        firestore.close();
      }
    }

    /** Whether the job's document says CANCELLED (a cancel stops the job's remaining renders). */
    private boolean cancelled(ShotTask task) throws Exception {
      if (firestore == null) {
        return false;
      }
      DocumentSnapshot doc =
          firestore.document("tenants/" + task.getTenant() + "/jobs/" + task.getJobId()).get().get();
      return doc.exists() && JobState.CANCELLED.name().equals(doc.getString("state"));
    }

    /** A complete rendering of this shot is already at {@code uri}. */
    static boolean alreadyRendered(String uri, ShotSpec shot) {
      if (!OutputFiles.exists(uri)) {
        return false;
      }
      Path local = null;
      try {
        local = OutputFiles.localCopy(uri);
        return Math.abs(Mp4Inspector.inspect(local).getDurationSec() - shot.getDurationSec()) < 0.1;
      } catch (java.io.IOException e) {
        return false; // unreadable or partial: render it again
      } finally {
        if (local != null && !OutputFiles.isLocal(uri)) {
          local.toFile().delete();
        }
      }
    }

    @ProcessElement
    public void process(@Element ShotTask task, MultiOutputReceiver out) throws Exception {
      ShotSpec shot = task.getShot();
      long started = System.currentTimeMillis();
      if (cancelled(task)) {
        Metrics.counter("aiprod", "shots_cancelled").inc();
        out.get(RESULTS)
            .output(
                ShotResult.builder()
                    .setTenant(task.getTenant())
                    .setJobId(task.getJobId())
                    .setShotIndex(shot.getIndex())
                    .setAttempt(1)
                    .setBackend(task.getBackend())
                    .setStatus("cancelled")
                    .setError("the job was cancelled before this shot was rendered")
                    .setCostUsd(0.0)
                    .setLatencyMs(0)
                    .setStartedAtMillis(started)
                    .setFinishedAtMillis(started)
                    .setUri(null)
                    .build());
        return;
      }
      Metrics.counter("aiprod", "shots_submitted_" + task.getBackend()).inc();
      String uri =
          OutputFiles.jobFile(
              outputLocation, task.getTenant(), task.getJobId(),
              String.format(Locale.ROOT, "shots/shot-%03d.mp4", shot.getIndex()));
      String error = null;
      Path tmp = null;
      try {
        if (!"preview".equals(task.getBackend())) {
          throw new IllegalStateException("backend " + task.getBackend() + " is not available in this build");
        }
        if (alreadyRendered(uri, shot)) {
          // A redelivered job after a restart: the shot's file is the memory, never render twice.
          Metrics.counter("aiprod", "shots_reused").inc();
        } else {
          tmp = Files.createTempFile("aiprod-shot-", ".mp4");
          PreviewEncoder.encode(tmp, PreviewCard.forShot(shot, task.getShotCount(), task.getJobId()));
          OutputFiles.publish(tmp, uri, "video/mp4");
        }
      } catch (Exception e) {
        error = e.getClass().getSimpleName() + ": " + e.getMessage();
      } finally {
        if (tmp != null) {
          try {
            Files.deleteIfExists(tmp);
          } catch (java.io.IOException ignored) {
            // temp file cleanup only
          }
        }
      }
      long finished = System.currentTimeMillis();
      latency.update(finished - started);
      boolean ok = error == null;
      Metrics.counter("aiprod", (ok ? "shots_succeeded_" : "shots_failed_") + task.getBackend()).inc();
      out.get(RESULTS)
          .output(
              ShotResult.builder()
                  .setTenant(task.getTenant())
                  .setJobId(task.getJobId())
                  .setShotIndex(shot.getIndex())
                  .setAttempt(1)
                  .setBackend(task.getBackend())
                  .setStatus(ok ? "succeeded" : "failed")
                  .setError(error)
                  .setCostUsd(0.0)
                  .setLatencyMs(finished - started)
                  .setStartedAtMillis(started)
                  .setFinishedAtMillis(finished)
                  .setUri(ok ? uri : null)
                  .build());
      ObjectNode d =
          AuditEvents.details()
              .put("backend", task.getBackend())
              .put("shot_index", shot.getIndex())
              .put("attempt", 1)
              .put("latency_ms", finished - started)
              .put("cost_usd", 0.0);
      if (!ok) {
        d.put("error", error);
      }
      out.get(StageTags.AUDIT)
          .output(
              audit.event(
                  AuditEvents.API_CALL, ok ? AuditEvents.SUCCESS : AuditEvents.FAILURE, "render_shot",
                  task.getMessageId(), task.getTenant(), task.getUid(), task.getJobId(), task.getBackend(), d,
                  finished, "shot-" + shot.getIndex() + "-attempt-1"));
    }
  }
}
