package com.aiprod.pipeline;

import com.aiprod.pipeline.admit.Admit;
import com.aiprod.pipeline.admit.AuthorizeCancels;
import com.aiprod.pipeline.assemble.AssembleJobs;
import com.aiprod.pipeline.audit.DetectAuthFailureBursts;
import com.aiprod.pipeline.audit.SignAuditEvents;
import com.aiprod.pipeline.auth.Authenticate;
import com.aiprod.pipeline.decide.Decide;
import com.aiprod.pipeline.ingest.AcknowledgeOutcomes;
import com.aiprod.pipeline.ingest.ReadRequests;
import com.aiprod.pipeline.jobstore.ExistingJobLookup;
import com.aiprod.pipeline.jobstore.ResumeUnfinishedJobs;
import com.aiprod.pipeline.jobstore.WriteJobDocuments;
import com.aiprod.pipeline.jobstore.WriteJobDocumentsInOrder;
import com.aiprod.pipeline.kernel.AuditEvents;
import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.model.AuditStatus;
import com.aiprod.pipeline.model.AuditType;
import com.aiprod.pipeline.model.DeadLetter;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.RequestMessage;
import com.aiprod.pipeline.options.AiprodOptions;
import com.aiprod.pipeline.options.OptionsCheck;
import com.aiprod.pipeline.options.PipelineConfig;
import com.aiprod.pipeline.persist.Deliver;
import com.aiprod.pipeline.persist.PublishDeadLetters;
import com.aiprod.pipeline.persist.SettleSpend;
import com.aiprod.pipeline.plan.Plan;
import com.aiprod.pipeline.price.PriceAndRoute;
import com.aiprod.pipeline.qa.SemanticQa;
import com.aiprod.pipeline.qa.TechnicalQa;
import com.aiprod.pipeline.render.CircuitBreakers;
import com.aiprod.pipeline.render.RenderPolicy;
import com.aiprod.pipeline.render.RenderShots;
import com.aiprod.pipeline.validate.Validate;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TypeDescriptor;

/**
 * AIPROD Pipeline: authenticated AI-video job requests in, rendered and quality-checked
 * deliverables out, with an audit trail (DESIGN §1). {@code main} resolves the options into a
 * {@link PipelineConfig}, builds the graph ({@link #buildGraph}) and runs it; {@link LocalRun}
 * watches local runs. The graph is the same for batch files and Pub/Sub: only the source differs,
 * and a few stages take their streaming form.
 */
public final class AiprodPipeline {
  private AiprodPipeline() {}

  public static void main(String[] args) {
    PipelineOptionsFactory.register(AiprodOptions.class);
    AiprodOptions options =
        PipelineOptionsFactory.fromArgs(args).withValidation().as(AiprodOptions.class);
    Pipeline pipeline = create(options);
    LocalRun.forMainLoop(options, args);
    PipelineResult result = pipeline.run();
    if (OptionsCheck.isDataflow(options)) {
      // A Flex Template launcher returns once the job is submitted: Dataflow runs it.
      System.out.println("submitted to Dataflow: job " + LocalRun.dataflowJobId(result));
      return;
    }
    if (options.isStreaming()) {
      // SIGTERM / Ctrl-C: cancel the run so that DoFns tear down (the warehouse is closed).
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(() -> LocalRun.cancelQuietly(result), "aiprod-cancel-on-shutdown"));
    }
    PipelineResult.State state = LocalRun.awaitWithProgress(result, options.getStopAfterOutcomes());
    System.out.println("pipeline finished: " + state);
    boolean ok =
        state == PipelineResult.State.DONE
            || (options.isStreaming() && state == PipelineResult.State.CANCELLED);
    if (!ok) {
      System.exit(1);
    }
  }

  /** Checks and resolves the options, then builds the whole graph on a new pipeline. */
  public static Pipeline create(AiprodOptions options) {
    PipelineConfig config = PipelineConfig.from(options);
    Pipeline p = Pipeline.create(options);
    PCollection<RequestMessage> requests =
        p.apply(
            "ReadRequests",
            switch (config.input()) {
              case FILES -> ReadRequests.fromFiles(config.inputLocation());
              case SUBSCRIPTION ->
                  ReadRequests.fromPubsub(
                      config.inputLocation(),
                      null,
                      config.acks() == PipelineConfig.Acks.OUTCOME ? config.ackDelayMillis() : -1);
              case TOPIC -> ReadRequests.fromPubsub(null, config.inputLocation(), -1);
            });
    buildGraph(p, config, requests);
    return p;
  }

  /** Every stage after the source (DESIGN §1), in the order a request meets them. */
  static void buildGraph(Pipeline p, PipelineConfig c, PCollection<RequestMessage> requests) {
    AuditEvents audit = c.audit();
    ExistingJobLookup lookup = ExistingJobLookup.in(c.jobStore());
    CircuitBreakers breakers =
        CircuitBreakers.perWorker(c.jobName()); // render writes, routing reads
    StageOutputs sides = new StageOutputs();
    sides.audit(p.apply("AuditConfiguration", Create.of(configEvent(c)).withType(AUDIT_EVENT)));

    PCollectionTuple authenticated =
        sides.collect(requests.apply("Authenticate", new Authenticate(c.auth(), audit)));
    sides.audit(
        authenticated
            .get(Authenticate.AUTH_FAILURES)
            .apply("DetectAuthFailureBursts", new DetectAuthFailureBursts(audit)));
    PCollectionTuple validated =
        sides.collect(
            authenticated
                .get(Authenticate.AUTHENTICATED)
                .apply("Validate", new Validate(c.pricing())));
    PCollectionTuple cancels =
        sides.collect(
            validated
                .get(Validate.CANCELS)
                .apply("AuthorizeCancels", authorizeCancels(c, audit, lookup)));
    PCollectionTuple admitted =
        sides.collectFinished(
            withResumedJobs(p, c, validated.get(StageTags.JOBS))
                .apply(
                    "Admit",
                    c.streaming()
                        ? Admit.forStreaming(audit, lookup)
                        : Admit.forBatch(audit, lookup)));
    sides.collect(
        admitted
            .get(Admit.REDELIVERED)
            .apply(
                "RewriteEndedJobRows",
                new Deliver.EndedJobRows(
                    audit, c.warehouse(), c.jobStore(), c.firestore(), c.firestore())));
    PCollectionTuple routed =
        sides.collectFinished(
            admitted.get(StageTags.JOBS).apply("PriceAndRoute", priceAndRoute(c, audit, breakers)));
    PCollection<Job> rendering =
        sides
            .collectFinished(routed.get(StageTags.JOBS).apply("Plan", new Plan(audit, c.gemini())))
            .get(StageTags.JOBS);
    PCollectionTuple rendered =
        sides.collect(rendering.apply("RenderShots", renderShots(c, audit, breakers)));
    PCollection<Job> assembled =
        sides
            .collectFinished(
                PCollectionTuple.of(StageTags.JOBS, rendering)
                    .and(RenderShots.RESULTS, rendered.get(RenderShots.RESULTS))
                    .and(Validate.CANCELS, cancels.get(StageTags.JOBS))
                    .apply(
                        "AssembleJobs",
                        c.streaming()
                            ? AssembleJobs.forStreaming(
                                StageTags.JOBS,
                                RenderShots.RESULTS,
                                Validate.CANCELS,
                                c.outputLocation(),
                                c.pricing())
                            : AssembleJobs.forBatch(
                                StageTags.JOBS,
                                RenderShots.RESULTS,
                                Validate.CANCELS,
                                c.outputLocation(),
                                c.pricing())))
            .get(StageTags.JOBS);
    PCollection<Job> checked =
        sides
            .collectFinished(assembled.apply("TechnicalQa", new TechnicalQa()))
            .get(StageTags.JOBS);
    PCollection<Job> scored =
        sides
            .collectFinished(checked.apply("SemanticQa", new SemanticQa(audit, c.gemini())))
            .get(StageTags.JOBS);
    sides.collectFinished(scored.apply("Decide", new Decide()));

    PCollection<Job> progress = progress(c, audit, admitted.get(StageTags.JOBS), rendering, sides);
    PCollection<Job> finished = sides.allFinished(p);
    sides.collect(
        finished.apply(
            "DeliverJobs", new Deliver.Jobs(audit, c.warehouse(), documents(c), progress)));
    // The daily-cap reservations of ended jobs, settled to their charges (DESIGN §5).
    sides.audit(finished.apply("SettleSpend", new SettleSpend(audit, c.firestore())));
    sides.deadLetters(
        rendered
            .get(RenderShots.RESULTS)
            .apply("DeliverShotRenders", new Deliver.ShotRenders(c.warehouse())));
    sides.collect(
        sides
            .allAudit(p)
            .apply("SignAuditEvents", new SignAuditEvents(c.secrets(), audit))
            .apply("DeliverAuditEvents", new Deliver.AuditRows(c.warehouse())));
    sides.outcomes(
        publishDeadLetters(c, sides.allDeadLetters(p))
            .apply("DeliverDeadLetters", new Deliver.DeadLetterRows(c.warehouse())));
    sides
        .allOutcomes(p)
        .apply(
            "AcknowledgeOutcomes",
            c.acks() == PipelineConfig.Acks.OUTCOME
                ? AcknowledgeOutcomes.inSubscription(c.inputLocation(), c.ackDelayMillis())
                : AcknowledgeOutcomes.countOnly());
  }

  // Typed as AuditEvent, not inferred from the element (AutoValue_AuditEvent): Flink's Flatten
  // unions only inputs with equal coders, and a SchemaCoder's type is part of its identity.
  private static final TypeDescriptor<AuditEvent> AUDIT_EVENT = TypeDescriptor.of(AuditEvent.class);

  /** Streaming: jobs charged as they arrive; batch: per tenant and day in input order. */
  private static PriceAndRoute priceAndRoute(
      PipelineConfig c, AuditEvents audit, CircuitBreakers breakers) {
    return c.streaming()
        ? PriceAndRoute.forStreaming(
            audit, c.pricing(), c.renderBackends(), c.firestore(), breakers)
        : PriceAndRoute.forBatch(audit, c.pricing(), c.renderBackends(), c.firestore(), breakers);
  }

  /** Streaming: shots wait on timers; batch: on a self-resuming splittable DoFn. */
  private static RenderShots renderShots(
      PipelineConfig c, AuditEvents audit, CircuitBreakers breakers) {
    return c.streaming()
        ? RenderShots.forStreaming(
            audit,
            c.outputLocation(),
            c.firestore(),
            c.backends(),
            c.pricing(),
            RenderPolicy.standard(),
            breakers)
        : RenderShots.forBatch(
            audit,
            c.outputLocation(),
            c.firestore(),
            c.backends(),
            c.pricing(),
            RenderPolicy.standard(),
            breakers);
  }

  /** Streaming cancels wait for their job's document; batch ones are decided at once. */
  private static AuthorizeCancels authorizeCancels(
      PipelineConfig c, AuditEvents audit, ExistingJobLookup lookup) {
    return c.streaming()
        ? new AuthorizeCancels(audit, lookup, c.jobStore(), c.firestore())
        : new AuthorizeCancels(audit, lookup);
  }

  /** Streaming: plus the jobs a previous run admitted but did not finish. */
  private static PCollection<Job> withResumedJobs(
      Pipeline p, PipelineConfig c, PCollection<Job> jobs) {
    if (!c.streaming()) {
      return jobs;
    }
    return PCollectionList.of(jobs)
        .and(p.apply("ResumeUnfinishedJobs", new ResumeUnfinishedJobs(c.jobStore())))
        .apply("WithResumedJobs", Flatten.pCollections());
  }

  /**
   * Streaming: the documents of jobs under way (RECEIVED after Admit, RENDERING after Plan), which
   * the job-document writer writes with the terminal ones; batch writes terminal documents only.
   */
  private static PCollection<Job> progress(
      PipelineConfig c,
      AuditEvents audit,
      PCollection<Job> admitted,
      PCollection<Job> rendering,
      StageOutputs sides) {
    if (!c.streaming()) {
      return null;
    }
    PCollection<Job> progress =
        PCollectionList.of(admitted)
            .and(rendering)
            .apply("FlattenProgress", Flatten.pCollections());
    sides.audit(progress.apply("DeliverProgress", new Deliver.Progress(audit)));
    return progress;
  }

  /** Streaming: one update at a time per document; batch: FirestoreIO's batched writes. */
  private static org.apache.beam.sdk.transforms.PTransform<PCollection<Job>, PCollectionTuple>
      documents(PipelineConfig c) {
    return c.streaming()
        ? new WriteJobDocumentsInOrder(c.jobStore(), c.firestore())
        : WriteJobDocuments.to(c.jobStore()).withTags();
  }

  /** The dead-letter topic first: the dead_letters row written after it is the outcome. */
  private static PCollection<DeadLetter> publishDeadLetters(
      PipelineConfig c, PCollection<DeadLetter> deadLetters) {
    return c.deadLetterTopic() == null
        ? deadLetters
        : deadLetters.apply("PublishDeadLetters", PublishDeadLetters.to(c.deadLetterTopic()));
  }

  /** CONFIG_CHANGE at start: the settings this run uses, nothing secret in them. */
  static AuditEvent configEvent(PipelineConfig c) {
    ObjectNode d = AuditEvents.details();
    c.described().forEach(d::put);
    return c.audit()
        .event(AuditType.CONFIG_CHANGE, AuditStatus.SUCCESS, "start_pipeline")
        .resource(c.jobName())
        .details(d)
        .at(System.currentTimeMillis())
        .discriminator(c.jobName())
        .build();
  }
}
