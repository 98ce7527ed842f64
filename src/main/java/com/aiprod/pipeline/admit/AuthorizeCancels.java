package com.aiprod.pipeline.admit;

import com.aiprod.pipeline.catalog.AdmissionRules;
import com.aiprod.pipeline.jobstore.FirestoreClients;
import com.aiprod.pipeline.jobstore.FirestoreDocumentsFn;
import com.aiprod.pipeline.jobstore.JobDocuments;
import com.aiprod.pipeline.jobstore.JobLookup;
import com.aiprod.pipeline.jobstore.JobLookups;
import com.aiprod.pipeline.jobstore.JobStore;
import com.aiprod.pipeline.kernel.AuditEvents;
import com.aiprod.pipeline.kernel.CancelAudit;
import com.aiprod.pipeline.kernel.DeadLetters;
import com.aiprod.pipeline.kernel.OutcomePart;
import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.model.AuditStatus;
import com.aiprod.pipeline.model.AuditType;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobCoder;
import com.aiprod.pipeline.model.JobState;
import com.aiprod.pipeline.model.ReasonCode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.firestore.v1.Document;
import javax.annotation.Nullable;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.state.BagState;
import org.apache.beam.sdk.state.StateSpec;
import org.apache.beam.sdk.state.StateSpecs;
import org.apache.beam.sdk.state.TimeDomain;
import org.apache.beam.sdk.state.Timer;
import org.apache.beam.sdk.state.TimerSpec;
import org.apache.beam.sdk.state.TimerSpecs;
import org.apache.beam.sdk.state.ValueState;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.joda.time.Duration;

/**
 * Authorizes {@code action=cancel} requests (DESIGN §3) against the job's document in the
 * requester's tenant: only the owner or an admin of that tenant may cancel. An authorized cancel of
 * a running job goes on ({@link StageTags#JOBS}) to the job's assembly, which ends it CANCELLED; a
 * cancel of a job whose document is terminal changes nothing (ADMIN_ACTION, status failure: the
 * job's terminal document is the outcome). Anyone else gets a PERMISSION_DENIED dead letter and
 * audit event; a job the tenant does not have is a SCHEMA_VIOLATION dead letter. A cancel never
 * creates a document.
 *
 * <p>Batch records the ADMIN_ACTION success of a cancel it passes on. Streaming does not: a running
 * job's document is not terminal until Deliver writes it, so its assembly may already have ended
 * the job when the cancel reaches it; AssembleJobs records success or failure there ({@link
 * CancelAudit}).
 *
 * <p>Streaming: Pub/Sub does not keep order, and a job's RECEIVED document is written a moment
 * after its message is read, so a cancel published right after its job often finds no document yet
 * (or a RECEIVED one, whose job may still end before rendering). Such a cancel waits ({@link
 * AwaitCancelledJobFn}): its job's document is read again every {@link #RECHECK} for up to {@link
 * #WAIT}, and the cancel is then decided as above; only a job still unknown after that is a
 * SCHEMA_VIOLATION.
 */
public final class AuthorizeCancels extends PTransform<PCollection<Job>, PCollectionTuple> {
  static final String STAGE = "AuthorizeCancels";

  /** How long a cancel waits for its job's document to appear (streaming). */
  public static final Duration WAIT = Duration.standardSeconds(60);

  /** How often the document is read again meanwhile. */
  public static final Duration RECHECK = Duration.standardSeconds(5);

  private static final TupleTag<Job> UNKNOWN = new TupleTag<Job>() {};
  private static final Counter DENIED = Metrics.counter("aiprod", "permission_denied");
  private static final Counter ACCEPTED = Metrics.counter("aiprod", "cancels_accepted");
  private static final Counter SETTLED = Metrics.counter("aiprod", "cancel_requests_settled");
  private static final Counter WAITED = Metrics.counter("aiprod", "cancels_waiting_for_their_job");

  private final AuditEvents audit;
  private final JobLookups lookup;
  private final @Nullable JobStore store;
  private final @Nullable FirestoreClients clients;

  /** Batch: a cancel of a job without a document is refused at once. */
  public AuthorizeCancels(AuditEvents audit, JobLookups lookup) {
    this(audit, lookup, null, null);
  }

  /**
   * Streaming: a cancel of a job without a document waits up to {@link #WAIT} for it, reading
   * {@code store} through {@code clients}.
   */
  public AuthorizeCancels(
      AuditEvents audit,
      JobLookups lookup,
      @Nullable JobStore store,
      @Nullable FirestoreClients clients) {
    this.audit = audit;
    this.lookup = lookup;
    this.store = store;
    this.clients = clients;
  }

  @Override
  public PCollectionTuple expand(PCollection<Job> cancels) {
    boolean waits = store != null && clients != null;
    PCollectionTuple checked =
        cancels
            .apply("LookUpCancelledJobs", lookup)
            .apply(
                "CheckCancelRights",
                ParDo.of(new AuthorizeFn(audit, waits))
                    .withOutputTags(
                        StageTags.JOBS,
                        TupleTagList.of(StageTags.DEAD_LETTERS)
                            .and(StageTags.AUDIT)
                            .and(StageTags.OUTCOMES)
                            .and(UNKNOWN)));
    if (!waits) {
      return PCollectionTuple.of(StageTags.JOBS, checked.get(StageTags.JOBS))
          .and(StageTags.DEAD_LETTERS, checked.get(StageTags.DEAD_LETTERS))
          .and(StageTags.AUDIT, checked.get(StageTags.AUDIT))
          .and(StageTags.OUTCOMES, checked.get(StageTags.OUTCOMES));
    }
    JobStore s = store;
    Coder<Job> jobCoder = cancels.getCoder();
    PCollectionTuple waited =
        checked
            .get(UNKNOWN)
            .setCoder(jobCoder)
            .apply(
                "KeyByCancelledDocument",
                MapElements.into(
                        TypeDescriptors.kvs(
                            TypeDescriptors.strings(), TypeDescriptor.of(Job.class)))
                    .via((Job c) -> KV.of(s.documentName(c.getTenant(), c.getJobId()), c)))
            .setCoder(KvCoder.of(StringUtf8Coder.of(), jobCoder))
            .apply(
                "AwaitCancelledJobs",
                ParDo.of(new AwaitCancelledJobFn(audit, clients))
                    .withOutputTags(
                        StageTags.JOBS,
                        TupleTagList.of(StageTags.DEAD_LETTERS)
                            .and(StageTags.AUDIT)
                            .and(StageTags.OUTCOMES)));
    return PCollectionTuple.of(
            StageTags.JOBS,
            PCollectionList.of(checked.get(StageTags.JOBS))
                .and(waited.get(StageTags.JOBS))
                .apply("FlattenAuthorizedCancels", Flatten.pCollections()))
        .and(
            StageTags.DEAD_LETTERS,
            PCollectionList.of(checked.get(StageTags.DEAD_LETTERS))
                .and(waited.get(StageTags.DEAD_LETTERS))
                .apply("FlattenCancelDeadLetters", Flatten.pCollections()))
        .and(
            StageTags.AUDIT,
            PCollectionList.of(checked.get(StageTags.AUDIT))
                .and(waited.get(StageTags.AUDIT))
                .apply("FlattenCancelAudit", Flatten.pCollections()))
        .and(
            StageTags.OUTCOMES,
            PCollectionList.of(checked.get(StageTags.OUTCOMES))
                .and(waited.get(StageTags.OUTCOMES))
                .apply("FlattenCancelOutcomes", Flatten.pCollections()));
  }

  static final class AuthorizeFn extends DoFn<JobLookup, Job> {
    private final AuditEvents audit;
    private final boolean waits;

    AuthorizeFn(AuditEvents audit, boolean waits) {
      this.audit = audit;
      this.waits = waits;
    }

    @ProcessElement
    public void process(@Element JobLookup lookup, MultiOutputReceiver out) {
      if (waits && !settledEnough(lookup.exists() ? lookup.getExistingState() : null)) {
        WAITED.inc();
        out.get(UNKNOWN).output(lookup.getJob());
        return;
      }
      decide(audit, lookup, out, "", waits);
    }
  }

  /**
   * Streaming, keyed by the cancelled job's document name: holds cancels whose job had no document
   * (or a RECEIVED one), reads the document every {@link #RECHECK}, and decides each cancel as soon
   * as it exists past RECEIVED, or refuses it once {@link #WAIT} has passed since the first cancel
   * came. The held cancels are not acknowledged meanwhile (their messages come back after a
   * restart).
   */
  static final class AwaitCancelledJobFn extends FirestoreDocumentsFn<KV<String, Job>, Job> {
    private final AuditEvents audit;

    @StateId("cancels")
    private final StateSpec<BagState<Job>> cancelsSpec = StateSpecs.bag(JobCoder.of());

    @StateId("document")
    private final StateSpec<ValueState<String>> documentSpec =
        StateSpecs.value(StringUtf8Coder.of());

    @TimerId("recheck")
    private final TimerSpec recheckSpec = TimerSpecs.timer(TimeDomain.PROCESSING_TIME);

    @TimerId("giveUp")
    private final TimerSpec giveUpSpec = TimerSpecs.timer(TimeDomain.PROCESSING_TIME);

    AwaitCancelledJobFn(AuditEvents audit, FirestoreClients clients) {
      super(clients);
      this.audit = audit;
    }

    @ProcessElement
    public void process(
        @Element KV<String, Job> e,
        @StateId("cancels") BagState<Job> cancels,
        @StateId("document") ValueState<String> document,
        @TimerId("recheck") Timer recheck,
        @TimerId("giveUp") Timer giveUp) {
      cancels.add(e.getValue());
      if (document.read() == null) {
        document.write(e.getKey());
        recheck.offset(RECHECK).setRelative();
        giveUp.offset(WAIT).setRelative();
      }
    }

    @OnTimer("recheck")
    public void onRecheck(
        @StateId("cancels") BagState<Job> cancels,
        @StateId("document") ValueState<String> document,
        @TimerId("recheck") Timer recheck,
        @TimerId("giveUp") Timer giveUp,
        MultiOutputReceiver out) {
      String name = document.read();
      if (name == null) {
        return; // decided already
      }
      Document found = getOrNull(name);
      if (found == null || !settledEnough(JobDocuments.string(found, JobDocuments.STATE))) {
        recheck.offset(RECHECK).setRelative();
        return;
      }
      decideAll(found, cancels, document, out);
      giveUp.clear();
    }

    @OnTimer("giveUp")
    public void onGiveUp(
        @StateId("cancels") BagState<Job> cancels,
        @StateId("document") ValueState<String> document,
        @TimerId("recheck") Timer recheck,
        MultiOutputReceiver out) {
      String name = document.read();
      if (name == null) {
        return;
      }
      decideAll(getOrNull(name), cancels, document, out);
      recheck.clear();
    }

    private void decideAll(
        @Nullable Document found,
        BagState<Job> cancels,
        ValueState<String> document,
        MultiOutputReceiver out) {
      String note =
          found == null
              ? " (its document did not appear within " + WAIT.getStandardSeconds() + " s)"
              : "";
      for (Job cancel : cancels.read()) {
        JobLookup lookup =
            JobLookup.create(
                cancel,
                found == null ? null : JobDocuments.string(found, JobDocuments.MESSAGE_ID),
                found == null ? null : JobDocuments.string(found, JobDocuments.STATE),
                found == null ? null : JobDocuments.string(found, JobDocuments.UID));
        decide(audit, lookup, out, note, true);
      }
      cancels.clear();
      document.clear();
    }
  }

  /**
   * Streaming: whether a document in {@code state} lets a cancel be decided; a RECEIVED job may
   * still end before rendering (an estimate, a refusal) and never reach its assembly, so its cancel
   * waits for RENDERING or a terminal state.
   */
  static boolean settledEnough(@Nullable String state) {
    return state != null && !JobState.RECEIVED.name().equals(state);
  }

  /**
   * The decision on one cancel, given what the job store holds of its job (see the class); with
   * {@code assemblyDecides} (streaming) a cancel of a running job goes on without its audit event,
   * which AssembleJobs records where the job's state is.
   */
  static void decide(
      AuditEvents audit,
      JobLookup lookup,
      DoFn.MultiOutputReceiver out,
      String note,
      boolean assemblyDecides) {
    Job cancel = lookup.getJob();
    long now = System.currentTimeMillis();
    if (!lookup.exists()) {
      out.get(StageTags.DEAD_LETTERS)
          .output(
              DeadLetters.ofJob(
                  cancel,
                  ReasonCode.SCHEMA_VIOLATION,
                  "no job '"
                      + cancel.getJobId()
                      + "' in tenant '"
                      + cancel.getTenant()
                      + "' to cancel; check the job_id attribute"
                      + note,
                  STAGE));
      return;
    }
    boolean allowed =
        AdmissionRules.mayCancel(
            cancel.getUid(),
            cancel.getRole(),
            cancel.getTenant(),
            lookup.getExistingUid(),
            cancel.getTenant());
    if (!allowed) {
      DENIED.inc();
      String why =
          "only the job's owner or an admin of tenant '"
              + cancel.getTenant()
              + "' may cancel job '"
              + cancel.getJobId()
              + "'";
      ObjectNode d =
          AuditEvents.details()
              .put("reason_code", "PERMISSION_DENIED")
              .put("reason", why)
              .put("role", cancel.getRole());
      out.get(StageTags.AUDIT)
          .output(
              audit
                  .event(AuditType.PERMISSION_DENIED, AuditStatus.DENIED, "cancel_job")
                  .about(cancel)
                  .details(d)
                  .at(now)
                  .discriminator(STAGE)
                  .build());
      out.get(StageTags.DEAD_LETTERS)
          .output(DeadLetters.ofJob(cancel, ReasonCode.PERMISSION_DENIED, why, STAGE));
      return;
    }
    JobState state = JobState.valueOf(lookup.getExistingState());
    if (state.isTerminal()) {
      SETTLED.inc();
      // The job's terminal document is the cancel's outcome.
      out.get(StageTags.OUTCOMES).output(OutcomePart.whole(cancel.getMessageId()));
      out.get(StageTags.AUDIT)
          .output(
              CancelAudit.tooLate(
                  audit,
                  cancel,
                  state.name(),
                  "the job already ended " + state.name() + "; nothing to cancel",
                  now));
      return;
    }
    if (!assemblyDecides) {
      SETTLED.inc();
      ACCEPTED.inc();
      out.get(StageTags.AUDIT).output(CancelAudit.accepted(audit, cancel, state.name(), now));
    }
    out.get(StageTags.JOBS).output(cancel);
  }
}
