package com.aiprod.pipeline.admit;

import com.aiprod.pipeline.catalog.AdmissionRules;
import com.aiprod.pipeline.jobstore.JobLookup;
import com.aiprod.pipeline.jobstore.JobLookups;
import com.aiprod.pipeline.kernel.AuditEvents;
import com.aiprod.pipeline.kernel.DeadLetters;
import com.aiprod.pipeline.kernel.Refusal;
import com.aiprod.pipeline.kernel.Refusals;
import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.model.AuditStatus;
import com.aiprod.pipeline.model.AuditType;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobState;
import com.aiprod.pipeline.model.ReasonCode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.state.StateSpec;
import org.apache.beam.sdk.state.StateSpecs;
import org.apache.beam.sdk.state.TimeDomain;
import org.apache.beam.sdk.state.Timer;
import org.apache.beam.sdk.state.TimerSpec;
import org.apache.beam.sdk.state.TimerSpecs;
import org.apache.beam.sdk.state.ValueState;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.joda.time.Duration;

/**
 * Admit (DESIGN §1, §3, §7): first rules out duplicates — within the run (the earliest message of a
 * tenant's job_id wins) and against the job store (a Firestore document already made by another
 * message) — so that a DUPLICATE_JOB never creates or changes a document; then sends jobs that
 * Validate refused to Deliver, and applies the role and plan rules. Budget caps are applied after
 * pricing, in {@link com.aiprod.pipeline.price.PriceAndRoute}, as they need the estimate.
 */
public final class Admit extends PTransform<PCollection<Job>, PCollectionTuple> {
  static final String STAGE = "Admit";
  private static final TupleTag<Job> UNIQUE = new TupleTag<Job>() {};

  /**
   * Messages of jobs that already ended (a redelivery, e.g. after a restart): their outcome exists;
   * {@code Deliver.EndedJobRows} writes its rows again in case the stop came before them.
   */
  public static final TupleTag<Job> REDELIVERED = new TupleTag<Job>() {};

  private final AuditEvents audit;
  private final JobLookups lookup;

  private final boolean streaming;

  /**
   * @param streaming in-run duplicates are found by a GroupByKey in batch (the earliest line wins)
   *     and by per-key state in streaming (the first message to arrive wins)
   */
  private Admit(AuditEvents audit, JobLookups lookup, boolean streaming) {
    this.audit = audit;
    this.lookup = lookup;
    this.streaming = streaming;
  }

  /** Batch: in-run duplicates found by a GroupByKey, the earliest line wins. */
  public static Admit forBatch(AuditEvents audit, JobLookups lookup) {
    return new Admit(audit, lookup, false);
  }

  /** Streaming: in-run duplicates found by per-key state, the first message to arrive wins. */
  public static Admit forStreaming(AuditEvents audit, JobLookups lookup) {
    return new Admit(audit, lookup, true);
  }

  @Override
  public PCollectionTuple expand(PCollection<Job> jobs) {
    PCollection<KV<String, Job>> keyed =
        jobs.apply(
            "KeyByTenantJob",
            WithKeys.of((Job j) -> j.key()).withKeyType(TypeDescriptors.strings()));
    PCollectionTuple inRun =
        streaming
            ? keyed.apply(
                "FirstMessageWins",
                ParDo.of(new FirstMessageWinsFn(audit))
                    .withOutputTags(
                        UNIQUE, TupleTagList.of(StageTags.DEAD_LETTERS).and(StageTags.AUDIT)))
            : keyed
                .apply("GroupByTenantJob", GroupByKey.create())
                .apply(
                    "KeepEarliestMessage",
                    ParDo.of(new KeepEarliestFn(audit))
                        .withOutputTags(
                            UNIQUE, TupleTagList.of(StageTags.DEAD_LETTERS).and(StageTags.AUDIT)));
    PCollectionTuple admitted =
        inRun
            .get(UNIQUE)
            .apply("LookUpJobStore", lookup)
            .apply(
                "RuleOutKnownJobs",
                ParDo.of(new AdmitFn(audit))
                    .withOutputTags(
                        StageTags.JOBS,
                        TupleTagList.of(StageTags.FINISHED)
                            .and(StageTags.DEAD_LETTERS)
                            .and(StageTags.AUDIT)
                            .and(REDELIVERED)));
    return PCollectionTuple.of(StageTags.JOBS, admitted.get(StageTags.JOBS))
        .and(REDELIVERED, admitted.get(REDELIVERED).setCoder(jobs.getCoder()))
        .and(StageTags.FINISHED, admitted.get(StageTags.FINISHED))
        .and(
            StageTags.DEAD_LETTERS,
            PCollectionList.of(inRun.get(StageTags.DEAD_LETTERS))
                .and(admitted.get(StageTags.DEAD_LETTERS))
                .apply("FlattenAdmitDeadLetters", Flatten.pCollections()))
        .and(
            StageTags.AUDIT,
            PCollectionList.of(inRun.get(StageTags.AUDIT))
                .and(admitted.get(StageTags.AUDIT))
                .apply("FlattenAdmitAudit", Flatten.pCollections()));
  }

  static DeadLetterAndAudit duplicate(AuditEvents audit, Job dup, String why) {
    ObjectNode d = AuditEvents.details().put("reason", why);
    return new DeadLetterAndAudit(
        DeadLetters.ofJob(dup, ReasonCode.DUPLICATE_JOB, why, STAGE),
        audit
            .event(AuditType.DATA_ACCESS, AuditStatus.DUPLICATE, "check_duplicate")
            .about(dup)
            .details(d)
            .at(System.currentTimeMillis())
            .build());
  }

  record DeadLetterAndAudit(
      com.aiprod.pipeline.model.DeadLetter deadLetter,
      com.aiprod.pipeline.model.AuditEvent event) {}

  /** Within one run, the earliest message of a (tenant, job_id) wins; the others are duplicates. */
  static final class KeepEarliestFn extends DoFn<KV<String, Iterable<Job>>, Job> {
    private final AuditEvents audit;
    private final Counter duplicates = Metrics.counter("aiprod", "duplicates");

    KeepEarliestFn(AuditEvents audit) {
      this.audit = audit;
    }

    @ProcessElement
    public void process(@Element KV<String, Iterable<Job>> group, MultiOutputReceiver out) {
      List<Job> all = new ArrayList<>();
      group.getValue().forEach(all::add);
      all.sort(Comparator.comparingLong(Job::getOrdinal).thenComparing(Job::getMessageId));
      Job first = all.get(0);
      out.get(UNIQUE).output(first);
      for (Job dup : all.subList(1, all.size())) {
        if (dup.getMessageId().equals(first.getMessageId())) {
          continue; // the same message read twice by a retried read: one outcome is enough
        }
        duplicates.inc();
        DeadLetterAndAudit d =
            duplicate(
                audit,
                dup,
                "job_id '"
                    + dup.getJobId()
                    + "' was already submitted for tenant '"
                    + dup.getTenant()
                    + "' by message "
                    + first.getMessageId()
                    + "; use a new job_id for a new job");
        out.get(StageTags.DEAD_LETTERS).output(d.deadLetter());
        out.get(StageTags.AUDIT).output(d.event());
      }
    }
  }

  /**
   * Streaming: the first message of a (tenant, job_id) to arrive wins; a later one with another
   * message id is a duplicate, the same message again (a redelivery within this run) is dropped as
   * it is already in flight. The key forgets after {@link #REMEMBER}: by then the job's document is
   * the memory.
   */
  static final class FirstMessageWinsFn extends DoFn<KV<String, Job>, Job> {
    static final Duration REMEMBER = Duration.standardHours(1);
    private final AuditEvents audit;
    private final Counter duplicates = Metrics.counter("aiprod", "duplicates");
    private final Counter redelivered = Metrics.counter("aiprod", "redeliveries_dropped");

    @StateId("first")
    private final StateSpec<ValueState<String>> firstSpec = StateSpecs.value(StringUtf8Coder.of());

    @TimerId("forget")
    private final TimerSpec forgetSpec = TimerSpecs.timer(TimeDomain.PROCESSING_TIME);

    FirstMessageWinsFn(AuditEvents audit) {
      this.audit = audit;
    }

    @ProcessElement
    public void process(
        @Element KV<String, Job> element,
        @StateId("first") ValueState<String> first,
        @TimerId("forget") Timer forget,
        MultiOutputReceiver out) {
      Job job = element.getValue();
      String winner = first.read();
      if (winner == null) {
        first.write(job.getMessageId());
        forget.offset(REMEMBER).setRelative();
        out.get(UNIQUE).output(job);
      } else if (winner.equals(job.getMessageId())) {
        redelivered.inc();
      } else {
        duplicates.inc();
        DeadLetterAndAudit d =
            duplicate(
                audit,
                job,
                "job_id '"
                    + job.getJobId()
                    + "' was already submitted for tenant '"
                    + job.getTenant()
                    + "' by message "
                    + winner
                    + "; use a new job_id for a new job");
        out.get(StageTags.DEAD_LETTERS).output(d.deadLetter());
        out.get(StageTags.AUDIT).output(d.event());
      }
    }

    @OnTimer("forget")
    public void onForget(@StateId("first") ValueState<String> first) {
      first.clear();
    }
  }

  /** Duplicates known to the job store, refusals from Validate, then the role and plan rules. */
  static final class AdmitFn extends DoFn<JobLookup, Job> {
    private final AuditEvents audit;
    private final Counter duplicates = Metrics.counter("aiprod", "duplicates");
    private final Counter denied = Metrics.counter("aiprod", "permission_denied");
    private final Counter redelivered = Metrics.counter("aiprod", "redeliveries_dropped");

    AdmitFn(AuditEvents audit) {
      this.audit = audit;
    }

    @ProcessElement
    public void process(@Element JobLookup lookup, MultiOutputReceiver out) {
      try {
        admit(lookup, out);
      } catch (RuntimeException e) {
        out.get(StageTags.DEAD_LETTERS)
            .output(
                DeadLetters.ofJob(
                    lookup.getJob(),
                    ReasonCode.INTERNAL_ERROR,
                    DeadLetters.unexpected(STAGE, e),
                    STAGE,
                    e));
      }
    }

    private void admit(JobLookup lookup, MultiOutputReceiver out) {
      Job job = lookup.getJob();
      if (lookup.getExistingMessageId() != null
          && !lookup.getExistingMessageId().equals(job.getMessageId())) {
        duplicates.inc();
        DeadLetterAndAudit d =
            duplicate(
                audit,
                job,
                "job_id '"
                    + job.getJobId()
                    + "' is already known for tenant '"
                    + job.getTenant()
                    + "' (state "
                    + lookup.getExistingState()
                    + "); use a new job_id for a new job");
        out.get(StageTags.DEAD_LETTERS).output(d.deadLetter());
        out.get(StageTags.AUDIT).output(d.event());
        return;
      }
      if (lookup.exists() && JobState.valueOf(lookup.getExistingState()).isTerminal()) {
        // This very message already ended (a redelivery after a restart): its outcome exists.
        redelivered.inc();
        out.get(REDELIVERED).output(job);
        ObjectNode d =
            AuditEvents.details()
                .put("reason", "redelivered message of a job that already ended")
                .put("state", lookup.getExistingState());
        out.get(StageTags.AUDIT)
            .output(
                audit
                    .event(AuditType.DATA_ACCESS, AuditStatus.REDELIVERED, "check_duplicate")
                    .about(job)
                    .details(d)
                    .at(System.currentTimeMillis())
                    .discriminator("redelivered")
                    .build());
        return;
      }
      job = job.toBuilder().setInputPayload(null).build();
      if (job.stateValue() == JobState.REJECTED) {
        denied.inc();
        out.get(StageTags.AUDIT).output(Refusals.event(audit, job, STAGE));
        out.get(StageTags.FINISHED).output(job);
        return;
      }
      Refusal refusal = AdmissionRules.check(job.getRole(), job.getPlan(), job.getRequest());
      if (refusal != null) {
        denied.inc();
        Job rejected =
            job.finish(
                JobState.REJECTED, refusal.code(), refusal.message(), System.currentTimeMillis());
        out.get(StageTags.AUDIT).output(Refusals.event(audit, rejected, STAGE));
        out.get(StageTags.FINISHED).output(rejected);
        return;
      }
      out.get(StageTags.JOBS).output(job);
    }
  }
}
