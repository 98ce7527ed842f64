package com.aiprod.pipeline.jobstore;

import com.aiprod.pipeline.model.Job;
import com.google.firestore.v1.BatchGetDocumentsResponse;
import com.google.firestore.v1.Document;
import java.util.List;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.ListCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptor;

/**
 * For each job, whether {@code tenants/{tenant}/jobs/{job_id}} exists in the job store, and its
 * {@code message_id} and {@code state} ({@link JobLookup}), read with FirestoreIO {@code
 * batchGetDocuments} (batched, up to 100 documents per request).
 *
 * <pre>{@code
 * PCollection<JobLookup> looked = jobs.apply("LookupExisting", ExistingJobLookup.in(store));
 * }</pre>
 *
 * <p>Every input job comes out exactly once, in its window. The read is not transactional: two
 * submissions of the same new {@code job_id} racing each other both see "missing"; the document's
 * monotonic write ({@link WriteJobDocuments}) keeps the first {@code message_id}.
 */
public final class ExistingJobLookup extends JobLookups {
  private final JobStore store;

  private ExistingJobLookup(JobStore store) {
    this.store = store;
  }

  /** Looks jobs up in {@code store}. */
  public static ExistingJobLookup in(JobStore store) {
    return new ExistingJobLookup(store);
  }

  @Override
  public PCollection<JobLookup> expand(PCollection<Job> jobs) {
    JobStore s = store;
    Coder<Job> jobCoder = jobs.getCoder();
    return jobs.apply(
            "KeyByDocument",
            MapElements.into(new TypeDescriptor<KV<String, Job>>() {})
                .via(j -> KV.of(s.documentName(j.getTenant(), j.getJobId()), j)))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), jobCoder))
        .apply(
            "ReadExisting",
            new ReadExisting<Job, List<Job>>(store, list -> list, ListCoder.of(jobCoder)))
        .apply("ToLookups", ParDo.of(new ToLookupFn()));
  }

  private static final class ToLookupFn
      extends DoFn<KV<List<Job>, BatchGetDocumentsResponse>, JobLookup> {
    @ProcessElement
    public void process(
        @Element KV<List<Job>, BatchGetDocumentsResponse> e, OutputReceiver<JobLookup> out) {
      BatchGetDocumentsResponse r = e.getValue();
      Document found = r.hasFound() ? r.getFound() : null;
      for (Job job : e.getKey()) {
        out.output(
            JobLookup.create(
                job,
                found == null ? null : JobDocuments.string(found, JobDocuments.MESSAGE_ID),
                found == null ? null : JobDocuments.string(found, JobDocuments.STATE),
                found == null ? null : JobDocuments.string(found, JobDocuments.UID)));
      }
    }
  }
}
