package com.aiprod.pipeline.jobstore;

import com.aiprod.pipeline.kernel.OutcomePart;
import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.model.DeadLetter;
import com.aiprod.pipeline.model.Job;
import com.google.api.gax.rpc.ApiException;
import com.google.api.gax.rpc.StatusCode;
import com.google.firestore.v1.BatchGetDocumentsRequest;
import com.google.firestore.v1.BatchGetDocumentsResponse;
import com.google.firestore.v1.BatchWriteRequest;
import com.google.firestore.v1.BatchWriteResponse;
import com.google.firestore.v1.Document;
import com.google.firestore.v1.Precondition;
import com.google.firestore.v1.Write;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTagList;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.joda.time.Instant;

/**
 * The streaming job-document writer: each document's updates in arrival order, written per bundle
 * (a stateful DoFn keyed by document name: runners process one key's elements one at a time and a
 * key's next bundle after this one). At the end of a bundle one batchGet reads every document it
 * touched; each document's updates are folded in order by the monotonic merge of {@link
 * JobDocuments#merge} onto what is stored, and one batchWrite writes them, each with its
 * precondition (absent, or the update time read). A refused precondition goes round again with a
 * fresh read. Outcome parts go out only once their write is durable.
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
    private final Counter requests = Metrics.counter("aiprod", "job_document_write_requests");

    /** Updates taken for the document (what makes this DoFn stateful: one key at a time). */
    @StateId("writes")
    private final StateSpec<ValueState<Long>> writesSpec = StateSpecs.value(VarLongCoder.of());

    /** The bundle's updates by document, each document's in arrival order. */
    private transient LinkedHashMap<String, List<Held>> held;

    /** An update waiting for the bundle's flush, with the timestamp and window of its outputs. */
    private record Held(Document update, Instant timestamp, BoundedWindow window) {}

    /** What one document's flush emits once its write is durable. */
    private record Emit(Held held, List<OutcomePart> parts) {}

    WriteFn(String database, FirestoreClients clients) {
      super(clients);
      this.database = database;
    }

    @StartBundle
    public void startBundle() {
      held = new LinkedHashMap<>();
    }

    @ProcessElement
    public void process(
        @Element KV<String, Document> e,
        @Timestamp Instant timestamp,
        BoundedWindow window,
        @StateId("writes") ValueState<Long> count) {
      held.computeIfAbsent(e.getKey(), k -> new ArrayList<>())
          .add(new Held(e.getValue(), timestamp, window));
      Long n = count.read();
      count.write(n == null ? 1 : n + 1);
    }

    /**
     * Writes the bundle: per round one batchGet of every document still to write, each document's
     * updates folded in arrival order by the monotonic merge onto what is stored, and one
     * batchWrite with each document's precondition. A refused precondition goes round again with a
     * fresh read; the next bundle of a document starts only after this one is written, so its
     * updates stay in order.
     */
    @FinishBundle
    public void finishBundle(FinishBundleContext c) {
      LinkedHashMap<String, List<Held>> todo = held;
      held = new LinkedHashMap<>();
      int lastCode = com.google.rpc.Code.ABORTED_VALUE;
      String lastMessage = "";
      for (int round = 1; round <= WriteJobDocuments.ROUNDS && !todo.isEmpty(); round++) {
        Map<String, Document> stored;
        try {
          stored = batchGet(todo.keySet());
        } catch (ApiException x) {
          lastCode = grpcNumber(x.getStatusCode().getCode());
          lastMessage = x.getMessage();
          if (contention(lastCode)) {
            conflicts.inc();
            continue;
          }
          break;
        }
        List<String> names = new ArrayList<>();
        List<Write> batch = new ArrayList<>();
        Map<String, List<Emit>> emits = new HashMap<>();
        for (Map.Entry<String, List<Held>> d : todo.entrySet()) {
          Document before = stored.get(d.getKey());
          Document current = before;
          List<Emit> out = new ArrayList<>();
          for (Held h : d.getValue()) {
            Optional<Document> merged = JobDocuments.merge(current, h.update());
            if (merged.isEmpty()) {
              skipped.inc();
              out.add(new Emit(h, JobDocuments.outcomeParts(current)));
            } else {
              current = merged.get();
              out.add(new Emit(h, JobDocuments.outcomeParts(h.update())));
            }
          }
          if (current == before) {
            emit(c, out); // nothing to write: what they found is stored
            continue;
          }
          emits.put(d.getKey(), out);
          names.add(d.getKey());
          batch.add(
              Write.newBuilder()
                  .setUpdate(current.toBuilder().clearCreateTime().clearUpdateTime())
                  .setCurrentDocument(
                      before == null
                          ? Precondition.newBuilder().setExists(false).build()
                          : Precondition.newBuilder().setUpdateTime(before.getUpdateTime()).build())
                  .build());
        }
        LinkedHashMap<String, List<Held>> retry = new LinkedHashMap<>();
        List<com.google.rpc.Status> statuses;
        try {
          statuses = batchWrite(batch);
        } catch (ApiException x) {
          lastCode = grpcNumber(x.getStatusCode().getCode());
          lastMessage = x.getMessage();
          for (String name : names) {
            retry.put(name, todo.get(name));
          }
          todo = retry;
          if (contention(lastCode)) {
            conflicts.inc();
            continue;
          }
          break;
        }
        for (int i = 0; i < names.size(); i++) {
          String name = names.get(i);
          com.google.rpc.Status st = statuses.get(i);
          if (st.getCode() == com.google.rpc.Code.OK_VALUE) {
            writes.inc();
            emit(c, emits.get(name));
          } else if (contention(st.getCode())) {
            conflicts.inc();
            lastCode = st.getCode();
            lastMessage = st.getMessage();
            retry.put(name, todo.get(name));
          } else {
            deadLetters(c, todo.get(name), st.getCode(), st.getMessage(), false);
          }
        }
        todo = retry;
      }
      // What is left ran out of rounds (contention) or failed as a whole call.
      for (List<Held> left : todo.values()) {
        deadLetters(c, left, lastCode, lastMessage, contention(lastCode));
      }
    }

    private static void emit(FinishBundleContext c, List<Emit> emits) {
      for (Emit e : emits) {
        for (OutcomePart part : e.parts()) {
          c.output(StageTags.OUTCOMES, part, e.held().timestamp(), e.held().window());
        }
      }
    }

    /** Each update of a document that could not be written becomes a dead letter. */
    private static void deadLetters(
        FinishBundleContext c, List<Held> updates, int code, String message, boolean contention) {
      for (Held h : updates) {
        c.output(
            StageTags.DEAD_LETTERS,
            WriteJobDocuments.ClassifyFn.deadLetter(
                h.update(), code, message, contention, WriteJobDocuments.ROUNDS),
            h.timestamp(),
            h.window());
      }
    }

    /** The stored documents among {@code names} (absent: not stored), in one batchGet. */
    private Map<String, Document> batchGet(Collection<String> names) {
      BatchGetDocumentsRequest.Builder r =
          BatchGetDocumentsRequest.newBuilder().setDatabase(database);
      names.forEach(r::addDocuments);
      requests.inc();
      Map<String, Document> found = new HashMap<>();
      for (BatchGetDocumentsResponse resp : client().batchGetDocumentsCallable().call(r.build())) {
        if (resp.hasFound()) {
          found.put(resp.getFound().getName(), resp.getFound());
        }
      }
      return found;
    }

    /** One batchWrite (each write applied or refused on its own); the statuses in order. */
    private List<com.google.rpc.Status> batchWrite(List<Write> batch) {
      if (batch.isEmpty()) {
        return List.of();
      }
      requests.inc();
      BatchWriteResponse r =
          client()
              .batchWrite(
                  BatchWriteRequest.newBuilder().setDatabase(database).addAllWrites(batch).build());
      return r.getStatusList();
    }

    private static boolean contention(int grpcCode) {
      return WriteJobDocuments.ClassifyFn.isContention(com.google.rpc.Code.forNumber(grpcCode));
    }

    private static int grpcNumber(StatusCode.Code code) {
      return io.grpc.Status.Code.valueOf(code.name()).value();
    }
  }
}
