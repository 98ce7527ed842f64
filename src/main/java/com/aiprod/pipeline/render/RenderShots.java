package com.aiprod.pipeline.render;

import com.aiprod.pipeline.catalog.PricingTable;
import com.aiprod.pipeline.jobstore.FirestoreClients;
import com.aiprod.pipeline.kernel.AuditEvents;
import com.aiprod.pipeline.kernel.Coders;
import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.model.AuditStatus;
import com.aiprod.pipeline.model.AuditType;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobResource;
import com.aiprod.pipeline.model.JobState;
import com.aiprod.pipeline.model.ShotResult;
import com.aiprod.pipeline.render.backends.BackendConfig;
import com.aiprod.pipeline.render.backends.VideoBackend;
import com.aiprod.pipeline.secrets.SecretAccesses;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.cloud.firestore.DocumentSnapshot;
import com.google.cloud.firestore.Firestore;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Collectors;
import javax.annotation.Nullable;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Distribution;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.state.StateSpec;
import org.apache.beam.sdk.state.StateSpecs;
import org.apache.beam.sdk.state.TimeDomain;
import org.apache.beam.sdk.state.Timer;
import org.apache.beam.sdk.state.TimerSpec;
import org.apache.beam.sdk.state.TimerSpecs;
import org.apache.beam.sdk.state.ValueState;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.FlatMapElements;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.transforms.splittabledofn.RestrictionTracker;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.joda.time.Duration;

/**
 * RenderShots (DESIGN §5, §6): fans each job out into one {@link ShotTask} per planned shot and
 * renders each asynchronously through {@link ShotRenderer}: submit to the job's backend, poll with
 * growing intervals, fetch the output under {@code --outputLocation}; retries with backoff,
 * fallback to the router's next candidate, circuit breaking. Every attempt is a {@code
 * shot_renders} row; every backend call an API_CALL audit event; every hand-over a {@code
 * backend_fallbacks} count and an audit event.
 *
 * <p><b>Streaming</b>: the shots are keyed by tenant/job/shot and a stateful DoFn keeps each shot's
 * {@link ShotRenderState}; between steps the shot waits on a processing-time timer, so no worker
 * thread waits for a render. <b>Batch</b>: batch runners fire processing-time timers only at the
 * end of the input (the DirectRunner never does: measured, see docs/ARCHITECTURE.md), so the shots
 * are spread over workers and rendered by a splittable DoFn that resumes itself after each step's
 * delay ({@link ShotRestriction}), with the same state machine and policy; on Flink, whose batch
 * translation sleeps through each resume one element at a time, all shots are rendered together in
 * one call ({@link RenderTogetherFn}).
 */
public final class RenderShots extends PTransform<PCollection<Job>, PCollectionTuple> {
  public static final TupleTag<ShotResult> RESULTS = new TupleTag<ShotResult>() {};

  private final AuditEvents audit;
  private final String outputLocation;
  private final @Nullable FirestoreClients jobDocuments;
  private final BackendConfig backends;
  private final PricingTable pricing;
  private final RenderPolicy policy;
  private final CircuitBreakers breakers;
  private final boolean streaming;

  /**
   * @param jobDocuments where to check, before each step, whether the shot's job was cancelled
   *     (null: never check, for tests without a job store)
   * @param streaming whether to wait between steps on timers (streaming) or by resuming a
   *     splittable DoFn (batch)
   */
  private RenderShots(
      AuditEvents audit,
      String outputLocation,
      @Nullable FirestoreClients jobDocuments,
      BackendConfig backends,
      PricingTable pricing,
      RenderPolicy policy,
      CircuitBreakers breakers,
      boolean streaming) {
    this.audit = audit;
    this.outputLocation = outputLocation;
    this.jobDocuments = jobDocuments;
    this.backends = backends;
    this.pricing = pricing;
    this.policy = policy;
    this.breakers = breakers;
    this.streaming = streaming;
  }

  /** Batch: each shot waits between steps by resuming a bounded splittable DoFn. */
  public static RenderShots forBatch(
      AuditEvents audit,
      String outputLocation,
      @Nullable FirestoreClients jobDocuments,
      BackendConfig backends,
      PricingTable pricing,
      RenderPolicy policy,
      CircuitBreakers breakers) {
    return new RenderShots(
        audit, outputLocation, jobDocuments, backends, pricing, policy, breakers, false);
  }

  /** Streaming: each shot waits between steps on processing-time timers of its key. */
  public static RenderShots forStreaming(
      AuditEvents audit,
      String outputLocation,
      @Nullable FirestoreClients jobDocuments,
      BackendConfig backends,
      PricingTable pricing,
      RenderPolicy policy,
      CircuitBreakers breakers) {
    return new RenderShots(
        audit, outputLocation, jobDocuments, backends, pricing, policy, breakers, true);
  }

  @Override
  public PCollectionTuple expand(PCollection<Job> jobs) {
    PCollection<ShotTask> tasks =
        jobs.apply(
            "FanOutShots",
            FlatMapElements.into(TypeDescriptor.of(ShotTask.class))
                .via(
                    (Job j) ->
                        j.getShots().stream()
                            .map(s -> ShotTask.of(j, s))
                            .collect(Collectors.toList())));
    Settings settings =
        new Settings(
            audit,
            outputLocation,
            jobDocuments,
            backends,
            pricing,
            policy,
            breakers,
            jobs.getPipeline().getOptions().getJobName());
    if (streaming) {
      return tasks
          .apply(
              "KeyShots",
              MapElements.into(
                      TypeDescriptors.kvs(
                          TypeDescriptors.strings(), TypeDescriptor.of(ShotTask.class)))
                  .via((ShotTask t) -> KV.of(t.key(), t)))
          .setCoder(KvCoder.of(StringUtf8Coder.of(), Coders.schema(ShotTask.class)))
          .apply(
              "RenderShot",
              ParDo.of(new RenderWithTimersFn(settings))
                  .withOutputTags(RESULTS, TupleTagList.of(StageTags.AUDIT)));
    }
    if ("FlinkRunner".equals(jobs.getPipeline().getOptions().getRunner().getSimpleName())) {
      // Flink's batch translation runs a splittable DoFn one element at a time, sleeping through
      // each resume delay, so a subtask's shots would render one after another: render them
      // together instead (docs/PERFORMANCE.md, "Waiting on providers").
      return tasks
          .apply(
              "GatherShots",
              MapElements.into(
                      TypeDescriptors.kvs(
                          TypeDescriptors.integers(), TypeDescriptor.of(ShotTask.class)))
                  .via((ShotTask t) -> KV.of(0, t)))
          .setCoder(
              KvCoder.of(
                  org.apache.beam.sdk.coders.VarIntCoder.of(), Coders.schema(ShotTask.class)))
          .apply("GroupShots", org.apache.beam.sdk.transforms.GroupByKey.create())
          .apply(
              "RenderShot",
              ParDo.of(new RenderTogetherFn(settings))
                  .withOutputTags(RESULTS, TupleTagList.of(StageTags.AUDIT)));
    }
    return tasks
        .apply("SpreadShots", Reshuffle.<ShotTask>viaRandomKey().withNumBuckets(64))
        .apply(
            "RenderShot",
            ParDo.of(new RenderWithResumesFn(settings))
                .withOutputTags(RESULTS, TupleTagList.of(StageTags.AUDIT)));
  }

  /** What both render DoFns carry to the workers. */
  record Settings(
      AuditEvents audit,
      String outputLocation,
      @Nullable FirestoreClients jobDocuments,
      BackendConfig backends,
      PricingTable pricing,
      RenderPolicy policy,
      CircuitBreakers breakers,
      String run)
      implements java.io.Serializable {}

  /**
   * What both render DoFns share: the worker's backend clients (opened on first use, closed in
   * {@code @Teardown}), the cancel check, and the outputs of a step.
   */
  abstract static class RenderFn<InT> extends DoFn<InT, ShotResult> {
    final Settings settings;
    private final Distribution latency = Metrics.distribution("aiprod", "render_latency_ms");
    private final Counter fallbacks = Metrics.counter("aiprod", "backend_fallbacks");
    private transient Firestore firestore;
    private transient Map<String, VideoBackend> clients;
    private transient SecretAccesses secretAccesses;
    transient ShotRenderer renderer;

    RenderFn(Settings settings) {
      this.settings = settings;
    }

    @Setup
    public void setup() {
      if (settings.jobDocuments() != null) {
        firestore = settings.jobDocuments().open();
      }
      clients = new HashMap<>();
      if (settings.backends().secrets() != null) {
        // Clients resolve their API keys through this view: each version becomes a SECRET_ACCESS
        // event with the next step's output (@Setup has none; clients open on first use).
        secretAccesses = new SecretAccesses(settings.backends().secrets().resolver());
      }
      renderer =
          new ShotRenderer(
              settings.policy(),
              settings.breakers().open(),
              settings.pricing(),
              settings.outputLocation(),
              this::client);
    }

    private synchronized VideoBackend client(String backendId) {
      return clients.computeIfAbsent(backendId, id -> settings.backends().open(id, secretAccesses));
    }

    @Teardown
    public void teardown() throws Exception {
      if (clients != null) {
        clients.values().forEach(VideoBackend::close);
        clients.clear();
      }
      if (firestore != null) {
        firestore.close();
      }
    }

    /** Whether the job's document says CANCELLED (a cancel stops the job's remaining renders). */
    boolean cancelled(ShotTask task) throws Exception {
      if (firestore == null) {
        return false;
      }
      DocumentSnapshot doc =
          firestore.document(new JobResource(task.getTenant(), task.getJobId()).path()).get().get();
      return doc.exists() && JobState.CANCELLED.name().equals(doc.getString("state"));
    }

    /** Takes one step of a shot and emits its rows and events. */
    ShotRenderer.Step step(ShotRenderState state, MultiOutputReceiver out) throws Exception {
      ShotRenderer.Step step = compute(state);
      emit(state.getTask(), step, out);
      return step;
    }

    /** One step of a shot, without emitting its rows and events yet. */
    ShotRenderer.Step compute(ShotRenderState state) throws Exception {
      return renderer.step(state, System.currentTimeMillis(), cancelled(state.getTask()));
    }

    /** Emits a step's secret accesses, API calls, fallbacks and {@code shot_renders} rows. */
    void emit(ShotTask task, ShotRenderer.Step step, MultiOutputReceiver out) {
      if (secretAccesses != null) {
        for (AuditEvent access :
            secretAccesses.drainEvents(
                settings.audit(), settings.run(), "RenderShots", System.currentTimeMillis())) {
          out.get(StageTags.AUDIT).output(access);
        }
      }
      for (ShotRenderer.Call c : step.calls()) {
        if (c.call().equals("submit") && c.ok()) {
          Metrics.counter("aiprod", "shots_submitted_" + c.backend()).inc();
        }
        ObjectNode d =
            AuditEvents.details()
                .put("backend", c.backend())
                .put("call", c.call())
                .put("shot_index", task.getShot().getIndex())
                .put("attempt", c.attempt())
                .put("polls", c.polls())
                .put("latency_ms", c.latencyMs());
        if (c.httpStatus() != 0) {
          d.put("http_status", c.httpStatus());
        }
        if (c.error() != null) {
          d.put("error", truncate(c.error()));
        }
        out.get(StageTags.AUDIT)
            .output(
                settings
                    .audit()
                    .event(
                        AuditType.API_CALL,
                        c.ok() ? AuditStatus.SUCCESS : AuditStatus.FAILURE,
                        "render_" + c.call())
                    .aboutMessage(task.getMessageId(), task.getTenant(), task.getUid())
                    .jobId(task.getJobId())
                    .resource(c.backend())
                    .details(d)
                    .at(c.atMillis())
                    .discriminator("shot-" + task.getShot().getIndex() + "-call-" + c.sequence())
                    .build());
      }
      for (ShotRenderer.Fallback f : step.fallbacks()) {
        fallbacks.inc();
        ObjectNode d =
            AuditEvents.details()
                .put("from", f.from())
                .put("to", f.to())
                .put("shot_index", task.getShot().getIndex())
                .put("attempt", f.attempt())
                .put("reason", truncate(f.why()));
        out.get(StageTags.AUDIT)
            .output(
                settings
                    .audit()
                    .event(AuditType.API_CALL, AuditStatus.FAILURE, "render_fallback")
                    .aboutMessage(task.getMessageId(), task.getTenant(), task.getUid())
                    .jobId(task.getJobId())
                    .resource(f.to())
                    .details(d)
                    .at(f.atMillis())
                    .discriminator(
                        "shot-"
                            + task.getShot().getIndex()
                            + "-fallback-"
                            + f.from()
                            + "-"
                            + f.attempt())
                    .build());
      }
      for (ShotResult r : step.results()) {
        latency.update(r.getLatencyMs());
        if ("cancelled".equals(r.getStatus())) {
          Metrics.counter("aiprod", "shots_cancelled").inc();
        } else if (r.missedDeadline()) {
          Metrics.counter("aiprod", "shots_deadline").inc();
        } else {
          Metrics.counter(
                  "aiprod", (r.succeeded() ? "shots_succeeded_" : "shots_failed_") + r.getBackend())
              .inc();
        }
        out.get(RESULTS).output(r);
      }
    }

    private static String truncate(String s) {
      return s.length() <= 500 ? s : s.substring(0, 500) + "…";
    }
  }

  /** Streaming: one shot per key, its state in Beam state, a timer between steps. */
  static final class RenderWithTimersFn extends RenderFn<KV<String, ShotTask>> {
    /** How long a settled shot's key remembers it (a repeated task for it is ignored). */
    static final Duration REMEMBER_SETTLED = Duration.standardHours(1);

    @StateId("render")
    private final StateSpec<ValueState<ShotRenderState>> renderSpec =
        StateSpecs.value(Coders.schema(ShotRenderState.class));

    @TimerId("step")
    private final TimerSpec stepSpec = TimerSpecs.timer(TimeDomain.PROCESSING_TIME);

    RenderWithTimersFn(Settings settings) {
      super(settings);
    }

    @ProcessElement
    public void process(
        @Element KV<String, ShotTask> element,
        @StateId("render") ValueState<ShotRenderState> render,
        @TimerId("step") Timer timer,
        MultiOutputReceiver out)
        throws Exception {
      if (render.read() != null) {
        return; // the same shot again (a redelivered job): it is being rendered or settled
      }
      advance(ShotRenderState.start(element.getValue()), render, timer, out);
    }

    @OnTimer("step")
    public void onStep(
        @StateId("render") ValueState<ShotRenderState> render,
        @TimerId("step") Timer timer,
        MultiOutputReceiver out)
        throws Exception {
      ShotRenderState state = render.read();
      if (state == null) {
        return;
      }
      if (state.phase() == ShotRenderState.Phase.DONE) {
        render.clear(); // forget the settled shot
        return;
      }
      advance(state, render, timer, out);
    }

    private void advance(
        ShotRenderState state,
        ValueState<ShotRenderState> render,
        Timer timer,
        MultiOutputReceiver out)
        throws Exception {
      ShotRenderer.Step step = step(state, out);
      render.write(step.next());
      if (step.done()) {
        timer.offset(REMEMBER_SETTLED).setRelative();
      } else {
        timer
            .offset(Duration.millis(Math.max(0, step.wakeAtMillis() - System.currentTimeMillis())))
            .setRelative();
      }
    }
  }

  /**
   * Batch on Flink: every shot of the run in one call, each step taken when it is due, the thread
   * asleep until the next one (a wait is at most a poll interval, a backoff or a circuit's open
   * time, and never past the job's deadline). Many shots wait at once on one thread, at no CPU.
   */
  static final class RenderTogetherFn extends RenderFn<KV<Integer, Iterable<ShotTask>>> {
    RenderTogetherFn(Settings settings) {
      super(settings);
    }

    private record Due(ShotRenderState state, long atMillis) {}

    @ProcessElement
    public void process(@Element KV<Integer, Iterable<ShotTask>> shots, MultiOutputReceiver out)
        throws Exception {
      java.util.PriorityQueue<Due> queue =
          new java.util.PriorityQueue<>(java.util.Comparator.comparingLong(Due::atMillis));
      java.util.Set<String> seen = new java.util.HashSet<>();
      for (ShotTask t : shots.getValue()) {
        if (seen.add(t.key())) { // the same shot twice (a repeated job) renders once
          queue.add(new Due(ShotRenderState.start(t), 0));
        }
      }
      while (!queue.isEmpty()) {
        Due next = queue.poll();
        long wait = next.atMillis() - System.currentTimeMillis();
        if (wait > 0) {
          Thread.sleep(wait);
        }
        ShotRenderer.Step step = step(next.state(), out);
        if (!step.done()) {
          queue.add(new Due(step.next(), step.wakeAtMillis()));
        }
      }
    }
  }

  /**
   * Batch: a splittable DoFn whose restriction is the shot's {@link ShotRenderState}. After each
   * step it claims the next state and returns {@code resume()} with the delay until the state's
   * wake time: the runner checkpoints and calls it again later, so no thread waits for a provider
   * (batch runners do not fire processing-time timers before the end of the input).
   */
  @DoFn.BoundedPerElement // a shot ends: the batch graph stays bounded (returning resume() alone
  // would make it unbounded)
  static final class RenderWithResumesFn extends RenderFn<ShotTask> {
    RenderWithResumesFn(Settings settings) {
      super(settings);
    }

    @GetInitialRestriction
    public ShotRestriction initialRestriction(@Element ShotTask task) {
      return ShotRestriction.of(ShotRenderState.start(task));
    }

    @NewTracker
    public ShotRestriction.Tracker newTracker(@Restriction ShotRestriction restriction) {
      return new ShotRestriction.Tracker(restriction);
    }

    @GetRestrictionCoder
    public org.apache.beam.sdk.coders.Coder<ShotRestriction> restrictionCoder() {
      return ShotRestriction.coder();
    }

    @ProcessElement
    public ProcessContinuation process(
        RestrictionTracker<ShotRestriction, ShotRenderState> tracker, MultiOutputReceiver out)
        throws Exception {
      ShotRestriction r = tracker.currentRestriction();
      if (r.isDone()) {
        return ProcessContinuation.stop();
      }
      if (!tracker.tryClaim(r.state())) {
        return ProcessContinuation.stop(); // opening the step: refused only after a checkpoint
      }
      ShotRenderer.Step step = compute(r.state());
      tracker.tryClaim(step.next()); // records the step's outcome
      emit(r.state().getTask(), step, out);
      if (step.done()) {
        return ProcessContinuation.stop();
      }
      long wait = Math.max(0, step.wakeAtMillis() - System.currentTimeMillis());
      return ProcessContinuation.resume().withResumeDelay(Duration.millis(wait));
    }
  }
}
