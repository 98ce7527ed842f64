package com.aiprod.pipeline;

import com.aiprod.pipeline.admit.Admit;
import com.aiprod.pipeline.auth.Authenticate;
import com.aiprod.pipeline.catalog.PricingTable;
import com.aiprod.pipeline.decide.Decide;
import com.aiprod.pipeline.ingest.ReadRequests;
import com.aiprod.pipeline.jobstore.ResumeUnfinishedJobs;
import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.model.DeadLetter;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.RequestMessage;
import com.aiprod.pipeline.options.AiprodOptions;
import com.aiprod.pipeline.options.OptionsCheck;
import com.aiprod.pipeline.options.PipelineConfig;
import com.aiprod.pipeline.persist.PublishDeadLetters;
import com.aiprod.pipeline.qa.TechnicalQa;
import com.aiprod.pipeline.render.RenderShots;
import com.aiprod.pipeline.validate.Validate;
import javax.annotation.Nullable;
import org.apache.beam.runners.dataflow.DataflowPipelineJob;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.runners.TransformHierarchy;
import org.apache.beam.sdk.transforms.Filter;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;

/**
 * AIPROD Pipeline: authenticated AI-video job requests in, rendered and quality-checked
 * deliverables out, with an audit trail (DESIGN §1). {@code main} resolves the options into a
 * {@link PipelineConfig}, builds the graph ({@link #buildGraph}) and runs it; {@link LocalRun}
 * watches local runs. The graph is the same for batch files and Pub/Sub: only the source differs,
 * and a few stages take their streaming form.
 */
public final class AiprodPipeline {
  private AiprodPipeline() {}

  /**
   * Runs the pipeline. On Dataflow it only submits the job: that path loads nothing of the local
   * runners (Flink, Direct) or DuckDB, which the Dataflow jar does not carry ({@code
   * DataflowArtifactIT}). Bad options exit 2 with every problem listed; {@code --dryRun} exits 0
   * once the graph is built.
   */
  public static void main(String[] args) {
    PipelineArgs.Built built = PipelineArgs.build(args, System.out, System.err);
    if (built.pipeline() == null) {
      System.exit(built.exitCode()); // after --help (0) or bad options (2, said why)
      return;
    }
    AiprodOptions options = built.options();
    Pipeline pipeline = built.pipeline();
    if (options.getDryRun()) {
      System.out.printf(
          "dry run: options valid, graph of %d transforms built for %s; nothing run or submitted%n",
          countTransforms(pipeline), options.getRunner().getSimpleName());
      return;
    }
    if (OptionsCheck.isDataflow(options)) {
      // A Flex Template launcher returns once the job is submitted: Dataflow runs it.
      System.out.println("submitted to Dataflow: job " + dataflowJobId(pipeline.run()));
      return;
    }
    LocalRun.forMainLoop(options, args);
    long expected = LocalRun.expectedOutcomes(options);
    PipelineResult result = pipeline.run();
    if (options.isStreaming()) {
      // SIGTERM / Ctrl-C: cancel the run so that DoFns tear down (the warehouse is closed).
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(() -> LocalRun.cancelQuietly(result), "aiprod-cancel-on-shutdown"));
    }
    PipelineResult.State state = LocalRun.awaitWithProgress(result, options, expected);
    System.out.println("pipeline finished: " + state);
    boolean ok =
        state == PipelineResult.State.DONE
            || (options.isStreaming() && state == PipelineResult.State.CANCELLED);
    if (!ok) {
      System.exit(1);
    }
  }

  /** The Dataflow job id of a submitted run, or its description when the runner gives none. */
  static String dataflowJobId(PipelineResult result) {
    return result instanceof DataflowPipelineJob job ? job.getJobId() : String.valueOf(result);
  }

  /** The transforms of the built graph (composites and primitives). */
  static int countTransforms(Pipeline pipeline) {
    int[] n = {0};
    pipeline.traverseTopologically(
        new Pipeline.PipelineVisitor.Defaults() {
          @Override
          public CompositeBehavior enterCompositeTransform(TransformHierarchy.Node node) {
            if (!node.isRootNode()) {
              n[0]++;
            }
            return CompositeBehavior.ENTER_TRANSFORM;
          }

          @Override
          public void visitPrimitiveTransform(TransformHierarchy.Node node) {
            n[0]++;
          }
        });
    return n[0];
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
    Stages s = new Stages(c);
    StageOutputs out = new StageOutputs();
    out.audit(p.apply("AuditConfiguration", s.configuration()));
    PCollectionTuple authenticated = out.collect(requests.apply("Authenticate", s.authenticate()));
    out.audit(
        authenticated
            .get(Authenticate.AUTH_FAILURES)
            .apply("DetectAuthFailureBursts", s.detectAuthFailureBursts()));
    PCollectionTuple validated =
        out.collect(authenticated.get(Authenticate.AUTHENTICATED).apply("Validate", s.validate()));
    PCollection<Job> cancels =
        out.jobs(validated.get(Validate.CANCELS).apply("AuthorizeCancels", s.authorizeCancels()));
    PCollectionTuple admitted =
        out.collectFinished(
            withResumedJobs(p, c, validated.get(StageTags.JOBS)).apply("Admit", s.admit()));
    out.collect(
        admitted.get(Admit.REDELIVERED).apply("RewriteEndedJobRows", s.rewriteEndedJobRows()));
    PCollection<Job> routed =
        out.jobsOrFinished(admitted.get(StageTags.JOBS).apply("PriceAndRoute", s.priceAndRoute()));
    PCollection<Job> rendering = out.jobsOrFinished(routed.apply("Plan", s.plan()));
    PCollectionTuple rendered = out.collect(rendering.apply("RenderShots", s.renderShots()));
    PCollection<Job> assembled =
        out.jobsOrFinished(
            PCollectionTuple.of(StageTags.JOBS, rendering)
                .and(RenderShots.RESULTS, rendered.get(RenderShots.RESULTS))
                .and(Validate.CANCELS, cancels)
                .apply("AssembleJobs", s.assembleJobs()));
    PCollection<Job> checked =
        out.jobsOrFinished(assembled.apply("TechnicalQa", new TechnicalQa()));
    PCollection<Job> scored = out.jobsOrFinished(checked.apply("SemanticQa", s.semanticQa()));
    out.collectFinished(scored.apply("Decide", new Decide()));

    PCollection<Job> progress = progress(c, s, admitted.get(StageTags.JOBS), rendering, out);
    PCollection<Job> finished = out.allFinished(p);
    out.collect(finished.apply("DeliverJobs", s.deliverJobs(progress)));
    out.audit(finished.apply("SettleSpend", s.settleSpend()));
    out.deadLetters(
        rendered.get(RenderShots.RESULTS).apply("DeliverShotRenders", s.deliverShotRenders()));
    out.collect(
        out.allAudit(p)
            .apply("SignAuditEvents", s.signAuditEvents())
            .apply("DeliverAuditEvents", s.deliverAuditEvents()));
    out.outcomes(
        publishDeadLetters(c, out.allDeadLetters(p))
            .apply("DeliverDeadLetters", s.deliverDeadLetters()));
    out.allOutcomes(p).apply("AcknowledgeOutcomes", s.acknowledgeOutcomes());
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
  private static @Nullable PCollection<Job> progress(
      PipelineConfig c,
      Stages s,
      PCollection<Job> admitted,
      PCollection<Job> rendering,
      StageOutputs sides) {
    if (!c.streaming()) {
      return null;
    }
    // An estimate ends a step after Admit (Plan): its RECEIVED document would be overwritten at
    // once, at the cost of a document write and its audit row; its terminal document carries the
    // whole history, as in batch.
    PCollection<Job> toRender =
        admitted.apply(
            "SkipEstimateProgress",
            Filter.by((Job j) -> !PricingTable.MODE_ESTIMATE.equals(j.getRequest().getMode())));
    PCollection<Job> progress =
        PCollectionList.of(toRender)
            .and(rendering)
            .apply("FlattenProgress", Flatten.pCollections());
    sides.audit(progress.apply("DeliverProgress", s.deliverProgress()));
    return progress;
  }

  /** The dead-letter topic first: the dead_letters row written after it is the outcome. */
  private static PCollection<DeadLetter> publishDeadLetters(
      PipelineConfig c, PCollection<DeadLetter> deadLetters) {
    return c.deadLetterTopic() == null
        ? deadLetters
        : deadLetters.apply("PublishDeadLetters", PublishDeadLetters.to(c.deadLetterTopic()));
  }
}
