package com.aiprod.pipeline.render;

import com.aiprod.pipeline.catalog.Router;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobRequest;
import com.aiprod.pipeline.model.Preset;
import com.aiprod.pipeline.model.ShotSpec;
import com.google.auto.value.AutoValue;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.schemas.AutoValueSchema;
import org.apache.beam.sdk.schemas.annotations.DefaultSchema;

/** One shot of one job to render: what RenderShots fans a job out into. */
@DefaultSchema(AutoValueSchema.class)
@AutoValue
public abstract class ShotTask {
  /** The preview animatic's frame size (DESIGN §6). */
  public static final int PREVIEW_WIDTH = 640;

  public static final int PREVIEW_HEIGHT = 360;

  public abstract String getTenant();

  public abstract String getJobId();

  public abstract String getMessageId();

  public abstract String getUid();

  /** The routed backend: the shot's first candidate. */
  public abstract String getBackend();

  /** The next candidates, in the router's order, should the routed backend fail (DESIGN §5). */
  public abstract List<String> getFallbackBackends();

  public abstract int getShotCount();

  public abstract ShotSpec getShot();

  public abstract String getAspectRatio();

  public abstract int getFps();

  public abstract int getWidth();

  public abstract int getHeight();

  /**
   * When the job's preset deadline passes (received + the preset's deadline, DESIGN §4), epoch ms;
   * 0: none. The shot gives up at this time, whatever it is waiting for.
   */
  public abstract long getDeadlineAtMillis();

  /** Whether the job's deadline has passed at {@code now}. */
  public boolean pastDeadline(long now) {
    return getDeadlineAtMillis() > 0 && now >= getDeadlineAtMillis();
  }

  /** Backend of candidate {@code i} (0: the routed one), null past the last. */
  public String candidate(int i) {
    if (i == 0) {
      return getBackend();
    }
    return i - 1 < getFallbackBackends().size() ? getFallbackBackends().get(i - 1) : null;
  }

  public String key() {
    return Job.keyOf(getTenant(), getJobId()) + "/" + getShot().getIndex();
  }

  public static ShotTask create(
      String tenant,
      String jobId,
      String messageId,
      String uid,
      String backend,
      List<String> fallbacks,
      int shotCount,
      ShotSpec shot,
      String aspectRatio,
      int fps,
      int width,
      int height) {
    return create(
        tenant,
        jobId,
        messageId,
        uid,
        backend,
        fallbacks,
        shotCount,
        shot,
        aspectRatio,
        fps,
        width,
        height,
        0);
  }

  /** As above, with the job's deadline (epoch ms, 0: none). */
  public static ShotTask create(
      String tenant,
      String jobId,
      String messageId,
      String uid,
      String backend,
      List<String> fallbacks,
      int shotCount,
      ShotSpec shot,
      String aspectRatio,
      int fps,
      int width,
      int height,
      long deadlineAtMillis) {
    return new AutoValue_ShotTask(
        tenant,
        jobId,
        messageId,
        uid,
        backend,
        new ArrayList<>(fallbacks),
        shotCount,
        shot,
        aspectRatio,
        fps,
        width,
        height,
        deadlineAtMillis);
  }

  /** The task of one planned shot of {@code job}. */
  public static ShotTask of(Job job, ShotSpec shot) {
    JobRequest r = job.getRequest();
    boolean preview = Router.PREVIEW.equals(job.getBackend());
    Preset preset = r.presetValue();
    return create(
        job.getTenant(),
        job.getJobId(),
        job.getMessageId(),
        job.getUid(),
        job.getBackend(),
        job.getFallbackBackends(),
        job.getShots().size(),
        shot,
        r.getAspectRatio(),
        r.getFps(),
        preview ? PREVIEW_WIDTH : preset.width(),
        preview ? PREVIEW_HEIGHT : preset.height(),
        job.deadlineAtMillis());
  }
}
