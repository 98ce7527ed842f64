package com.aiprod.pipeline.persist;

import com.aiprod.pipeline.model.Job;
import com.google.auto.value.AutoValue;
import javax.annotation.Nullable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CustomCoder;
import org.apache.beam.sdk.coders.NullableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;

/**
 * A job and what the job store already holds for its {@code tenants/{tenant}/jobs/{job_id}}: the
 * stored document's {@code message_id} and {@code state}, both null when there is no document.
 * Output of {@link ExistingJobLookup}, used for {@code DUPLICATE_JOB} detection.
 *
 * <p>Its coder ({@link #coder(Coder)}) wraps the coder of the input jobs, so a lookup encodes a
 * job exactly as the caller's pipeline does.
 */
@AutoValue
public abstract class JobLookup {
  public abstract Job job();

  /** The {@code message_id} of the stored document, or null when there is none. */
  public abstract @Nullable String existingMessageId();

  /** The {@code state} of the stored document, or null when there is none. */
  public abstract @Nullable String existingState();

  /** Whether a document exists for this job. */
  public boolean exists() {
    return existingState() != null || existingMessageId() != null;
  }

  /**
   * Whether the stored document was created by another message than this job's: a later
   * submission of a known {@code job_id} (a {@code DUPLICATE_JOB}).
   */
  public boolean isDuplicate() {
    return exists() && !job().messageId().equals(existingMessageId());
  }

  public static JobLookup create(
      Job job, @Nullable String existingMessageId, @Nullable String existingState) {
    return new AutoValue_JobLookup(job, existingMessageId, existingState);
  }

  /** The coder of lookups whose jobs are encoded with {@code jobCoder}. */
  public static Coder<JobLookup> coder(Coder<Job> jobCoder) {
    return new LookupCoder(jobCoder);
  }

  private static final class LookupCoder extends CustomCoder<JobLookup> {
    private static final Coder<String> STRING = NullableCoder.of(StringUtf8Coder.of());
    private final Coder<Job> jobCoder;

    LookupCoder(Coder<Job> jobCoder) {
      this.jobCoder = jobCoder;
    }

    @Override
    public void encode(JobLookup value, OutputStream out) throws IOException {
      jobCoder.encode(value.job(), out);
      STRING.encode(value.existingMessageId(), out);
      STRING.encode(value.existingState(), out);
    }

    @Override
    public JobLookup decode(InputStream in) throws IOException {
      return create(jobCoder.decode(in), STRING.decode(in), STRING.decode(in));
    }

    @Override
    public void verifyDeterministic() throws NonDeterministicException {
      jobCoder.verifyDeterministic();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof LookupCoder && ((LookupCoder) o).jobCoder.equals(jobCoder);
    }

    @Override
    public int hashCode() {
      return jobCoder.hashCode();
    }
  }
}
