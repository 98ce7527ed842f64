package com.aiprod.pipeline.assemble;

import com.aiprod.pipeline.catalog.Charges;
import com.aiprod.pipeline.catalog.PricingTable;
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
import org.apache.beam.sdk.coders.BooleanCoder;
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

  /**
   * @param jobsTag tag of the rendering jobs in the input tuple
   * @param resultsTag tag of their shot results
   * @param cancelsTag tag of authorized cancel requests
   * @param pricing the list prices the tenant is charged
   * @param streaming whether to arm the deadline timers (batch: the render stage stops shots at the
   *     deadline, see the class comment)
   */
  private AssembleJobs(
      TupleTag<Job> jobsTag,
      TupleTag<ShotResult> resultsTag,
      TupleTag<Job> cancelsTag,
      String outputLocation,
      PricingTable pricing,
      boolean streaming) {
    this.jobsTag = jobsTag;
    this.resultsTag = resultsTag;
    this.cancelsTag = cancelsTag;
    this.outputLocation = outputLocation;
    this.pricing = pricing;
    this.streaming = streaming;
  }

  /** Batch: jobs end when every shot is settled. */
  public static AssembleJobs forBatch(
      TupleTag<Job> jobsTag,
      TupleTag<ShotResult> resultsTag,
      TupleTag<Job> cancelsTag,
      String outputLocation,
      PricingTable pricing) {
    return new AssembleJobs(jobsTag, resultsTag, cancelsTag, outputLocation, pricing, false);
  }

  /** Streaming: also a deadline timer per job, and cancels that may come first. */
  public static AssembleJobs forStreaming(
      TupleTag<Job> jobsTag,
      TupleTag<ShotResult> resultsTag,
      TupleTag<Job> cancelsTag,
      String outputLocation,
      PricingTable pricing) {
    return new AssembleJobs(jobsTag, resultsTag, cancelsTag, outputLocation, pricing, true);
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
            ParDo.of(new AssembleFn(outputLocation, pricing, streaming))
                .withOutputTags(
                    StageTags.JOBS, TupleTagList.of(StageTags.FINISHED).and(StageTags.OUTCOMES)));
  }

  static final class AssembleFn extends DoFn<KV<String, AssemblyInput>, Job> {
    /** How long an ended job's key remembers that it ended (late shots, redeliveries). */
    static final Duration REMEMBER_ENDED = Duration.standardHours(24);

    private static final ObjectMapper MAPPER =
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @StateId("job")
    private final StateSpec<ValueState<Job>> jobSpec = StateSpecs.value(JobCoder.of());

    @StateId("shots")
    private final StateSpec<BagState<ShotResult>> shotsSpec =
        StateSpecs.bag(Coders.schema(ShotResult.class));

    @StateId("cancel")
    private final StateSpec<ValueState<Job>> cancelSpec = StateSpecs.value(JobCoder.of());

    @StateId("ended")
    private final StateSpec<ValueState<Boolean>> endedSpec = StateSpecs.value(BooleanCoder.of());

    @TimerId("deadline")
    private final TimerSpec deadlineSpec = TimerSpecs.timer(TimeDomain.PROCESSING_TIME);

    @TimerId("forget")
    private final TimerSpec forgetSpec = TimerSpecs.timer(TimeDomain.PROCESSING_TIME);

    private final String outputLocation;
    private final PricingTable pricing;
    private final boolean streaming;
    private final Counter deadlines = Metrics.counter("aiprod", "jobs_deadline_exceeded");

    AssembleFn(String outputLocation, PricingTable pricing, boolean streaming) {
      this.outputLocation = outputLocation;
      this.pricing = pricing;
      this.streaming = streaming;
    }

    @ProcessElement
    public void process(
        @Element KV<String, AssemblyInput> element,
        @StateId("job") ValueState<Job> jobState,
        @StateId("shots") BagState<ShotResult> shotsState,
        @StateId("cancel") ValueState<Job> cancelState,
        @StateId("ended") ValueState<Boolean> endedState,
        @TimerId("deadline") Timer deadline,
        @TimerId("forget") Timer forget,
        MultiOutputReceiver out) {
      AssemblyInput in = element.getValue();
      if (Boolean.TRUE.equals(endedState.read())) {
        if (in.getCancel() != null) {
          // The job's outcome exists: it is the cancel's.
          out.get(StageTags.OUTCOMES).output(OutcomePart.whole(in.getCancel().getMessageId()));
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
        cancelState.write(in.getCancel());
      }
      if (job == null) {
        return; // wait for the job
      }
      Job cancel = cancelState.read();
      if (cancel != null) {
        emit(out, cancelled(job, cancel, list(shotsState.read()), pricing));
        end(jobState, shotsState, cancelState, endedState, deadline, forget);
        return;
      }
      List<ShotResult> results = list(shotsState.read());
      if (settled(job, results)) {
        if (results.stream().anyMatch(ShotResult::missedDeadline)) {
          // A shot gave up at the deadline (batch has no timer; streaming's may not have fired
          // yet): the same FAILED/DEADLINE job the timer makes, with what was rendered.
          deadlines.inc();
          emit(out, deadlineExceeded(job, results));
        } else {
          emit(out, assembleOrFail(job, results));
        }
        end(jobState, shotsState, cancelState, endedState, deadline, forget);
      }
    }

    @OnTimer("deadline")
    public void onDeadline(
        @StateId("job") ValueState<Job> jobState,
        @StateId("shots") BagState<ShotResult> shotsState,
        @StateId("cancel") ValueState<Job> cancelState,
        @StateId("ended") ValueState<Boolean> endedState,
        @TimerId("deadline") Timer deadline,
        @TimerId("forget") Timer forget,
        MultiOutputReceiver out) {
      Job job = jobState.read();
      if (job == null || Boolean.TRUE.equals(endedState.read())) {
        return;
      }
      deadlines.inc();
      emit(out, deadlineExceeded(job, list(shotsState.read())));
      end(jobState, shotsState, cancelState, endedState, deadline, forget);
    }

    @OnTimer("forget")
    public void onForget(@StateId("ended") ValueState<Boolean> endedState) {
      endedState.clear();
    }

    private void end(
        ValueState<Job> jobState,
        BagState<ShotResult> shotsState,
        ValueState<Job> cancelState,
        ValueState<Boolean> endedState,
        Timer deadline,
        Timer forget) {
      jobState.clear();
      shotsState.clear();
      cancelState.clear();
      if (streaming) {
        endedState.write(true);
        deadline.clear();
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
