package com.aiprod.pipeline;

import com.aiprod.pipeline.admit.Admit;
import com.aiprod.pipeline.admit.AuthorizeCancels;
import com.aiprod.pipeline.assemble.AssembleJobs;
import com.aiprod.pipeline.audit.DetectAuthFailureBursts;
import com.aiprod.pipeline.audit.SignAuditEvents;
import com.aiprod.pipeline.auth.Authenticate;
import com.aiprod.pipeline.ingest.AcknowledgeOutcomes;
import com.aiprod.pipeline.jobstore.BundleJobLookup;
import com.aiprod.pipeline.jobstore.ExistingJobLookup;
import com.aiprod.pipeline.jobstore.JobLookups;
import com.aiprod.pipeline.jobstore.WriteJobDocuments;
import com.aiprod.pipeline.jobstore.WriteJobDocumentsInOrder;
import com.aiprod.pipeline.kernel.AuditEvents;
import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.model.AuditStatus;
import com.aiprod.pipeline.model.AuditType;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.options.PipelineConfig;
import com.aiprod.pipeline.persist.Deliver;
import com.aiprod.pipeline.persist.SettleSpend;
import com.aiprod.pipeline.plan.Plan;
import com.aiprod.pipeline.price.PriceAndRoute;
import com.aiprod.pipeline.qa.SemanticQa;
import com.aiprod.pipeline.render.CircuitBreakers;
import com.aiprod.pipeline.render.RenderPolicy;
import com.aiprod.pipeline.render.RenderShots;
import com.aiprod.pipeline.validate.Validate;
import com.fasterxml.jackson.databind.node.ObjectNode;
import javax.annotation.Nullable;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TypeDescriptor;

/**
 * The stages of one run, made from its {@link PipelineConfig}: each method returns the composite
 * the graph applies under the stage's name, in its batch or streaming form. {@code
 * AiprodPipeline.buildGraph} only wires them.
 */
final class Stages {
  // Typed as AuditEvent, not inferred from the element (AutoValue_AuditEvent): Flink's Flatten
  // unions only inputs with equal coders, and a SchemaCoder's type is part of its identity.
  private static final TypeDescriptor<AuditEvent> AUDIT_EVENT = TypeDescriptor.of(AuditEvent.class);

  private final PipelineConfig c;
  private final AuditEvents audit;
  private final JobLookups lookup;
  private final CircuitBreakers breakers; // rendering records failures, routing reads them

  Stages(PipelineConfig c) {
    this.c = c;
    this.audit = c.audit();
    // Per bundle in the step (no shuffle) where bundles hold many keys; else batched across
    // bundles with a keyed join and a timer (PipelineConfig#lookupsPerBundle).
    this.lookup =
        c.lookupsPerBundle()
            ? BundleJobLookup.in(c.jobStore(), c.firestore())
            : ExistingJobLookup.in(c.jobStore());
    this.breakers = CircuitBreakers.perWorker(c.jobName());
  }

  /** CONFIG_CHANGE at start: the settings this run uses, nothing secret in them. */
  Create.Values<AuditEvent> configuration() {
    ObjectNode d = AuditEvents.details();
    c.described().forEach(d::put);
    AuditEvent e =
        audit
            .event(AuditType.CONFIG_CHANGE, AuditStatus.SUCCESS, "start_pipeline")
            .resource(c.jobName())
            .details(d)
            .at(System.currentTimeMillis())
            .discriminator(c.jobName())
            .build();
    return Create.of(e).withType(AUDIT_EVENT);
  }

  Authenticate authenticate() {
    return new Authenticate(c.auth(), audit);
  }

  DetectAuthFailureBursts detectAuthFailureBursts() {
    return new DetectAuthFailureBursts(audit);
  }

  Validate validate() {
    return new Validate(c.pricing());
  }

  /** Streaming cancels wait for their job's document; batch ones are decided at once. */
  AuthorizeCancels authorizeCancels() {
    return c.streaming()
        ? new AuthorizeCancels(audit, lookup, c.jobStore(), c.firestore())
        : new AuthorizeCancels(audit, lookup);
  }

  Admit admit() {
    return c.streaming() ? Admit.forStreaming(audit, lookup) : Admit.forBatch(audit, lookup);
  }

  Deliver.EndedJobRows rewriteEndedJobRows() {
    return new Deliver.EndedJobRows(
        audit, c.warehouse(), c.jobStore(), c.firestore(), c.firestore());
  }

  /** Streaming: jobs charged as they arrive; batch: per tenant and day in input order. */
  PriceAndRoute priceAndRoute() {
    return c.streaming()
        ? PriceAndRoute.forStreaming(
            audit, c.pricing(), c.renderBackends(), c.firestore(), breakers)
        : PriceAndRoute.forBatch(audit, c.pricing(), c.renderBackends(), c.firestore(), breakers);
  }

  Plan plan() {
    return new Plan(audit, c.gemini());
  }

  /** Streaming: shots wait on timers; batch: on a self-resuming splittable DoFn. */
  RenderShots renderShots() {
    RenderPolicy policy = RenderPolicy.standard();
    return c.streaming()
        ? RenderShots.forStreaming(
            audit, c.outputLocation(), c.firestore(), c.backends(), c.pricing(), policy, breakers)
        : RenderShots.forBatch(
            audit, c.outputLocation(), c.firestore(), c.backends(), c.pricing(), policy, breakers);
  }

  /** Input tags: the rendering jobs, their shot results, the authorized cancels. */
  AssembleJobs assembleJobs() {
    return c.streaming()
        ? AssembleJobs.forStreaming(
            StageTags.JOBS,
            RenderShots.RESULTS,
            Validate.CANCELS,
            c.outputLocation(),
            c.pricing(),
            audit)
        : AssembleJobs.forBatch(
            StageTags.JOBS, RenderShots.RESULTS, Validate.CANCELS, c.outputLocation(), c.pricing());
  }

  SemanticQa semanticQa() {
    return new SemanticQa(audit, c.gemini());
  }

  /** Streaming: progress documents are written by the same writer as the terminal ones. */
  Deliver.Jobs deliverJobs(@Nullable PCollection<Job> progress) {
    return new Deliver.Jobs(audit, c.warehouse(), jobDocuments(), progress);
  }

  /** Streaming: one update at a time per document; batch: FirestoreIO's batched writes. */
  private PTransform<PCollection<Job>, PCollectionTuple> jobDocuments() {
    return c.streaming()
        ? new WriteJobDocumentsInOrder(c.jobStore(), c.firestore())
        : WriteJobDocuments.to(c.jobStore()).readingPerBundle(c.firestore()).withTags();
  }

  Deliver.Progress deliverProgress() {
    return new Deliver.Progress(audit);
  }

  /** The daily-cap reservations of ended jobs, settled to their charges (DESIGN §5). */
  SettleSpend settleSpend() {
    return new SettleSpend(audit, c.firestore());
  }

  Deliver.ShotRenders deliverShotRenders() {
    return new Deliver.ShotRenders(c.warehouse());
  }

  SignAuditEvents signAuditEvents() {
    return new SignAuditEvents(c.secrets(), audit);
  }

  Deliver.AuditRows deliverAuditEvents() {
    return new Deliver.AuditRows(c.warehouse());
  }

  Deliver.DeadLetterRows deliverDeadLetters() {
    return new Deliver.DeadLetterRows(c.warehouse());
  }

  AcknowledgeOutcomes acknowledgeOutcomes() {
    return c.acks() == PipelineConfig.Acks.OUTCOME
        ? AcknowledgeOutcomes.inSubscription(c.inputLocation(), c.ackDelayMillis())
        : AcknowledgeOutcomes.countOnly();
  }
}
