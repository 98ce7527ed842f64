package com.aiprod.pipeline.jobstore;

import com.aiprod.pipeline.kernel.Coders;
import com.aiprod.pipeline.kernel.OutcomePart;
import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.model.DeadLetter;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.ReasonCode;
import com.aiprod.pipeline.persist.Deliver;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.firestore.v1.BatchGetDocumentsRequest;
import com.google.firestore.v1.BatchGetDocumentsResponse;
import com.google.firestore.v1.Document;
import com.google.firestore.v1.Precondition;
import com.google.firestore.v1.Write;
import com.google.protobuf.util.Timestamps;
import com.google.rpc.Code;
import com.google.rpc.Status;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.annotation.Nullable;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.extensions.protobuf.ProtoCoder;
import org.apache.beam.sdk.io.gcp.firestore.FirestoreIO;
import org.apache.beam.sdk.io.gcp.firestore.FirestoreV1.WriteFailure;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.joda.time.Instant;

/**
 * Writes job documents ({@link JobDocuments}) to Firestore so that a document never moves
 * backwards, even with concurrent writers, retries and out-of-order updates.
 *
 * <pre>{@code
 * PCollection<DeadLetter> failed =
 *     jobs.apply("WriteJobDocuments", WriteJobDocuments.to(JobStore.fromOptions(options)));
 * }</pre>
 *
 * <p>Each of {@value #ROUNDS} rounds ({@code Round1..Round3}) reads before it writes: a "create
 * without a read" step was tried and removed, because every document that already existed refused
 * it, and FirestoreIO's adaptive throttler counts refused writes as overload (20 existing documents
 * took 272 s). Each round:
 *
 * <ol>
 *   <li>groups the round's updates per document within the bundle and folds them (the highest state
 *       wins, histories unioned), so PLANNED and DELIVERED of one job arriving together write once;
 *   <li>reads the stored documents with FirestoreIO {@code batchGetDocuments} and pairs each update
 *       with its document ({@link ReadExisting});
 *   <li>merges ({@link JobDocuments#merge}): nothing is written when the stored state may not move
 *       to the update's;
 *   <li>writes with FirestoreIO {@code batchWrite().withDeadLetterQueue()}, with a precondition:
 *       {@code exists=false} when there was no document, {@code update_time=<time read>} otherwise,
 *       so a concurrent writer is never overwritten;
 *   <li>sends writes that failed their precondition (FAILED_PRECONDITION, ALREADY_EXISTS,
 *       NOT_FOUND, ABORTED) to the next round, which re-reads and re-merges them (the merged
 *       document carries the update, and the merge is idempotent).
 * </ol>
 *
 * <p>Output: a {@link DeadLetter} (reason {@code INTERNAL_ERROR}, stage {@code Deliver}) per
 * document still failing after the last round, or failing with any other status; its error message
 * names the document path and the status. Firestore's own transient errors are retried inside
 * FirestoreIO (QoS {@link JobStore#rpcQosOptions()}).
 */
public final class WriteJobDocuments extends PTransform<PCollection<Job>, PCollection<DeadLetter>> {
  /** Read-merge-write rounds before a document is dead-lettered. */
  public static final int ROUNDS = 3;

  /** The dead-letter stage of failed writes. */
  public static final String STAGE = "Deliver";

  private final JobStore store;
  private final @Nullable FirestoreClients perBundle;

  private WriteJobDocuments(JobStore store, @Nullable FirestoreClients perBundle) {
    this.store = store;
    this.perBundle = perBundle;
  }

  /** Writes to {@code store}. */
  public static WriteJobDocuments to(JobStore store) {
    return new WriteJobDocuments(store, null);
  }

  /**
   * This writer reading each round's documents per bundle, in the merging step itself ({@code
   * RoundN/MergePerBundle}: a fold per document, {@code batchGetDocuments} of up to {@value
   * BundleJobLookup#BATCH} names with the GAPIC client of {@code clients}, the merge), instead of
   * {@link ReadExisting}'s shuffle keyed by bucket. For batch, where a job's document is written
   * once: two bundles that write one document both read it, and the second write fails its
   * precondition and goes round again, as with any concurrent writer.
   */
  public WriteJobDocuments readingPerBundle(FirestoreClients clients) {
    return new WriteJobDocuments(store, clients);
  }

  /**
   * This writer with the outputs {@link Deliver.Jobs} takes: its dead letters ({@link
   * StageTags#DEAD_LETTERS}) and no outcome parts ({@link StageTags#OUTCOMES}: batch input is not
   * acknowledged message by message, so nothing waits for them).
   */
  public PTransform<PCollection<Job>, PCollectionTuple> withTags() {
    JobStore s = store;
    FirestoreClients clients = perBundle;
    return new PTransform<PCollection<Job>, PCollectionTuple>() {
      @Override
      public PCollectionTuple expand(PCollection<Job> jobs) {
        return PCollectionTuple.of(StageTags.DEAD_LETTERS, write(jobs, s, clients))
            .and(
                StageTags.OUTCOMES,
                jobs.getPipeline()
                    .apply("NoOutcomes", Create.empty(Coders.schema(OutcomePart.class))));
      }
    };
  }

  @Override
  public PCollection<DeadLetter> expand(PCollection<Job> jobs) {
    return write(jobs, store, perBundle);
  }

  private static PCollection<DeadLetter> write(
      PCollection<Job> jobs, JobStore store, @Nullable FirestoreClients perBundle) {
    JobStore s = store;
    PCollection<Document> pending =
        jobs.apply(
                "ToDocuments",
                MapElements.into(TypeDescriptor.of(Document.class))
                    .via(
                        j ->
                            JobDocuments.toDocument(
                                j, s.documentName(j.getTenant(), j.getJobId()))))
            .setCoder(ProtoCoder.of(Document.class));
    List<PCollection<DeadLetter>> deadLetters = new ArrayList<>();
    for (int round = 1; round <= ROUNDS; round++) {
      PCollectionTuple result =
          pending.apply("Round" + round, new Round(store, perBundle, round, ROUNDS));
      deadLetters.add(result.get(Round.DEAD));
      pending = result.get(Round.RETRY);
    }
    return PCollectionList.of(deadLetters).apply("DeadLetters", Flatten.pCollections());
  }

  /** One read-merge-write round. */
  static final class Round extends PTransform<PCollection<Document>, PCollectionTuple> {
    static final TupleTag<Document> RETRY = new TupleTag<>() {};
    static final TupleTag<DeadLetter> DEAD = new TupleTag<>() {};

    private final JobStore store;
    private final @Nullable FirestoreClients perBundle;
    private final int round;
    private final int rounds;

    Round(JobStore store, @Nullable FirestoreClients perBundle, int round, int rounds) {
      this.store = store;
      this.perBundle = perBundle;
      this.round = round;
      this.rounds = rounds;
    }

    @Override
    public PCollectionTuple expand(PCollection<Document> updates) {
      if (perBundle != null) {
        PCollection<Write> writes =
            updates
                .apply("MergePerBundle", ParDo.of(new MergePerBundleFn(store, perBundle)))
                .setCoder(ProtoCoder.of(Write.class));
        return writeAndClassify(writes, store, round, rounds);
      }
      PCollection<Write> writes =
          updates
              .apply(
                  "KeyByDocument",
                  MapElements.into(new TypeDescriptor<KV<String, Document>>() {})
                      .via(d -> KV.of(d.getName(), d)))
              .setCoder(KvCoder.of(StringUtf8Coder.of(), ProtoCoder.of(Document.class)))
              .apply(
                  "ReadExisting",
                  new ReadExisting<Document, Document>(
                      store,
                      list -> list.stream().reduce(JobDocuments::fold).orElseThrow(),
                      ProtoCoder.of(Document.class)))
              .apply("Merge", ParDo.of(new MergeFn()))
              .setCoder(ProtoCoder.of(Write.class));
      return writeAndClassify(writes, store, round, rounds);
    }

    /**
     * Writes {@code writes} (batchWrite, failures as a dead-letter queue) and sorts the refused
     * ones into another round ({@link #RETRY}) or a dead letter ({@link #DEAD}) after the last.
     */
    static PCollectionTuple writeAndClassify(
        PCollection<Write> writes, JobStore store, int round, int rounds) {
      PCollection<WriteFailure> failures =
          writes.apply(
              "Write",
              FirestoreIO.v1()
                  .write()
                  .withProjectId(store.projectId())
                  .withDatabaseId(store.databaseId())
                  .batchWrite()
                  .withDeadLetterQueue()
                  .withRpcQosOptions(store.rpcQosOptions())
                  .build());
      PCollectionTuple out =
          failures.apply(
              "Classify",
              ParDo.of(new ClassifyFn(round, rounds)).withOutputTags(RETRY, TupleTagList.of(DEAD)));
      out.get(RETRY).setCoder(ProtoCoder.of(Document.class));
      return out;
    }
  }

  /**
   * Merges an update with the stored document into a preconditioned write, or nothing. Firestore
   * refuses a BatchWrite that writes a document twice, and FirestoreIO batches a bundle's writes,
   * so a bundle's updates of one document (per window) are folded into one write first, against the
   * newest of their reads (documents are never deleted: the highest update time is newest; an older
   * read would only fail its precondition and go round again).
   */
  static final class MergeFn extends DoFn<KV<Document, BatchGetDocumentsResponse>, Write> {
    private final Counter writes = Metrics.counter("aiprod", "job_document_writes");
    private final Counter skipped = Metrics.counter("aiprod", "job_document_writes_skipped");
    private transient Map<BoundedWindow, Map<String, Pending>> pending;

    private static final class Pending {
      Document update;
      BatchGetDocumentsResponse read;
      Instant timestamp;
    }

    @StartBundle
    public void startBundle() {
      pending = new HashMap<>();
    }

    @ProcessElement
    public void process(
        @Element KV<Document, BatchGetDocumentsResponse> e,
        @Timestamp Instant timestamp,
        BoundedWindow window) {
      Pending p =
          pending
              .computeIfAbsent(window, w -> new LinkedHashMap<>())
              .computeIfAbsent(e.getKey().getName(), n -> new Pending());
      if (p.update == null) {
        p.update = e.getKey();
        p.read = e.getValue();
        p.timestamp = timestamp;
        return;
      }
      p.update = JobDocuments.fold(p.update, e.getKey());
      p.read = newer(p.read, e.getValue());
      p.timestamp = timestamp.isAfter(p.timestamp) ? timestamp : p.timestamp;
    }

    @FinishBundle
    public void finishBundle(FinishBundleContext c) {
      for (Map.Entry<BoundedWindow, Map<String, Pending>> w : pending.entrySet()) {
        for (Pending p : w.getValue().values()) {
          Write write = write(p.update, p.read);
          if (write != null) {
            c.output(write, p.timestamp, w.getKey());
          }
        }
      }
      pending = null;
    }

    private @Nullable Write write(Document update, BatchGetDocumentsResponse read) {
      Write w = mergedWrite(read.hasFound() ? read.getFound() : null, update);
      (w == null ? skipped : writes).inc();
      return w;
    }

    /**
     * The preconditioned write of {@code update} merged into {@code existing} (null: none), or null
     * when the stored state may not move to the update's.
     */
    static @Nullable Write mergedWrite(@Nullable Document existing, Document update) {
      Optional<Document> merged = JobDocuments.merge(existing, update);
      if (merged.isEmpty()) {
        return null;
      }
      Document doc = merged.get();
      Precondition precondition =
          existing == null
              ? Precondition.newBuilder().setExists(false).build()
              : Precondition.newBuilder().setUpdateTime(existing.getUpdateTime()).build();
      return Write.newBuilder()
          .setUpdate(doc.toBuilder().clearCreateTime().clearUpdateTime())
          .setCurrentDocument(precondition)
          .build();
    }

    /** The newer of two reads of one document: found over missing, then the later update time. */
    static BatchGetDocumentsResponse newer(
        BatchGetDocumentsResponse a, BatchGetDocumentsResponse b) {
      if (!a.hasFound()) {
        return b;
      }
      if (!b.hasFound()) {
        return a;
      }
      return Timestamps.compare(b.getFound().getUpdateTime(), a.getFound().getUpdateTime()) > 0
          ? b
          : a;
    }
  }

  /**
   * A round's fold, read and merge in one step, per bundle: the bundle's updates of a document (per
   * window) are folded, the documents read with {@code batchGetDocuments} in requests of up to
   * {@value BundleJobLookup#BATCH} names, and each merged into a preconditioned write (as {@link
   * MergeFn}). A read that fails fails the bundle, which the runner retries.
   */
  static final class MergePerBundleFn extends FirestoreDocumentsFn<Document, Write> {
    private final JobStore store;
    private final Counter writes = Metrics.counter("aiprod", "job_document_writes");
    private final Counter skipped = Metrics.counter("aiprod", "job_document_writes_skipped");
    private transient Map<BoundedWindow, Map<String, Pending>> pending;

    private static final class Pending {
      Document update;
      Instant timestamp;
    }

    MergePerBundleFn(JobStore store, FirestoreClients clients) {
      super(clients);
      this.store = store;
    }

    @StartBundle
    public void startBundle() {
      pending = new LinkedHashMap<>();
    }

    @ProcessElement
    public void process(
        @Element Document update, @Timestamp Instant timestamp, BoundedWindow window) {
      Pending p =
          pending
              .computeIfAbsent(window, w -> new LinkedHashMap<>())
              .computeIfAbsent(update.getName(), n -> new Pending());
      if (p.update == null) {
        p.update = update;
        p.timestamp = timestamp;
        return;
      }
      p.update = JobDocuments.fold(p.update, update);
      p.timestamp = timestamp.isAfter(p.timestamp) ? timestamp : p.timestamp;
    }

    @FinishBundle
    public void finishBundle(FinishBundleContext c) {
      for (Map.Entry<BoundedWindow, Map<String, Pending>> w : pending.entrySet()) {
        List<Pending> all = new ArrayList<>(w.getValue().values());
        for (int from = 0; from < all.size(); from += BundleJobLookup.BATCH) {
          List<Pending> batch =
              all.subList(from, Math.min(all.size(), from + BundleJobLookup.BATCH));
          Map<String, Document> found = read(batch);
          for (Pending p : batch) {
            Write write = MergeFn.mergedWrite(found.get(p.update.getName()), p.update);
            if (write == null) {
              skipped.inc();
            } else {
              writes.inc();
              c.output(write, p.timestamp, w.getKey());
            }
          }
        }
      }
      pending = null;
    }

    /** The documents of {@code batch} that exist, by name. */
    private Map<String, Document> read(List<Pending> batch) {
      BatchGetDocumentsRequest.Builder request =
          BatchGetDocumentsRequest.newBuilder().setDatabase(store.databaseName());
      for (Pending p : batch) {
        request.addDocuments(p.update.getName());
      }
      Map<String, Document> found = new HashMap<>();
      for (BatchGetDocumentsResponse r :
          client().batchGetDocumentsCallable().call(request.build())) {
        if (r.hasFound()) {
          found.put(r.getFound().getName(), r.getFound());
        }
      }
      return found;
    }
  }

  /** Failed writes: contention goes round again (until the last round), the rest dead-letters. */
  static final class ClassifyFn extends DoFn<WriteFailure, Document> {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final int round;
    private final int rounds;
    private final Counter conflicts = Metrics.counter("aiprod", "job_document_write_conflicts");

    ClassifyFn(int round, int rounds) {
      this.round = round;
      this.rounds = rounds;
    }

    @ProcessElement
    public void process(@Element WriteFailure failure, MultiOutputReceiver out) {
      Document doc = failure.getWrite().getUpdate();
      Status status = failure.getStatus();
      Code code = Code.forNumber(status.getCode());
      boolean contention = isContention(code);
      if (contention) {
        conflicts.inc();
      }
      if (contention && round < rounds) {
        out.get(Round.RETRY).output(doc);
        return;
      }
      out.get(Round.DEAD)
          .output(deadLetter(doc, status.getCode(), status.getMessage(), contention, rounds));
    }

    /** A refusal another write of the same document caused: worth another round. */
    static boolean isContention(Code code) {
      return code == Code.FAILED_PRECONDITION
          || code == Code.ALREADY_EXISTS
          || code == Code.NOT_FOUND
          || code == Code.ABORTED;
    }

    /**
     * The dead letter of a job document that could not be written: after {@code rounds} rounds of
     * contention, or at once for any other status.
     */
    static DeadLetter deadLetter(
        Document doc, int statusCode, String statusMessage, boolean contention, int rounds) {
      Code code = Code.forNumber(statusCode);
      String path = JobDocuments.relativePath(doc.getName());
      String codeName = code == null ? "code " + statusCode : code.name();
      String message =
          contention
              ? String.format(
                  "Job document %s was changed concurrently in each of %d write rounds; last"
                      + " status %s: %s. The job's final state was not stored: re-send the job's"
                      + " last update.",
                  path, rounds, codeName, statusMessage)
              : String.format(
                  "Job document %s could not be written: %s: %s", path, codeName, statusMessage);
      Map<String, String> attributes = new LinkedHashMap<>();
      attributes.put("document", path);
      attributes.put("status", codeName);
      putIfPresent(attributes, "tenant", JobDocuments.string(doc, "tenant"));
      putIfPresent(attributes, "job_id", JobDocuments.string(doc, "job_id"));
      putIfPresent(attributes, "state", JobDocuments.string(doc, JobDocuments.STATE));
      String messageId = JobDocuments.string(doc, JobDocuments.MESSAGE_ID);
      return DeadLetter.builder()
          .setTimestampMillis(System.currentTimeMillis())
          .setPayloadString(json(doc))
          .setPayloadBytes(null)
          .setAttributes(attributes)
          .setErrorMessage(message)
          .setStacktrace(null)
          .setReasonCode(ReasonCode.INTERNAL_ERROR.name())
          .setStage(STAGE)
          .setMessageId(messageId == null ? path : messageId)
          .build();
    }

    private static void putIfPresent(Map<String, String> m, String key, String value) {
      if (value != null) {
        m.put(key, value);
      }
    }

    private static String json(Document doc) {
      try {
        return JSON.writeValueAsString(JobDocuments.toPlainMap(doc));
      } catch (JsonProcessingException e) {
        return doc.getName();
      }
    }
  }
}
