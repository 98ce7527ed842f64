package com.aiprod.pipeline.render.backends;

import java.io.Serializable;

/**
 * What one backend is asked to render for one shot.
 *
 * @param jobId the job
 * @param shotIndex 0-based shot index
 * @param attempt 1-based attempt number of this shot (across backends)
 * @param prompt the shot's prompt (never logged or audited in full)
 * @param seconds clip length to request, one the backend supports
 * @param seed the shot's seed, hash(job_id, index)
 * @param aspectRatio {@code 16:9}, {@code 9:16} or {@code 1:1}
 * @param width output width in pixels the preset asks for
 * @param height output height in pixels the preset asks for
 * @param fps frames per second requested (24, 25 or 30)
 * @param idempotencyKey stable per (tenant, job, shot, backend): a resubmission is the same
 *     generation
 * @param outputPrefix where a backend that writes its own output (Vertex AI Veo's {@code
 *     storageUri}) puts it: a directory URI under {@code --outputLocation}, ending with {@code /}
 * @param shotCount shots of the job (the preview card shows "shot i of n")
 * @param plannedSeconds the shot's planned duration (exact; {@code seconds} is what a provider's
 *     clip grid allows)
 * @param notAfterMillis the job's deadline (epoch ms, 0: none): an output download still running
 *     then is stopped
 */
public record RenderRequest(
    String jobId,
    int shotIndex,
    int attempt,
    String prompt,
    int seconds,
    long seed,
    String aspectRatio,
    int width,
    int height,
    int fps,
    String idempotencyKey,
    String outputPrefix,
    int shotCount,
    double plannedSeconds,
    long notAfterMillis)
    implements Serializable {
  private static final long serialVersionUID = 1L;

  /** A request without a deadline. */
  public RenderRequest(
      String jobId,
      int shotIndex,
      int attempt,
      String prompt,
      int seconds,
      long seed,
      String aspectRatio,
      int width,
      int height,
      int fps,
      String idempotencyKey,
      String outputPrefix,
      int shotCount,
      double plannedSeconds) {
    this(
        jobId,
        shotIndex,
        attempt,
        prompt,
        seconds,
        seed,
        aspectRatio,
        width,
        height,
        fps,
        idempotencyKey,
        outputPrefix,
        shotCount,
        plannedSeconds,
        0);
  }

  @Override
  public String toString() {
    // The prompt is user content: keep it out of logs and exception messages.
    return "RenderRequest{job="
        + jobId
        + ", shot="
        + shotIndex
        + ", attempt="
        + attempt
        + ", seconds="
        + seconds
        + ", "
        + width
        + "x"
        + height
        + "@"
        + fps
        + ", aspect="
        + aspectRatio
        + "}";
  }
}
