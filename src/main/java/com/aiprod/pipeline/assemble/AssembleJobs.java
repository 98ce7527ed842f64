package com.aiprod.pipeline.assemble;

import com.aiprod.pipeline.catalog.Charges;
import com.aiprod.pipeline.catalog.PricingTable;
import com.aiprod.pipeline.kernel.AuditEvents;
import com.aiprod.pipeline.kernel.CancelAudit;
import com.aiprod.pipeline.kernel.Coders;
import com.aiprod.pipeline.kernel.OutcomePart;
import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.media.OutputFiles;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobCoder;
import com.aiprod.pipeline.model.JobState;
import com.aiprod.pipeline.model.ReasonCode;
import com.aiprod.pipeline.model.ShotResult;
import com.aiprod.pipeline.model.ShotSpec;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
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
 * AssembleJobs (DESIGN §6): per job, stateful. The job, its shot results and any authorized cancel
 * meet in the job's state (keyed by tenant/job_id). When every planned shot is settled the rendered
 * shots are concatenated in shot order into {@code final.mp4} with {@code manifest.json} under
 * {@code <outputLocation>/<tenant>/<job_id>/} (naming {@code contact_sheet.png}, which Deliver
 * draws once the state and the charge are final) and the job goes on to QA; a shot that no attempt
 * rendered ends the job FAILED (RENDER_FAILED, with every attempt's error). At the preset's
 * deadline after the job was received the job ends FAILED (DEADLINE) with what was rendered by then
 * (assembled when there is anything): in streaming a processing-time timer fires; in batch (no
 * timers fire before the input ends) the shots still rendering give up at the deadline with a
 * {@code deadline} result, and a settled job with such a shot ends the same way. A cancel ends the
 * job CANCELLED at once (or as soon as the job reaches its assembly). Once a job has ended here,
 * late shots and repeated inputs for it are ignored.
 *
 * <p>Streaming decides every cancel of a running job here, in the job's keyed state, and records
 * its ADMIN_ACTION ({@link CancelAudit}): {@code success} when it ends the job CANCELLED, {@code
 * failure} when the job had already left its assembly (its shots settled, its deadline passed, an
 * earlier cancel), or when the job does not reach its assembly within {@link
 * AssembleFn#CANCEL_WAIT}. The job's document says RENDERING until Deliver writes its terminal
 * state, so AuthorizeCancels, which reads the document, cannot tell.
 *
 * <p>Costs ({@link Charges}): {@code provider_cost_usd} sums every attempt's cost; {@code cost_usd}
 * is the list price of the shots assembled (QA's job, and Decide's 1.2 × budget rule) or rendered
 * before a cancel (CANCELLED), and $0 for a FAILED job.
 */
public final class AssembleJobs extends PTransform<PCollectionTuple, PCollectionTuple> {
  private final TupleTag<Job> jobsTag;
  private final TupleTag<ShotResult> resultsTag;
  private final TupleTag<Job> cancelsTag;
  private final String outputLocation;
  private final PricingTable pricing;
  private final boolean streaming;
  private final @Nullable AuditEvents audit;

  /**
   * @param jobsTag tag of the rendering jobs in the input tuple
   * @param resultsTag tag of their shot results
   * @param cancelsTag tag of authorized cancel requests
   * @param pricing the list prices the tenant is charged
   * @param streaming whether to arm the deadline timers (batch: the render stage stops shots at the
   *     deadline, see the class comment)
   * @param audit streaming: records the decision on each cancel (batch: AuthorizeCancels does)
   */
  private AssembleJobs(
      TupleTag<Job> jobsTag,
      TupleTag<ShotResult> resultsTag,
      TupleTag<Job> cancelsTag,
      String outputLocation,
      PricingTable pricing,
      boolean streaming,
      @Nullable AuditEvents audit) {
    this.jobsTag = jobsTag;
    this.resultsTag = resultsTag;
    this.cancelsTag = cancelsTag;
    this.outputLocation = outputLocation;
    this.pricing = pricing;
    this.streaming = streaming;
    this.audit = audit;
  }

  /** Batch: jobs end when every shot is settled. */
  public static AssembleJobs forBatch(
      TupleTag<Job> jobsTag,
      TupleTag<ShotResult> resultsTag,
      TupleTag<Job> cancelsTag,
      String outputLocation,
      PricingTable pricing) {
    return new AssembleJobs(jobsTag, resultsTag, cancelsTag, outputLocation, pricing, false, null);
  }

  /**
   * Streaming: also a deadline timer per job, cancels that may come first, and the audit event of
   * each cancel's decision.
   */
  public static AssembleJobs forStreaming(
      TupleTag<Job> jobsTag,
      TupleTag<ShotResult> resultsTag,
      TupleTag<Job> cancelsTag,
      String outputLocation,
      PricingTable pricing,
      AuditEvents audit) {
    return new AssembleJobs(jobsTag, resultsTag, cancelsTag, outputLocation, pricing, true, audit);
  }

  private static final TypeDescriptor<KV<String, AssemblyInput>> INPUT =
      TypeDescriptors.kvs(TypeDescriptors.strings(), TypeDescriptor.of(AssemblyInput.class));

  @Override
  public PCollectionTuple expand(PCollectionTuple input) {
    Coder<KV<String, AssemblyInput>> coder =
        KvCoder.of(StringUtf8Coder.of(), Coders.schema(AssemblyInput.class));
    PCollection<KV<String, AssemblyInput>> jobs =
        input
            .get(jobsTag)
            .apply(
                "KeyJobs",
                MapElements.into(INPUT).via((Job j) -> KV.of(j.key(), AssemblyInput.ofJob(j))))
            .setCoder(coder);
    PCollection<KV<String, AssemblyInput>> shots =
        input
            .get(resultsTag)
            .apply(
                "KeyShots",
                MapElements.into(INPUT)
                    .via(
                        (ShotResult r) ->
                            KV.of(Job.keyOf(r.getTenant(), r.getJobId()), AssemblyInput.ofShot(r))))
            .setCoder(coder);
    PCollection<KV<String, AssemblyInput>> cancels =
        input
            .get(cancelsTag)
            .apply(
                "KeyCancels",
                MapElements.into(INPUT).via((Job c) -> KV.of(c.key(), AssemblyInput.ofCancel(c))))
            .setCoder(coder);
    return PCollectionList.of(jobs)
        .and(shots)
        .and(cancels)
        .apply("MergeJobInputs", Flatten.pCollections())
        .apply(
            "CollectShotsPerJob",
            ParDo.of(new AssembleFn(outputLocation, pricing, streaming, audit))
                .withOutputTags(
                    StageTags.JOBS,
                    TupleTagList.of(StageTags.FINISHED)
                        .and(StageTags.OUTCOMES)
                        .and(StageTags.AUDIT)));
  }

  static final class AssembleFn extends DoFn<KV<String, AssemblyInput>, Job> {
    /** How long an ended job's key remembers that it ended (late shots, redeliveries). */
    static final Duration REMEMBER_ENDED = Duration.standardHours(24);

    /**
     * How long a cancel that came first waits for its job (streaming); the job's document said
     * RENDERING, so the job is on its way unless it was lost (a restart resumes it).
     */
    static final Duration CANCEL_WAIT = Duration.standardMinutes(30);

    private static final Counter SETTLED = Metrics.counter("aiprod", "cancel_requests_settled");
    private static final Counter ACCEPTED = Metrics.counter("aiprod", "cancels_accepted");

    private static final ObjectMapper MAPPER =
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @StateId("job")
    private final StateSpec<ValueState<Job>> jobSpec = StateSpecs.value(JobCoder.of());

    @StateId("shots")
    private final StateSpec<BagState<ShotResult>> shotsSpec =
        StateSpecs.bag(Coders.schema(ShotResult.class));

    @StateId("cancel")
    private final StateSpec<ValueState<Job>> cancelSpec = StateSpecs.value(JobCoder.of());

    /** The state the job left its assembly in (CANCELLED, FAILED, or on to QA). */
    @StateId("ended")
    private final StateSpec<ValueState<String>> endedSpec = StateSpecs.value(StringUtf8Coder.of());

    @TimerId("deadline")
    private final TimerSpec deadlineSpec = TimerSpecs.timer(TimeDomain.PROCESSING_TIME);

    @TimerId("forget")
    private final TimerSpec forgetSpec = TimerSpecs.timer(TimeDomain.PROCESSING_TIME);

    @TimerId("cancelWait")
    private final TimerSpec cancelWaitSpec = TimerSpecs.timer(TimeDomain.PROCESSING_TIME);

    private final String outputLocation;
    private final PricingTable pricing;
    private final boolean streaming;
    private final @Nullable AuditEvents audit;
    private final Counter deadlines = Metrics.counter("aiprod", "jobs_deadline_exceeded");

    AssembleFn(
        String outputLocation,
        PricingTable pricing,
        boolean streaming,
        @Nullable AuditEvents audit) {
      this.outputLocation = outputLocation;
      this.pricing = pricing;
      this.streaming = streaming;
      this.audit = audit;
    }

    @ProcessElement
    public void process(
        @Element KV<String, AssemblyInput> element,
        @StateId("job") ValueState<Job> jobState,
        @StateId("shots") BagState<ShotResult> shotsState,
        @StateId("cancel") ValueState<Job> cancelState,
        @StateId("ended") ValueState<String> endedState,
        @TimerId("deadline") Timer deadline,
        @TimerId("forget") Timer forget,
        @TimerId("cancelWait") Timer cancelWait,
        MultiOutputReceiver out) {
      AssemblyInput in = element.getValue();
      String ended = endedState.read();
      if (ended != null) {
        if (in.getCancel() != null) {
          cancelAfterTheEnd(out, in.getCancel(), cancelState.read(), ended);
        }
        return; // late shot, redelivered job or cancel after the end: the outcome exists
      }
      Job job = jobState.read();
      if (in.getJob() != null) {
        if (job != null) {
          return; // the same job again (redelivery): one assembly per job
        }
        job = in.getJob();
        jobState.write(job);
        if (streaming) {
          long due =
              job.getReceivedAtMillis() + job.getRequest().presetValue().deadlineSec() * 1000L;
          deadline
              .offset(Duration.millis(Math.max(0, due - System.currentTimeMillis())))
              .setRelative();
        }
      } else if (in.getShot() != null) {
        shotsState.add(in.getShot());
      } else if (in.getCancel() != null) {
        Job first = cancelState.read();
        if (first != null) {
          // Another cancel waits for the job already (the job has not come: it would have ended).
          if (!first.getMessageId().equals(in.getCancel().getMessageId())) {
            tooLate(
                out,
                in.getCancel(),
                JobState.RENDERING.name(),
                "cancel message " + first.getMessageId() + " came first and ends the job");
          }
          return;
        }
        cancelState.write(in.getCancel());
        if (job == null && streaming) {
          cancelWait.offset(CANCEL_WAIT).setRelative();
        }
      }
      if (job == null) {
        return; // wait for the job
      }
      Job cancel = cancelState.read();
      if (cancel != null) {
        Job ending = cancelled(job, cancel, list(shotsState.read()), pricing);
        emit(out, ending);
        if (audit != null) {
          SETTLED.inc();
          ACCEPTED.inc();
          out.get(StageTags.AUDIT)
              .output(
                  CancelAudit.accepted(audit, cancel, job.getState(), System.currentTimeMillis()));
        }
        if (!streaming) {
          cancelState.clear();
        }
        end(ending, jobState, shotsState, endedState, deadline, forget, cancelWait);
        return; // streaming: the cancel stays in its state, so a redelivery of it is recognized
      }
      List<ShotResult> results = list(shotsState.read());
      if (settled(job, results)) {
        Job ending;
        if (results.stream().anyMatch(ShotResult::missedDeadline)) {
          // A shot gave up at the deadline (batch has no timer; streaming's may not have fired
          // yet): the same FAILED/DEADLINE job the timer makes, with what was rendered.
          deadlines.inc();
          ending = deadlineExceeded(job, results);
        } else {
          ending = assembleOrFail(job, results);
        }
        emit(out, ending);
        cancelState.clear();
        end(ending, jobState, shotsState, endedState, deadline, forget, cancelWait);
      }
    }

    /**
     * A cancel that reached the job's key after the job left its assembly: the cancel that ended
     * it, again (its decision again, the same event id), or one that changes nothing.
     */
    private void cancelAfterTheEnd(
        MultiOutputReceiver out, Job cancel, @Nullable Job endedBy, String ended) {
      if (endedBy != null && endedBy.getMessageId().equals(cancel.getMessageId())) {
        if (audit != null) {
          out.get(StageTags.AUDIT)
              .output(
                  CancelAudit.accepted(
                      audit, cancel, JobState.RENDERING.name(), System.currentTimeMillis()));
        }
        return; // its outcome is the CANCELLED document
      }
      JobState s = JobState.valueOf(ended);
      tooLate(
          out,
          cancel,
          ended,
          s.isTerminal()
              ? "the job already ended " + ended + "; nothing to cancel"
              : "every shot of the job had settled and it went on to QA; nothing to cancel");
    }

    /** The cancel changes nothing: its outcome is its audit event. */
    private void tooLate(MultiOutputReceiver out, Job cancel, String jobState, String reason) {
      out.get(StageTags.OUTCOMES).output(OutcomePart.whole(cancel.getMessageId()));
      if (audit != null) {
        SETTLED.inc();
        out.get(StageTags.AUDIT)
            .output(
                CancelAudit.tooLate(audit, cancel, jobState, reason, System.currentTimeMillis()));
      }
    }

    @OnTimer("cancelWait")
    public void onCancelWait(
        @StateId("job") ValueState<Job> jobState,
        @StateId("cancel") ValueState<Job> cancelState,
        @StateId("ended") ValueState<String> endedState,
        MultiOutputReceiver out) {
      Job cancel = cancelState.read();
      if (cancel == null || jobState.read() != null || endedState.read() != null) {
        return;
      }
      tooLate(
          out,
          cancel,
          JobState.RENDERING.name(),
          "the job did not reach its assembly within "
              + CANCEL_WAIT.getStandardMinutes()
              + " min of the cancel");
      cancelState.clear();
    }

    @OnTimer("deadline")
    public void onDeadline(
        @StateId("job") ValueState<Job> jobState,
        @StateId("shots") BagState<ShotResult> shotsState,
        @StateId("cancel") ValueState<Job> cancelState,
        @StateId("ended") ValueState<String> endedState,
        @TimerId("deadline") Timer deadline,
        @TimerId("forget") Timer forget,
        @TimerId("cancelWait") Timer cancelWait,
        MultiOutputReceiver out) {
      Job job = jobState.read();
      if (job == null || endedState.read() != null) {
        return;
      }
      deadlines.inc();
      Job ending = deadlineExceeded(job, list(shotsState.read()));
      emit(out, ending);
      cancelState.clear();
      end(ending, jobState, shotsState, endedState, deadline, forget, cancelWait);
    }

    @OnTimer("forget")
    public void onForget(
        @StateId("ended") ValueState<String> endedState,
        @StateId("cancel") ValueState<Job> cancelState) {
      endedState.clear();
      cancelState.clear();
    }

    /** The job left its assembly as {@code ending}: its key remembers that (streaming). */
    private void end(
        Job ending,
        ValueState<Job> jobState,
        BagState<ShotResult> shotsState,
        ValueState<String> endedState,
        Timer deadline,
        Timer forget,
        Timer cancelWait) {
      jobState.clear();
      shotsState.clear();
      if (streaming) {
        endedState.write(ending.getState());
        deadline.clear();
        cancelWait.clear();
        forget.offset(REMEMBER_ENDED).setRelative();
      }
    }

    private static void emit(MultiOutputReceiver out, Job job) {
      out.get(job.stateValue().isTerminal() ? StageTags.FINISHED : StageTags.JOBS).output(job);
    }

    /** {@code job} with the charge of its state; its cost holds the list price of its shots. */
    static Job charged(Job job) {
      return job.toBuilder()
          .setCostUsd(Charges.chargeUsd(job.stateValue(), job.getCostUsd()))
          .build();
    }

    private static List<ShotResult> list(Iterable<ShotResult> it) {
      List<ShotResult> l = new ArrayList<>();
      it.forEach(l::add);
      return l;
    }

    /**
     * Every planned shot has a result that ends it (succeeded, cancelled, or failed with no
     * fallback left); an attempt another backend takes over does not.
     */
    static boolean settled(Job job, List<ShotResult> results) {
      java.util.Set<Integer> done = new java.util.HashSet<>();
      for (ShotResult r : results) {
        if (r.settlesShot()) {
          done.add(r.getShotIndex());
        }
      }
      for (ShotSpec s : job.getShots()) {
        if (!done.contains(s.getIndex())) {
          return false;
        }
      }
      return true;
    }

    private static Map<Integer, ShotResult> succeeded(List<ShotResult> results) {
      Map<Integer, ShotResult> done = new TreeMap<>();
      for (ShotResult r : results) {
        if (r.succeeded()) {
          done.merge(r.getShotIndex(), r, (a, b) -> a.getAttempt() >= b.getAttempt() ? a : b);
        }
      }
      return done;
    }

    /** What the providers billed: every attempt's cost, in whole micro-dollars. */
    private static double providerCost(List<ShotResult> results) {
      long micros = 0;
      for (ShotResult r : results) {
        micros += Math.round(r.getCostUsd() * 1_000_000d);
      }
      return micros / 1_000_000d;
    }

    /** List price of the shots in {@code done}, each by the backend that rendered it. */
    private static double listPrice(Job job, Map<Integer, ShotResult> done, PricingTable pricing) {
      List<Charges.DeliveredShot> shots = new ArrayList<>();
      for (ShotSpec s : job.getShots()) {
        ShotResult r = done.get(s.getIndex());
        if (r != null) {
          shots.add(new Charges.DeliveredShot(r.getBackend(), s.getDurationSec()));
        }
      }
      return Charges.listPriceUsd(pricing, shots);
    }

    /** The assembled job (to QA), or FAILED; charged for its state. */
    Job assembleOrFail(Job job, List<ShotResult> results) {
      return charged(assembleOrFailUncharged(job, results));
    }

    private Job assembleOrFailUncharged(Job job, List<ShotResult> results) {
      Map<Integer, ShotResult> done = succeeded(results);
      long now = System.currentTimeMillis();
      if (done.size() < job.getShots().size()) {
        List<String> errors = new ArrayList<>();
        for (ShotResult r : results) {
          if (!r.succeeded()) {
            errors.add(
                "shot "
                    + r.getShotIndex()
                    + " attempt "
                    + r.getAttempt()
                    + " on "
                    + r.getBackend()
                    + ": "
                    + r.getError());
          }
        }
        return withShots(job, done, results, pricing)
            .finish(
                JobState.FAILED,
                ReasonCode.RENDER_FAILED,
                (job.getShots().size() - done.size())
                    + " of "
                    + job.getShots().size()
                    + " shots were not rendered: "
                    + String.join("; ", errors),
                now);
      }
      try {
        return assemble(withShots(job, done, results, pricing), done);
      } catch (IOException | RuntimeException e) {
        return job.toBuilder()
            .setProviderCostUsd(providerCost(results))
            .build()
            .finish(
                JobState.FAILED,
                ReasonCode.INTERNAL_ERROR,
                "assembly failed: " + e.getClass().getSimpleName() + ": " + e.getMessage(),
                now);
      }
    }

    /** FAILED (DEADLINE) with what was rendered, assembled when there is anything; charged $0. */
    Job deadlineExceeded(Job job, List<ShotResult> results) {
      return charged(deadlineExceededUncharged(job, results));
    }

    private Job deadlineExceededUncharged(Job job, List<ShotResult> results) {
      Map<Integer, ShotResult> done = succeeded(results);
      // A FAILED job is charged nothing, and its manifest says so.
      Job partial = withShots(job, done, results, pricing).toBuilder().setCostUsd(0).build();
      if (!done.isEmpty()) {
        try {
          partial = assemble(partial, done);
        } catch (IOException | RuntimeException e) {
          // keep the shots' record; the reason below says what exists
        }
      }
      return partial.finish(
          JobState.FAILED,
          ReasonCode.DEADLINE,
          done.size()
              + " of "
              + job.getShots().size()
              + " shots were rendered before the "
              + job.getRequest().getPreset()
              + " deadline of "
              + job.getRequest().presetValue().deadlineSec()
              + " s"
              + (done.isEmpty() ? "" : "; final.mp4 holds the rendered shots"),
          System.currentTimeMillis());
    }

    /** CANCELLED, charged for the shots rendered before the cancel. */
    static Job cancelled(Job job, Job cancel, List<ShotResult> results, PricingTable pricing) {
      return charged(cancelledUncharged(job, cancel, results, pricing));
    }

    private static Job cancelledUncharged(
        Job job, Job cancel, List<ShotResult> results, PricingTable pricing) {
      Map<Integer, ShotResult> done = succeeded(results);
      return withShots(job, done, results, pricing).toBuilder()
          .setCancelMessageId(cancel.getMessageId())
          .build()
          .finish(
              JobState.CANCELLED,
              null,
              "cancelled by "
                  + cancel.getUid()
                  + " ("
                  + cancel.getRole()
                  + ", message "
                  + cancel.getMessageId()
                  + ") after "
                  + done.size()
                  + " of "
                  + job.getShots().size()
                  + " shots",
              System.currentTimeMillis());
    }

    /**
     * {@code job} with its rendered shots, the list price of those shots as its cost (charged by
     * {@link #charged} for its state) and what every attempt cost as its provider cost.
     */
    private static Job withShots(
        Job job, Map<Integer, ShotResult> done, List<ShotResult> results, PricingTable pricing) {
      List<String> uris = new ArrayList<>();
      done.values().forEach(r -> uris.add(r.getUri()));
      return job.toBuilder()
          .setCostUsd(listPrice(job, done, pricing))
          .setProviderCostUsd(providerCost(results))
          .setShotsDone(done.size())
          .setShotUris(uris)
          .build();
    }

    private Job assemble(Job job, Map<Integer, ShotResult> done) throws IOException {
      String videoUri =
          OutputFiles.jobFile(outputLocation, job.getTenant(), job.getJobId(), "final.mp4");
      String manifestUri =
          OutputFiles.jobFile(outputLocation, job.getTenant(), job.getJobId(), "manifest.json");
      // Named here, drawn by Deliver once the state and the charge are final.
      String sheetUri =
          OutputFiles.jobFile(
              outputLocation, job.getTenant(), job.getJobId(), OutputFiles.CONTACT_SHEET);
      List<String> uris = job.getShotUris();
      List<Path> locals = new ArrayList<>();
      Path finalTmp = Files.createTempFile("aiprod-final-", ".mp4");
      try {
        for (String uri : uris) {
          locals.add(OutputFiles.localCopy(uri));
        }
        Mp4Concatenator.concat(locals, finalTmp);
        OutputFiles.publish(finalTmp, videoUri, "video/mp4");
      } finally {
        Files.deleteIfExists(finalTmp);
        for (int i = 0; i < locals.size(); i++) {
          if (!OutputFiles.isLocal(uris.get(i))) {
            Files.deleteIfExists(locals.get(i));
          }
        }
      }
      OutputFiles.publish(
          MAPPER.writeValueAsBytes(manifest(job, done, videoUri, sheetUri)),
          manifestUri,
          "application/json");
      return job.toBuilder()
          .setVideoUri(videoUri)
          .setManifestUri(manifestUri)
          .setContactSheetUri(sheetUri)
          .build();
    }

    static ObjectNode manifest(
        Job job, Map<Integer, ShotResult> done, String videoUri, String contactSheetUri) {
      ObjectNode m = MAPPER.createObjectNode();
      m.put("job_id", job.getJobId()).put("tenant", job.getTenant()).put("uid", job.getUid());
      m.put("preset", job.getRequest().getPreset()).put("mode", job.getRequest().getMode());
      m.put("lang", job.getRequest().getLang())
          .put("duration_sec", job.getRequest().getDurationSec());
      m.put("backend", job.getBackend()).put("video", videoUri).put("cost_usd", job.getCostUsd());
      m.put("contact_sheet", contactSheetUri);
      m.put("shots_planned", job.getShots().size()).put("shots_rendered", done.size());
      m.put("assembled_at", Instant.now().toString());
      ArrayNode shots = m.putArray("shots");
      for (ShotSpec s : job.getShots()) {
        ShotResult r = done.get(s.getIndex());
        if (r == null) {
          continue;
        }
        ObjectNode n = shots.addObject();
        n.put("index", s.getIndex())
            .put("duration_sec", s.getDurationSec())
            .put("seed", s.getSeed());
        n.put("uri", r.getUri()).put("backend", r.getBackend()).put("attempt", r.getAttempt());
      }
      return m;
    }
  }
}
