package com.aiprod.pipeline.jobstore;

import com.aiprod.pipeline.model.Job;
import com.google.auto.value.AutoValue;
import javax.annotation.Nullable;
import org.apache.beam.sdk.schemas.AutoValueSchema;
import org.apache.beam.sdk.schemas.annotations.DefaultSchema;

/**
 * A job and what the job store already holds for its {@code tenants/{tenant}/jobs/{job_id}}: the
 * stored document's {@code message_id} and {@code state}, both null when there is no document.
 * Output of {@link ExistingJobLookup}, used for {@code DUPLICATE_JOB} detection.
 */
@DefaultSchema(AutoValueSchema.class)
@AutoValue
public abstract class JobLookup {
  public abstract Job getJob();

  /** The {@code message_id} of the stored document, or null when there is none. */
  public abstract @Nullable String getExistingMessageId();

  /** The {@code state} of the stored document, or null when there is none. */
  public abstract @Nullable String getExistingState();

  /** The {@code uid} (owner) of the stored document, or null when there is none. */
  public abstract @Nullable String getExistingUid();

  /** Whether a document exists for this job. */
  public boolean exists() {
    return getExistingState() != null || getExistingMessageId() != null;
  }

  /**
   * Whether the stored document was created by another message than this job's: a later submission
   * of a known {@code job_id} (a {@code DUPLICATE_JOB}).
   */
  public boolean isDuplicate() {
    return exists() && !getJob().getMessageId().equals(getExistingMessageId());
  }

  public static JobLookup create(
      Job job, @Nullable String existingMessageId, @Nullable String existingState) {
    return create(job, existingMessageId, existingState, null);
  }

  public static JobLookup create(
      Job job,
      @Nullable String existingMessageId,
      @Nullable String existingState,
      @Nullable String existingUid) {
    return new AutoValue_JobLookup(job, existingMessageId, existingState, existingUid);
  }
}
