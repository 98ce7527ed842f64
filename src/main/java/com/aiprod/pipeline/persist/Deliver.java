package com.aiprod.pipeline.persist;

import com.aiprod.pipeline.jobstore.FirestoreClients;
import com.aiprod.pipeline.jobstore.FirestoreDocumentsFn;
import com.aiprod.pipeline.jobstore.JobDocuments;
import com.aiprod.pipeline.jobstore.JobStore;
import com.aiprod.pipeline.jobstore.WriteJobDocuments;
import com.aiprod.pipeline.jobstore.WriteJobDocumentsInOrder;
import com.aiprod.pipeline.kernel.AuditEvents;
import com.aiprod.pipeline.kernel.OutcomePart;
import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.model.AuditStatus;
import com.aiprod.pipeline.model.AuditType;
import com.aiprod.pipeline.model.DeadLetter;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.ShotResult;
import com.fasterxml.jackson.databind.node.ObjectNode;
import javax.annotation.Nullable;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.apache.beam.sdk.values.TypeDescriptor;

/**
 * Deliver (DESIGN §7, §8): terminal jobs become Firestore job documents (never moving backwards)
 * and {@code job_results} rows; shot attempts become {@code shot_renders} rows; every audit event
 * and dead letter of every stage lands in {@code audit_events} and {@code dead_letters}. The
 * warehouse is whichever {@link Warehouse} the options name: nothing here knows which.
 */
public final class Deliver {
  private Deliver() {}

  /**
   * Contact sheets ({@link DrawContactSheets}), then job documents + job_results; outputs the
   * DATA_ACCESS audit events ({@link StageTags#AUDIT}), the documents that could not be written
   * plus the job_results rows the warehouse refused ({@link StageTags#DEAD_LETTERS}), and the
   * outcome parts of what was committed ({@link StageTags#OUTCOMES}: terminal documents,
   * job_results rows).
   */
  public static final class Jobs extends PTransform<PCollection<Job>, PCollectionTuple> {
    private final AuditEvents audit;
    private final Warehouse warehouse;
    private final PTransform<PCollection<Job>, PCollectionTuple> documents;
    private final transient @Nullable PCollection<Job> progress;

    public Jobs(
        AuditEvents audit,
        Warehouse warehouse,
        PTransform<PCollection<Job>, PCollectionTuple> documents) {
      this(audit, warehouse, documents, null);
    }

    /**
     * @param documents the job-document writer, outputting {@link StageTags#DEAD_LETTERS} and
     *     {@link StageTags#OUTCOMES}: {@link WriteJobDocuments#withTags()} in batch, {@link
     *     WriteJobDocumentsInOrder} in streaming
     * @param progress streaming only: the documents of jobs still under way (see {@link Progress}),
     *     written by the same writer as the terminal ones, so that a job's updates are written one
     *     after the other instead of racing each other's preconditions
     */
    public Jobs(
        AuditEvents audit,
        Warehouse warehouse,
        PTransform<PCollection<Job>, PCollectionTuple> documents,
        @Nullable PCollection<Job> progress) {
      this.audit = audit;
      this.warehouse = warehouse;
      this.documents = documents;
      this.progress = progress;
    }

    @Override
    public PCollectionTuple expand(PCollection<Job> finished) {
      AuditEvents audit = this.audit; // lambdas capture the local, not this transform
      PCollection<Job> counted =
          finished
              .apply("DrawContactSheets", ParDo.of(new DrawContactSheets()))
              .apply("CountOutcomes", ParDo.of(new CountOutcomeFn()));
      PCollection<Job> toWrite =
          progress == null
              ? counted
              : PCollectionList.of(counted)
                  .and(progress)
                  .apply("WithProgress", Flatten.pCollections());
      PCollectionTuple written = toWrite.apply("WriteJobDocuments", documents);
      PCollectionTuple failed =
          written
              .get(StageTags.DEAD_LETTERS)
              .apply(
                  "SplitDocumentFailures",
                  ParDo.of(new SplitFailuresFn(audit))
                      .withOutputTags(StageTags.DEAD_LETTERS, TupleTagList.of(StageTags.AUDIT)));
      PCollection<AuditEvent> auditOut =
          PCollectionList.of(
                  counted.apply(
                      "AuditDocumentWrites",
                      MapElements.into(TypeDescriptor.of(AuditEvent.class))
                          .via((Job j) -> documentWrite(audit, j))))
              .and(failed.get(StageTags.AUDIT))
              .apply("FlattenDocumentAudit", Flatten.pCollections());
      PCollectionTuple rows =
          counted
              .apply(
                  "ToJobResultRows",
                  MapElements.into(TypeDescriptor.of(Row.class)).via(WarehouseRows::jobResult))
              .setRowSchema(TableSchemas.beamSchema(WarehouseTable.JOB_RESULTS))
              .apply("WriteJobResults", warehouse.write(WarehouseTable.JOB_RESULTS));
      PCollection<DeadLetter> deadLetters =
          PCollectionList.of(failed.get(StageTags.DEAD_LETTERS))
              .and(rows.get(StageTags.DEAD_LETTERS))
              .apply("FlattenJobDeliveryFailures", Flatten.pCollections());
      PCollection<OutcomePart> outcomes =
          PCollectionList.of(written.get(StageTags.OUTCOMES))
              .and(rows.get(StageTags.OUTCOMES))
              .apply("FlattenJobOutcomes", Flatten.pCollections());
      return PCollectionTuple.of(StageTags.AUDIT, auditOut)
          .and(StageTags.DEAD_LETTERS, deadLetters)
          .and(StageTags.OUTCOMES, outcomes);
    }
  }

  /**
   * A document that could not be written: a dead letter when it held the job's terminal state (that
   * was the message's outcome), an ERROR audit event when it was progress (the terminal document,
   * written later, is the outcome).
   */
  static final class SplitFailuresFn extends DoFn<DeadLetter, DeadLetter> {
    private final AuditEvents audit;

    SplitFailuresFn(AuditEvents audit) {
      this.audit = audit;
    }

    @ProcessElement
    public void process(@Element DeadLetter d, MultiOutputReceiver out) {
      String state = d.getAttributes() == null ? null : d.getAttributes().get("state");
      boolean progress = false;
      if (state != null) {
        try {
          progress = !com.aiprod.pipeline.model.JobState.valueOf(state).isTerminal();
        } catch (IllegalArgumentException e) {
          progress = false;
        }
      }
      if (!progress) {
        out.get(StageTags.DEAD_LETTERS).output(d);
        return;
      }
      out.get(StageTags.AUDIT)
          .output(
              audit
                  .event(AuditType.ERROR, AuditStatus.ERROR, "write_job_document")
                  .aboutMessage(d.getMessageId(), null, null)
                  .details(AuditEvents.details().put("reason", d.getErrorMessage()))
                  .at(d.getTimestampMillis())
                  .discriminator("progress")
                  .build());
    }
  }

  /**
   * Streaming progress: the DATA_ACCESS events of the documents of jobs still under way (RECEIVED
   * after Admit — the claim of the job_id that a later duplicate finds, also after a restart — and
   * RENDERING after Plan). The documents themselves are written by {@link Jobs}, with the terminal
   * ones, by one writer; a failed progress write is an ERROR audit event, not a dead letter: the
   * job's outcome is its terminal document, written later.
   */
  public static final class Progress extends PTransform<PCollection<Job>, PCollection<AuditEvent>> {
    private final AuditEvents audit;

    public Progress(AuditEvents audit) {
      this.audit = audit;
    }

    @Override
    public PCollection<AuditEvent> expand(PCollection<Job> jobs) {
      return jobs.apply(
          "AuditProgressWrites",
          MapElements.into(TypeDescriptor.of(AuditEvent.class))
              .via((Job j) -> documentWrite(audit, j)));
    }
  }

  static AuditEvent documentWrite(AuditEvents audit, Job j) {
    ObjectNode d =
        AuditEvents.details().put("state", j.getState()).put("collection", "tenants/{tenant}/jobs");
    if (j.getReasonCode() != null) {
      d.put("reason_code", j.getReasonCode());
    }
    return audit
        .event(AuditType.DATA_ACCESS, AuditStatus.SUCCESS, "write_job_document")
        .about(j)
        .details(d)
        .at(
            j.getHistory().isEmpty()
                ? System.currentTimeMillis()
                : j.getHistory().get(j.getHistory().size() - 1).getAtMillis())
        .discriminator(j.getState())
        .build();
  }

  /**
   * Jobs whose message came again after they ended (Admit's {@code REDELIVERED}): their rows are
   * written again from the terminal document — the {@code job_results} row and the DATA_ACCESS
   * event of the terminal document write, both idempotent by key — because a run that stopped
   * between the document and its rows would otherwise leave them missing for good. The document
   * itself is not written (it has ended) and no outcome is counted again. Outputs the audit events
   * ({@link StageTags#AUDIT}), the rows the warehouse refused ({@link StageTags#DEAD_LETTERS}) and
   * the outcome parts: the document found, the job_results row ({@link StageTags#OUTCOMES}). With a
   * ledger, the job's reservation is settled to its charge again ({@link SettleSpend}, idempotent):
   * a run that stopped after the document may not have settled it.
   */
  public static final class EndedJobRows extends PTransform<PCollection<Job>, PCollectionTuple> {
    private final AuditEvents audit;
    private final Warehouse warehouse;
    private final JobStore store;
    private final FirestoreClients clients;
    private final @Nullable FirestoreClients ledger;

    /** Without settling the spend ledger. */
    public EndedJobRows(
        AuditEvents audit, Warehouse warehouse, JobStore store, FirestoreClients clients) {
      this(audit, warehouse, store, clients, null);
    }

    /**
     * @param ledger the spend ledger's Firestore, where the ended jobs' reservations are settled;
     *     null: not settled
     */
    public EndedJobRows(
        AuditEvents audit,
        Warehouse warehouse,
        JobStore store,
        FirestoreClients clients,
        @Nullable FirestoreClients ledger) {
      this.audit = audit;
      this.warehouse = warehouse;
      this.store = store;
      this.clients = clients;
      this.ledger = ledger;
    }

    @Override
    public PCollectionTuple expand(PCollection<Job> redelivered) {
      AuditEvents audit = this.audit;
      PCollectionTuple read =
          redelivered.apply(
              "ReadEndedDocuments",
              ParDo.of(new ReadEndedFn(store, clients))
                  .withOutputTags(ENDED, TupleTagList.of(StageTags.OUTCOMES)));
      PCollection<Job> ended = read.get(ENDED).setCoder(redelivered.getCoder());
      PCollectionTuple rows =
          ended
              .apply(
                  "ToJobResultRows",
                  MapElements.into(TypeDescriptor.of(Row.class)).via(WarehouseRows::jobResult))
              .setRowSchema(TableSchemas.beamSchema(WarehouseTable.JOB_RESULTS))
              .apply("WriteJobResults", warehouse.write(WarehouseTable.JOB_RESULTS));
      PCollection<AuditEvent> events =
          ended.apply(
              "AuditDocumentWrites",
              MapElements.into(TypeDescriptor.of(AuditEvent.class))
                  .via((Job j) -> documentWrite(audit, j)));
      if (ledger != null) {
        events =
            PCollectionList.of(events)
                .and(ended.apply("SettleSpend", new SettleSpend(audit, ledger)))
                .apply("FlattenAudit", Flatten.pCollections());
      }
      PCollection<OutcomePart> outcomes =
          PCollectionList.of(read.get(StageTags.OUTCOMES))
              .and(rows.get(StageTags.OUTCOMES))
              .apply("FlattenOutcomes", Flatten.pCollections());
      return PCollectionTuple.of(StageTags.AUDIT, events)
          .and(StageTags.DEAD_LETTERS, rows.get(StageTags.DEAD_LETTERS))
          .and(StageTags.OUTCOMES, outcomes);
    }
  }

  private static final TupleTag<Job> ENDED = new TupleTag<Job>() {};

  /**
   * The terminal job each redelivered job's document records ({@code ENDED}), and the outcome parts
   * of that document ({@link StageTags#OUTCOMES}).
   */
  static final class ReadEndedFn extends FirestoreDocumentsFn<Job, Job> {
    private final JobStore store;

    ReadEndedFn(JobStore store, FirestoreClients clients) {
      super(clients);
      this.store = store;
    }

    @ProcessElement
    public void process(@Element Job job, MultiOutputReceiver out) {
      com.google.firestore.v1.Document doc =
          getOrNull(store.documentName(job.getTenant(), job.getJobId()));
      Job ended = doc == null ? null : JobDocuments.ended(doc);
      if (ended == null || !ended.getMessageId().equals(job.getMessageId())) {
        return; // Admit saw it ended with this message id; documents never move back
      }
      JobDocuments.outcomeParts(doc).forEach(out.get(StageTags.OUTCOMES)::output);
      out.get(ENDED).output(ended);
    }
  }

  /** Outcome metrics of DESIGN §12. */
  static final class CountOutcomeFn extends DoFn<Job, Job> {
    @ProcessElement
    public void process(@Element Job job, OutputReceiver<Job> out) {
      Metrics.counter("aiprod", "jobs_" + job.getState().toLowerCase(java.util.Locale.ROOT)).inc();
      Metrics.distribution("aiprod", "job_cost_micros")
          .update(Math.round(job.getCostUsd() * 1_000_000));
      if (job.getFinishedAtMillis() != null) {
        Metrics.distribution("aiprod", "end_to_end_latency_ms")
            .update(job.getFinishedAtMillis() - job.getReceivedAtMillis());
      }
      out.output(job);
    }
  }

  /**
   * shot_renders rows; outputs the rows the warehouse refused, as dead letters for dead_letters.
   */
  public static final class ShotRenders
      extends PTransform<PCollection<ShotResult>, PCollection<DeadLetter>> {
    private final Warehouse warehouse;

    public ShotRenders(Warehouse warehouse) {
      this.warehouse = warehouse;
    }

    @Override
    public PCollection<DeadLetter> expand(PCollection<ShotResult> results) {
      return results
          .apply(
              "ToShotRenderRows",
              MapElements.into(TypeDescriptor.of(Row.class)).via(WarehouseRows::shotRender))
          .setRowSchema(TableSchemas.beamSchema(WarehouseTable.SHOT_RENDERS))
          .apply("WriteShotRenders", warehouse.write(WarehouseTable.SHOT_RENDERS))
          .get(StageTags.DEAD_LETTERS);
    }
  }

  /**
   * audit_events rows; outputs the rows the warehouse refused, as dead letters for dead_letters
   * ({@link StageTags#DEAD_LETTERS}), and the outcome parts of the committed rows ({@link
   * StageTags#OUTCOMES}: the rows of terminal document writes).
   */
  public static final class AuditRows
      extends PTransform<PCollection<AuditEvent>, PCollectionTuple> {
    private final Warehouse warehouse;

    public AuditRows(Warehouse warehouse) {
      this.warehouse = warehouse;
    }

    @Override
    public PCollectionTuple expand(PCollection<AuditEvent> events) {
      return events
          .apply(
              "ToAuditRows",
              MapElements.into(TypeDescriptor.of(Row.class)).via(WarehouseRows::auditEvent))
          .setRowSchema(TableSchemas.beamSchema(WarehouseTable.AUDIT_EVENTS))
          .apply("WriteAuditEvents", warehouse.write(WarehouseTable.AUDIT_EVENTS));
    }
  }

  /**
   * dead_letters rows, counted per reason; outputs the outcome part of each committed row (a
   * message's whole outcome). The warehouse never returns refused dead_letters rows (it logs and
   * counts them), so no dead letter comes back here.
   */
  public static final class DeadLetterRows
      extends PTransform<PCollection<DeadLetter>, PCollection<OutcomePart>> {
    private final Warehouse warehouse;

    public DeadLetterRows(Warehouse warehouse) {
      this.warehouse = warehouse;
    }

    @Override
    public PCollection<OutcomePart> expand(PCollection<DeadLetter> deadLetters) {
      return deadLetters
          .apply("CountDeadLetters", ParDo.of(new CountDeadLetterFn()))
          .apply(
              "ToDeadLetterRows",
              MapElements.into(TypeDescriptor.of(Row.class)).via(WarehouseRows::deadLetter))
          .setRowSchema(TableSchemas.beamSchema(WarehouseTable.DEAD_LETTERS))
          .apply("WriteDeadLetters", warehouse.write(WarehouseTable.DEAD_LETTERS))
          .get(StageTags.OUTCOMES);
    }
  }

  static final class CountDeadLetterFn extends DoFn<DeadLetter, DeadLetter> {
    @ProcessElement
    public void process(@Element DeadLetter d, OutputReceiver<DeadLetter> out) {
      Metrics.counter("aiprod", "dead_letters").inc();
      Metrics.counter("aiprod", "dead_letters_" + d.getReasonCode()).inc();
      out.output(d);
    }
  }

  /** Flattens a list of collections of one type under a stable name. */
  public static <T> PCollection<T> flatten(String name, PCollectionList<T> list) {
    return list.apply(name, Flatten.pCollections());
  }
}
