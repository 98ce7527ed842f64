package com.aiprod.pipeline.jobstore;

import com.aiprod.pipeline.model.Job;
import com.google.api.gax.rpc.ServerStream;
import com.google.firestore.v1.BatchGetDocumentsRequest;
import com.google.firestore.v1.BatchGetDocumentsResponse;
import com.google.firestore.v1.Document;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.values.PCollection;
import org.joda.time.Instant;

/**
 * {@link ExistingJobLookup}'s answers without a shuffle: each bundle's jobs are looked up in
 * batches of up to {@value #BATCH} documents ({@code batchGetDocuments} with the GAPIC client, one
 * per DoFn instance), in the step itself. The batch graph uses it; every input job comes out
 * exactly once, in its window, with its timestamp. Transient errors are retried by the client; a
 * lookup that still fails fails the bundle, which the runner retries.
 */
public final class BundleJobLookup extends JobLookups {
  /** Documents per batchGetDocuments request. */
  static final int BATCH = 100;

  private final JobStore store;
  private final FirestoreClients clients;

  private BundleJobLookup(JobStore store, FirestoreClients clients) {
    this.store = store;
    this.clients = clients;
  }

  /** Looks jobs up in {@code store}, reached through {@code clients}. */
  public static BundleJobLookup in(JobStore store, FirestoreClients clients) {
    return new BundleJobLookup(store, clients);
  }

  @Override
  public PCollection<JobLookup> expand(PCollection<Job> jobs) {
    return jobs.apply("LookUpPerBundle", ParDo.of(new LookupFn(store, clients)));
  }

  static final class LookupFn extends FirestoreDocumentsFn<Job, JobLookup> {
    private final JobStore store;
    private transient List<Pending> buffered;

    private record Pending(Job job, String name, Instant timestamp, BoundedWindow window) {}

    LookupFn(JobStore store, FirestoreClients clients) {
      super(clients);
      this.store = store;
    }

    @StartBundle
    public void startBundle() {
      buffered = new ArrayList<>();
    }

    @ProcessElement
    public void process(@Element Job job, @Timestamp Instant timestamp, BoundedWindow window) {
      buffered.add(
          new Pending(job, store.documentName(job.getTenant(), job.getJobId()), timestamp, window));
    }

    @FinishBundle
    public void finishBundle(FinishBundleContext c) {
      for (int from = 0; from < buffered.size(); ) {
        // Up to BATCH distinct names per request; a name repeated in the bundle is read once.
        Map<String, List<Pending>> batch = new LinkedHashMap<>();
        int i = from;
        while (i < buffered.size()
            && (batch.size() < BATCH || batch.containsKey(buffered.get(i).name()))) {
          Pending p = buffered.get(i++);
          batch.computeIfAbsent(p.name(), n -> new ArrayList<>()).add(p);
        }
        Map<String, Document> found = read(batch.keySet());
        for (Map.Entry<String, List<Pending>> e : batch.entrySet()) {
          Document doc = found.get(e.getKey());
          for (Pending p : e.getValue()) {
            c.output(
                JobLookup.create(
                    p.job(),
                    doc == null ? null : JobDocuments.string(doc, JobDocuments.MESSAGE_ID),
                    doc == null ? null : JobDocuments.string(doc, JobDocuments.STATE),
                    doc == null ? null : JobDocuments.string(doc, JobDocuments.UID)),
                p.timestamp(),
                p.window());
          }
        }
        from = i;
      }
      buffered = null;
    }

    /** The documents among {@code names} that exist, by name. */
    private Map<String, Document> read(Iterable<String> names) {
      Map<String, Document> found = new HashMap<>();
      ServerStream<BatchGetDocumentsResponse> responses =
          client()
              .batchGetDocumentsCallable()
              .call(
                  BatchGetDocumentsRequest.newBuilder()
                      .setDatabase(store.databaseName())
                      .addAllDocuments(names)
                      .build());
      for (BatchGetDocumentsResponse r : responses) {
        if (r.hasFound()) {
          found.put(r.getFound().getName(), r.getFound());
        }
      }
      return found;
    }
  }
}
