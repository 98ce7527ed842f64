package com.aiprod.pipeline.jobstore;

import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.model.DeadLetter;
import com.aiprod.pipeline.model.Job;
import com.google.api.gax.rpc.ApiException;
import com.google.api.gax.rpc.StatusCode;
import com.google.firestore.v1.CommitRequest;
import com.google.firestore.v1.Document;
import com.google.firestore.v1.Precondition;
import com.google.firestore.v1.Write;
import java.util.Optional;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.extensions.protobuf.ProtoCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.state.StateSpec;
import org.apache.beam.sdk.state.StateSpecs;
import org.apache.beam.sdk.state.ValueState;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTagList;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * The streaming job-document writer: one update at a time per document, in arrival order, each a
 * read, the monotonic merge of {@link JobDocuments#merge} and a preconditioned commit, done before
 * the document's next update is looked at (a stateful DoFn keyed by document name: runners process
 * one key's elements one at a time).
 *
 * <p>Why not {@link WriteJobDocuments} (FirestoreIO) in streaming: a job's progress and terminal
 * updates arrive seconds or less apart, and with several writes of one document in flight they
 * refuse each other's preconditions. FirestoreIO's adaptive throttler takes those refusals for
 * overload and puts every writer to sleep; on the DirectRunner, which only reads its sources when
 * the rest of the pipeline is idle, a restarted run then stopped reading (see
 * docs/decisions/0002-job-documents-written-in-order.md). Here a document's writes never overlap; a
 * refusal can only come from another writer of the same document and goes round again ({@value
 * WriteJobDocuments#ROUNDS} rounds), the rest dead-letters as in {@link WriteJobDocuments}. Batch
 * keeps FirestoreIO's batched writes (one terminal write per job, no overlap).
 *
 * <p>Outputs the documents that could not be written ({@link StageTags#DEAD_LETTERS}) and the
 * outcome parts of the terminal documents committed or found so ({@link StageTags#OUTCOMES}).
 */
public final class WriteJobDocumentsInOrder extends PTransform<PCollection<Job>, PCollectionTuple> {
  private final JobStore store;
  private final FirestoreClients clients;

  public WriteJobDocumentsInOrder(JobStore store, FirestoreClients clients) {
    this.store = store;
    this.clients = clients;
  }

  @Override
  public PCollectionTuple expand(PCollection<Job> jobs) {
    JobStore s = store;
    return jobs.apply(
            "KeyByDocument",
            MapElements.into(
                    TypeDescriptors.kvs(
                        TypeDescriptors.strings(), TypeDescriptor.of(Document.class)))
                .via(
                    (Job j) -> {
                      String name = s.documentName(j.getTenant(), j.getJobId());
                      return KV.of(name, JobDocuments.toDocument(j, name));
                    }))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), ProtoCoder.of(Document.class)))
        .apply(
            "WriteInOrder",
            ParDo.of(new WriteFn(s.databaseName(), clients))
                .withOutputTags(StageTags.DEAD_LETTERS, TupleTagList.of(StageTags.OUTCOMES)));
  }

  static final class WriteFn extends FirestoreDocumentsFn<KV<String, Document>, DeadLetter> {
    private final String database;
    private final Counter writes = Metrics.counter("aiprod", "job_document_writes");
    private final Counter skipped = Metrics.counter("aiprod", "job_document_writes_skipped");
    private final Counter conflicts = Metrics.counter("aiprod", "job_document_write_conflicts");

    /** Writes done for the document (what makes this DoFn stateful: one key at a time). */
    @StateId("writes")
    private final StateSpec<ValueState<Long>> writesSpec = StateSpecs.value(VarLongCoder.of());

    WriteFn(String database, FirestoreClients clients) {
      super(clients);
      this.database = database;
    }

    @ProcessElement
    public void process(
        @Element KV<String, Document> e,
        @StateId("writes") ValueState<Long> count,
        MultiOutputReceiver out) {
      Document update = e.getValue();
      ApiException last = null;
      for (int round = 1; round <= WriteJobDocuments.ROUNDS; round++) {
        try {
          Document existing = getOrNull(e.getKey());
          Optional<Document> merged = JobDocuments.merge(existing, update);
          if (merged.isEmpty()) {
            skipped.inc();
            JobDocuments.outcomeParts(existing).forEach(out.get(StageTags.OUTCOMES)::output);
            return;
          }
          Precondition precondition =
              existing == null
                  ? Precondition.newBuilder().setExists(false).build()
                  : Precondition.newBuilder().setUpdateTime(existing.getUpdateTime()).build();
          client()
              .commit(
                  CommitRequest.newBuilder()
                      .setDatabase(database)
                      .addWrites(
                          Write.newBuilder()
                              .setUpdate(
                                  merged.get().toBuilder().clearCreateTime().clearUpdateTime())
                              .setCurrentDocument(precondition))
                      .build());
          writes.inc();
          Long n = count.read();
          count.write(n == null ? 1 : n + 1);
          JobDocuments.outcomeParts(update).forEach(out.get(StageTags.OUTCOMES)::output);
          return;
        } catch (ApiException x) {
          last = x;
          if (!contention(x.getStatusCode().getCode())) {
            break;
          }
          conflicts.inc();
        }
      }
      StatusCode.Code code = last.getStatusCode().getCode();
      out.get(StageTags.DEAD_LETTERS)
          .output(
              WriteJobDocuments.ClassifyFn.deadLetter(
                  update,
                  grpcNumber(code),
                  last.getMessage(),
                  contention(code),
                  WriteJobDocuments.ROUNDS));
    }

    private static boolean contention(StatusCode.Code code) {
      return WriteJobDocuments.ClassifyFn.isContention(
          com.google.rpc.Code.forNumber(grpcNumber(code)));
    }

    private static int grpcNumber(StatusCode.Code code) {
      return io.grpc.Status.Code.valueOf(code.name()).value();
    }
  }
}
