package com.aiprod.pipeline.testing;

import com.aiprod.pipeline.jobstore.JobLookup;
import com.aiprod.pipeline.jobstore.JobLookups;
import com.aiprod.pipeline.model.Job;
import java.io.Serializable;
import java.util.HashMap;
import java.util.Map;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptor;

/**
 * A job store held in memory, for stage tests that need no emulator: documents by tenant and
 * job_id, each with the message id, state and owner a stored document would have.
 */
public final class InMemoryJobLookups extends JobLookups {
  /** What a stored job document holds that lookups read. */
  public record Stored(String messageId, String state, String uid) implements Serializable {}

  private final HashMap<String, Stored> documents = new HashMap<>();

  /** Adds the document of {@code tenant}'s {@code jobId}. */
  public InMemoryJobLookups with(String tenant, String jobId, Stored document) {
    documents.put(Job.keyOf(tenant, jobId), document);
    return this;
  }

  @Override
  public PCollection<JobLookup> expand(PCollection<Job> jobs) {
    Map<String, Stored> docs = new HashMap<>(documents);
    return jobs.apply(
        "LookUpInMemory",
        MapElements.into(TypeDescriptor.of(JobLookup.class))
            .via(
                (Job j) -> {
                  Stored d = docs.get(Job.keyOf(j.getTenant(), j.getJobId()));
                  return d == null
                      ? JobLookup.create(j, null, null, null)
                      : JobLookup.create(j, d.messageId(), d.state(), d.uid());
                }));
  }
}
