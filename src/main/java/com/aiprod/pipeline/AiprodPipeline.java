package com.aiprod.pipeline;

import com.aiprod.pipeline.admit.Admit;
import com.aiprod.pipeline.admit.AuthorizeCancels;
import com.aiprod.pipeline.assemble.AssembleJobs;
import com.aiprod.pipeline.audit.AuditEvent;
import com.aiprod.pipeline.audit.AuditEvents;
import com.aiprod.pipeline.audit.DetectAuthFailureBursts;
import com.aiprod.pipeline.audit.SignAuditEvents;
import com.aiprod.pipeline.auth.AuthConfig;
import com.aiprod.pipeline.auth.Authenticate;
import com.aiprod.pipeline.decide.Decide;
import com.aiprod.pipeline.flink.LiveCounters;
import com.aiprod.pipeline.ingest.ReadRequests;
import com.aiprod.pipeline.ingest.RequestMessage;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.options.AiprodOptions;
import com.aiprod.pipeline.options.OptionsCheck;
import com.aiprod.pipeline.persist.DeadLetter;
import com.aiprod.pipeline.persist.Deliver;
import com.aiprod.pipeline.persist.ExistingJobLookup;
import com.aiprod.pipeline.persist.FirestoreClients;
import com.aiprod.pipeline.persist.JobStore;
import com.aiprod.pipeline.persist.PublishDeadLetters;
import com.aiprod.pipeline.persist.ResumeUnfinishedJobs;
import com.aiprod.pipeline.persist.Warehouse;
import com.aiprod.pipeline.persist.WriteJobDocuments;
import com.aiprod.pipeline.persist.WriteJobDocumentsInOrder;
import com.aiprod.pipeline.plan.Plan;
import com.aiprod.pipeline.price.PriceAndRoute;
import com.aiprod.pipeline.price.PricingTable;
import com.aiprod.pipeline.qa.SemanticQa;
import com.aiprod.pipeline.qa.TechnicalQa;
import com.aiprod.pipeline.render.RenderPolicy;
import com.aiprod.pipeline.render.RenderShots;
import com.aiprod.pipeline.render.backends.BackendConfig;
import com.aiprod.pipeline.secrets.SecretSource;
import com.aiprod.pipeline.validate.Validate;
import com.aiprod.pipeline.vertex.GeminiConfig;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricQueryResults;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.joda.time.Duration;

/**
 * AIPROD Pipeline: authenticated AI-video job requests in, rendered and quality-checked
 * deliverables out, with an audit trail (DESIGN §1). {@code main} parses the options, builds the
 * graph and runs it; the graph is the same for batch files and Pub/Sub (streaming): only the source
 * differs, and a few stages pick their streaming form (per-key state instead of a GroupByKey in the
 * global window, deadline timers, progress documents).
 */
public final class AiprodPipeline {
  private AiprodPipeline() {}

  public static void main(String[] args) {
    PipelineOptionsFactory.register(AiprodOptions.class);
    AiprodOptions options =
        PipelineOptionsFactory.fromArgs(args).withValidation().as(AiprodOptions.class);
    Pipeline pipeline = create(options);
    forMainLoop(options, args);
    PipelineResult result = pipeline.run();
    if (OptionsCheck.isDataflow(options)) {
      // A Flex Template launcher (and any Dataflow submission) returns once the job is submitted:
      // Dataflow runs it; watching is Cloud Monitoring's job, not this process's.
      System.out.println("submitted to Dataflow: job " + dataflowJobId(result));
      return;
    }
    if (options.isStreaming()) {
      // SIGTERM / Ctrl-C: cancel the run so that DoFns tear down (the warehouse is closed).
      Thread hook = new Thread(() -> cancelQuietly(result), "aiprod-cancel-on-shutdown");
      Runtime.getRuntime().addShutdownHook(hook);
    }
    PipelineResult.State state = awaitWithProgress(result, options.getStopAfterOutcomes());
    System.out.println("pipeline finished: " + state);
    boolean ok =
        state == PipelineResult.State.DONE
            || (options.isStreaming() && state == PipelineResult.State.CANCELLED);
    if (!ok) {
      System.exit(1);
    }
  }

  /** Checkpoint interval of a streaming run on Flink when none is given (ms). */
  static final long DEFAULT_FLINK_CHECKPOINT_INTERVAL_MS = 10_000;

  /**
   * Runner options that let {@code main} watch the run ({@link #awaitWithProgress}) and cancel it;
   * called after {@link #create} (which decides streaming).
   *
   * <ul>
   *   <li>DirectRunner: {@code blockOnRun=false}, or {@code run()} never returns in streaming.
   *   <li>FlinkRunner, streaming: {@code attachedMode=false} unless given, for the same reason
   *       (attached, {@code run()} returns only when the job ends; detached, the result is a live
   *       handle on the Flink job: state, metrics and cancel). A checkpoint interval of {@value
   *       #DEFAULT_FLINK_CHECKPOINT_INTERVAL_MS} ms unless given: PubsubIO acknowledges messages
   *       only when a checkpoint completes, so without checkpoints nothing is ever acknowledged and
   *       every message is redelivered to the next run. Batch on Flink stays attached ({@code
   *       run()} returns when the job is done, with its final metrics). Embedded ({@code [local]},
   *       {@code [auto]}) and without {@code --flinkConfDir}: a generated Flink configuration
   *       registers {@link LiveCounters}, since Beam on Flink streaming gives the result its
   *       metrics only when the job ends.
   * </ul>
   */
  static void forMainLoop(AiprodOptions options, String[] args) {
    String runner = options.getRunner().getSimpleName();
    if (runner.equals("DirectRunner")) {
      options.as(DirectOptions.class).setBlockOnRun(false);
    } else if (runner.equals("FlinkRunner") && options.isStreaming()) {
      FlinkPipelineOptions flink = options.as(FlinkPipelineOptions.class);
      if (!given(args, "attachedMode")) {
        flink.setAttachedMode(false);
      }
      if (!given(args, "checkpointingInterval")) {
        flink.setCheckpointingInterval(DEFAULT_FLINK_CHECKPOINT_INTERVAL_MS);
      }
      boolean embedded = List.of("[local]", "[auto]").contains(flink.getFlinkMaster());
      if (embedded && flink.getFlinkConfDir() == null) {
        try {
          flink.setFlinkConfDir(LiveCounters.configurationDirectory().toString());
        } catch (IOException e) {
          throw new UncheckedIOException("Cannot write the embedded Flink configuration", e);
        }
      } else if (options.getStopAfterOutcomes() > 0) {
        System.out.println(
            "note: --stopAfterOutcomes needs live counters, which only embedded Flink without"
                + " --flinkConfDir has: this run's progress shows at its end");
      }
    }
  }

  private static boolean given(String[] args, String option) {
    for (String a : args) {
      if (a.equals("--" + option) || a.startsWith("--" + option + "=")) {
        return true;
      }
    }
    return false;
  }

  /** Cancels the run unless it has ended; returns its last known state. */
  private static PipelineResult.State cancelQuietly(PipelineResult result) {
    PipelineResult.State state = null;
    boolean cancelling = false;
    try {
      state = result.getState();
      if (state == null || !state.isTerminal()) {
        cancelling = true;
        state = result.cancel();
        PipelineResult.State after = result.waitUntilFinish(Duration.standardSeconds(20));
        state = after != null ? after : result.getState(); // null: not ended within the wait
      }
    } catch (Exception e) {
      // Embedded Flink, detached: the cluster shuts down as soon as the cancelled job has ended,
      // and the result can no longer be asked for anything. The cancel went through.
      if (cancelling && clusterGone(e)) {
        state = PipelineResult.State.CANCELLED;
      }
    }
    return state;
  }

  /** The embedded Flink cluster of a detached run has shut down (the job has ended). */
  private static boolean clusterGone(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof IllegalStateException
          && t.getMessage() != null
          && t.getMessage()
              .contains("MiniCluster is not yet running or has already been shut down")) {
        return true;
      }
    }
    return false;
  }

  /** Checks the options and builds the whole graph on a new pipeline. */
  public static Pipeline create(AiprodOptions options) {
    PricingTable pricing = PricingTable.load(options.getPricingFile());
    OptionsCheck.validate(options, pricing);
    boolean fromPubsub = options.getInputFiles() == null || options.getInputFiles().isBlank();
    if (fromPubsub) {
      options.setStreaming(true);
    }
    Pipeline p = Pipeline.create(options);
    PCollection<RequestMessage> requests =
        p.apply(
            "ReadRequests",
            fromPubsub
                ? ReadRequests.fromPubsub(
                    options.getInputSubscription(),
                    options.getInputTopic(),
                    OptionsCheck.outcomeAckDelayMillis(options))
                : ReadRequests.fromFiles(options.getInputFiles()));
    expand(p, options, pricing, requests);
    return p;
  }

  /** Every stage after the source (DESIGN §1). */
  public static void expand(
      Pipeline p,
      AiprodOptions options,
      PricingTable pricing,
      PCollection<RequestMessage> requests) {
    AuditEvents audit = new AuditEvents(options.getEnvironment());
    Warehouse warehouse = Warehouse.fromSpec(options.getWarehouse());
    JobStore store = JobStore.fromOptions(options);
    AuthConfig authConfig =
        "dev".equals(options.getAuthMode())
            ? AuthConfig.dev(OptionsCheck.firebaseProject(options), options.getDevAuthDir())
            : AuthConfig.firebase(OptionsCheck.firebaseProject(options));
    String out = options.getOutputLocation();
    // Null when --geminiModel is empty: local planner and local semantic heuristic.
    GeminiConfig gemini = GeminiConfig.fromOptions(options);
    List<PCollection<AuditEvent>> auditEvents = new ArrayList<>();
    List<PCollection<DeadLetter>> deadLetters = new ArrayList<>();
    List<PCollection<Job>> finished = new ArrayList<>();

    // Typed as AuditEvent, not inferred from the element (AutoValue_AuditEvent): Flink's Flatten
    // unions only inputs with equal coders, and a SchemaCoder's type is part of its identity.
    auditEvents.add(
        p.apply(
            "AuditConfiguration",
            Create.of(configEvent(audit, options)).withType(TypeDescriptor.of(AuditEvent.class))));

    PCollectionTuple authenticated =
        requests.apply("Authenticate", new Authenticate(authConfig, audit));
    collect(authenticated, auditEvents, deadLetters, null);
    auditEvents.add(
        authenticated
            .get(StageTags.AUDIT)
            .apply("DetectAuthFailureBursts", new DetectAuthFailureBursts(audit)));

    PCollectionTuple validated =
        authenticated.get(Authenticate.AUTHENTICATED).apply("Validate", new Validate());
    collect(validated, auditEvents, deadLetters, null);

    PCollectionTuple cancels =
        validated
            .get(Validate.CANCELS)
            .apply(
                "AuthorizeCancels",
                options.isStreaming()
                    ? new AuthorizeCancels(
                        audit,
                        ExistingJobLookup.in(store),
                        store,
                        FirestoreClients.fromOptions(options))
                    : new AuthorizeCancels(audit, ExistingJobLookup.in(store)));
    collect(cancels, auditEvents, deadLetters, null);

    PCollection<Job> toAdmit = validated.get(StageTags.JOBS);
    if (options.isStreaming()) {
      // Jobs a previous run admitted but did not finish (their messages may be acked already).
      toAdmit =
          PCollectionList.of(toAdmit)
              .and(p.apply("ResumeUnfinishedJobs", new ResumeUnfinishedJobs(store)))
              .apply("WithResumedJobs", Flatten.pCollections());
    }
    PCollectionTuple admitted =
        toAdmit.apply(
            "Admit", new Admit(audit, ExistingJobLookup.in(store), options.isStreaming()));
    collect(admitted, auditEvents, deadLetters, finished);
    collect(
        admitted
            .get(Admit.REDELIVERED)
            .apply(
                "RewriteEndedJobRows",
                new Deliver.EndedJobRows(
                    audit, warehouse, store, FirestoreClients.fromOptions(options))),
        auditEvents,
        deadLetters,
        null);

    PCollectionTuple routed =
        admitted
            .get(StageTags.JOBS)
            .apply(
                "PriceAndRoute",
                new PriceAndRoute(
                    audit,
                    pricing,
                    OptionsCheck.renderBackends(options),
                    FirestoreClients.fromOptions(options),
                    options.isStreaming()));
    collect(routed, auditEvents, deadLetters, finished);

    PCollectionTuple planned = routed.get(StageTags.JOBS).apply("Plan", new Plan(audit, gemini));
    collect(planned, auditEvents, deadLetters, finished);

    PCollection<Job> rendering = planned.get(StageTags.JOBS);
    PCollection<Job> progress = null;
    if (options.isStreaming()) {
      progress =
          PCollectionList.of(admitted.get(StageTags.JOBS))
              .and(rendering)
              .apply("FlattenProgress", Flatten.pCollections());
      auditEvents.add(progress.apply("DeliverProgress", new Deliver.Progress(audit)));
    }
    PCollectionTuple rendered =
        rendering.apply(
            "RenderShots",
            new RenderShots(
                audit,
                out,
                FirestoreClients.fromOptions(options),
                backendConfig(options, pricing),
                pricing,
                RenderPolicy.standard(),
                options.isStreaming()));
    collect(rendered, auditEvents, deadLetters, null);

    PCollectionTuple assembled =
        PCollectionTuple.of(StageTags.JOBS, rendering)
            .and(RenderShots.RESULTS, rendered.get(RenderShots.RESULTS))
            .and(Validate.CANCELS, cancels.get(StageTags.JOBS))
            .apply(
                "AssembleJobs",
                new AssembleJobs(
                    StageTags.JOBS,
                    RenderShots.RESULTS,
                    Validate.CANCELS,
                    out,
                    options.isStreaming()));
    collect(assembled, auditEvents, deadLetters, finished);

    PCollectionTuple technical =
        assembled.get(StageTags.JOBS).apply("TechnicalQa", new TechnicalQa());
    collect(technical, auditEvents, deadLetters, finished);
    PCollectionTuple semantic =
        technical.get(StageTags.JOBS).apply("SemanticQa", new SemanticQa(audit, gemini));
    collect(semantic, auditEvents, deadLetters, finished);
    PCollectionTuple decided = semantic.get(StageTags.JOBS).apply("Decide", new Decide());
    collect(decided, auditEvents, deadLetters, finished);

    PCollection<Job> terminal =
        PCollectionList.of(finished).apply("FlattenTerminalJobs", Flatten.pCollections());
    PCollectionTuple delivered =
        terminal.apply(
            "DeliverJobs",
            new Deliver.Jobs(
                audit,
                warehouse,
                options.isStreaming()
                    ? new WriteJobDocumentsInOrder(store, FirestoreClients.fromOptions(options))
                    : WriteJobDocuments.to(store),
                progress));
    collect(delivered, auditEvents, deadLetters, null);

    deadLetters.add(
        rendered
            .get(RenderShots.RESULTS)
            .apply("DeliverShotRenders", new Deliver.ShotRenders(warehouse)));
    deadLetters.add(
        PCollectionList.of(auditEvents)
            .apply("FlattenAuditEvents", Flatten.pCollections())
            .apply(
                "SignAuditEvents",
                new SignAuditEvents(SecretSource.parse(options.getSecretSource()), audit))
            .apply("DeliverAuditEvents", new Deliver.AuditRows(warehouse)));
    PCollection<DeadLetter> allDeadLetters =
        PCollectionList.of(deadLetters).apply("FlattenDeadLetters", Flatten.pCollections());
    if (options.getDeadLetterTopic() != null && !options.getDeadLetterTopic().isBlank()) {
      // Topic first: the dead_letters row, written after it, is the outcome (and may ack the
      // input).
      allDeadLetters =
          allDeadLetters.apply(
              "PublishDeadLetters", PublishDeadLetters.to(options.getDeadLetterTopic()));
    }
    allDeadLetters.apply("DeliverDeadLetters", new Deliver.DeadLetterRows(warehouse));
  }

  private static void collect(
      PCollectionTuple stage,
      List<PCollection<AuditEvent>> audit,
      List<PCollection<DeadLetter>> deadLetters,
      List<PCollection<Job>> finished) {
    if (stage.has(StageTags.AUDIT)) {
      audit.add(stage.get(StageTags.AUDIT));
    }
    if (stage.has(StageTags.DEAD_LETTERS)) {
      deadLetters.add(stage.get(StageTags.DEAD_LETTERS));
    }
    if (finished != null && stage.has(StageTags.FINISHED)) {
      finished.add(stage.get(StageTags.FINISHED));
    }
  }

  /** CONFIG_CHANGE at start: the options this run uses, nothing secret in them. */
  static AuditEvent configEvent(AuditEvents audit, AiprodOptions o) {
    ObjectNode d = AuditEvents.details();
    Map<String, String> opts = new TreeMap<>();
    opts.put("inputFiles", o.getInputFiles());
    opts.put("inputSubscription", o.getInputSubscription());
    opts.put("inputTopic", o.getInputTopic());
    opts.put("authMode", o.getAuthMode());
    opts.put("firebaseProject", OptionsCheck.firebaseProject(o));
    opts.put("warehouse", o.getWarehouse());
    opts.put("secretSource", o.getSecretSource());
    opts.put("renderBackends", o.getRenderBackends());
    opts.put("pricingFile", o.getPricingFile());
    opts.put("outputLocation", o.getOutputLocation());
    opts.put("deadLetterTopic", o.getDeadLetterTopic());
    opts.put("geminiModel", o.getGeminiModel());
    opts.put("vertexLocation", o.getVertexLocation());
    opts.put("runner", o.getRunner().getSimpleName());
    opts.put("streaming", String.valueOf(o.isStreaming()));
    opts.forEach((k, v) -> d.put(k, v));
    return audit.event(
        AuditEvents.CONFIG_CHANGE,
        AuditEvents.SUCCESS,
        "start_pipeline",
        null,
        null,
        null,
        null,
        o.getJobName(),
        d,
        System.currentTimeMillis(),
        o.getJobName());
  }

  /**
   * Waits for the run, printing a progress line every few seconds. With {@code stopAfterOutcomes} >
   * 0 (local streaming runs), cancels the run once that many messages have their outcome and the
   * counts have been still for two polls (the last rows are written).
   */
  static PipelineResult.State awaitWithProgress(PipelineResult result, long stopAfterOutcomes) {
    String last = "";
    long stillSince = -1;
    long lastOutcomes = -1;
    while (true) {
      PipelineResult.State state;
      try {
        state = result.waitUntilFinish(Duration.standardSeconds(3));
      } catch (RuntimeException e) {
        if (!clusterGone(e)) {
          throw e;
        }
        // Only a job that has ended takes its embedded cluster down, and we did not cancel it.
        System.out.println("the embedded Flink cluster has shut down: the job ended on its own");
        return PipelineResult.State.FAILED;
      }
      Map<String, Long> c = counters(result);
      String line = progressLine(c);
      if (!line.equals(last)) {
        System.out.println(line);
        last = line;
      }
      if (state != null && state.isTerminal()) {
        return state;
      }
      long outcomes = outcomes(c);
      if (stopAfterOutcomes > 0 && outcomes >= stopAfterOutcomes) {
        stillSince = outcomes == lastOutcomes ? stillSince + 1 : 0;
        if (stillSince >= 2) {
          System.out.println("all " + outcomes + " outcomes reached: cancelling the streaming run");
          return cancelQuietly(result);
        }
      }
      lastOutcomes = outcomes;
    }
  }

  private static final String[] TERMINAL = {
    "delivered", "needs_review", "rejected", "failed", "cancelled", "estimated"
  };

  static Map<String, Long> counters(PipelineResult result) {
    Map<String, Long> c = new TreeMap<>();
    MetricQueryResults m;
    try {
      m =
          result
              .metrics()
              .queryMetrics(
                  MetricsFilter.builder()
                      .addNameFilter(MetricNameFilter.inNamespace(LiveCounters.NAMESPACE))
                      .build());
    } catch (RuntimeException e) {
      if (!clusterGone(e)) {
        throw e;
      }
      m = null; // a detached embedded Flink job that has just ended: the live counters remain
    }
    if (m != null) {
      for (MetricResult<Long> r : m.getCounters()) {
        Long v = r.getAttempted();
        c.merge(r.getName().getName(), v == null ? 0 : v, Long::sum);
      }
    }
    // Embedded Flink streaming: the result has the counters only at the end; the live ones are
    // the operators' Flink counters (empty on every other runner).
    LiveCounters.snapshot().forEach((name, v) -> c.merge(name, v, Math::max));
    return c;
  }

  /**
   * Messages with their terminal outcome so far: terminal jobs (a cancelled job counts for its
   * submit message), dead letters, and settled cancel requests.
   */
  static long outcomes(Map<String, Long> c) {
    long jobs = 0;
    for (String s : TERMINAL) {
      jobs += c.getOrDefault("jobs_" + s, 0L);
    }
    return jobs
        + c.getOrDefault("dead_letters", 0L)
        + c.getOrDefault("cancel_requests_settled", 0L);
  }

  static String progressLine(Map<String, Long> c) {
    long jobs = 0;
    for (String s : TERMINAL) {
      jobs += c.getOrDefault("jobs_" + s, 0L);
    }
    return String.format(
        "progress: received %d, authenticated %d, planned %d, shots rendered %d, terminal jobs %d,"
            + " dead letters %d, outcomes %d",
        c.getOrDefault("requests_received", 0L),
        c.getOrDefault("auth_success", 0L),
        c.getOrDefault("jobs_planned", 0L),
        c.getOrDefault("shots_succeeded_preview", 0L),
        jobs,
        c.getOrDefault("dead_letters", 0L),
        outcomes(c));
  }

  /** The render backends' clients as the workers open them (endpoints, secrets, Vertex AI). */
  static BackendConfig backendConfig(AiprodOptions options, PricingTable pricing) {
    BackendConfig.Builder b =
        BackendConfig.builder()
            .secrets(SecretSource.parse(options.getSecretSource()))
            .vertex(options.getProject(), options.getVertexLocation())
            .requestTimeout(java.time.Duration.ofSeconds(options.getBackendRequestTimeoutSeconds()))
            .downloadStallTimeout(
                java.time.Duration.ofSeconds(Math.max(1, options.getDownloadStallTimeoutSeconds())))
            .downloadTimeout(
                java.time.Duration.ofSeconds(Math.max(1, options.getDownloadTimeoutSeconds())))
            .maxDownloadBytes(Math.max(1, (long) options.getMaxDownloadMegabytes()) << 20)
            .endpoint(BackendConfig.RUNWAY, options.getRunwayEndpoint())
            .endpoint(BackendConfig.REPLICATE, options.getReplicateEndpoint())
            .endpoint(BackendConfig.VERTEX_VEO, options.getVertexEndpoint())
            .outputLocation(options.getOutputLocation())
            .backends(pricing);
    return b.build();
  }

  /** The Dataflow job id of a submitted run, or its description when the runner gives none. */
  static String dataflowJobId(PipelineResult result) {
    return result instanceof org.apache.beam.runners.dataflow.DataflowPipelineJob job
        ? job.getJobId()
        : String.valueOf(result);
  }
}
