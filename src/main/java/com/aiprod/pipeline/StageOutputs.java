package com.aiprod.pipeline;

import com.aiprod.pipeline.kernel.OutcomePart;
import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.model.DeadLetter;
import com.aiprod.pipeline.model.Job;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;

/**
 * The side outputs every stage shares ({@link StageTags}), gathered while the graph is built and
 * flattened once each: audit events, dead letters, jobs that ended early, and committed outcome
 * parts. Stages return their outputs; only the graph builder knows where they go.
 */
final class StageOutputs {
  private final List<PCollection<AuditEvent>> audit = new ArrayList<>();
  private final List<PCollection<DeadLetter>> deadLetters = new ArrayList<>();
  private final List<PCollection<Job>> finished = new ArrayList<>();
  private final List<PCollection<OutcomePart>> outcomes = new ArrayList<>();

  /** Takes the stage's audit events, dead letters and outcome parts; returns the stage. */
  PCollectionTuple collect(PCollectionTuple stage) {
    if (stage.has(StageTags.AUDIT)) {
      audit.add(stage.get(StageTags.AUDIT));
    }
    if (stage.has(StageTags.DEAD_LETTERS)) {
      deadLetters.add(stage.get(StageTags.DEAD_LETTERS));
    }
    if (stage.has(StageTags.OUTCOMES)) {
      outcomes.add(stage.get(StageTags.OUTCOMES));
    }
    return stage;
  }

  /** Like {@link #collect}, and the stage's jobs that ended early ({@link StageTags#FINISHED}). */
  PCollectionTuple collectFinished(PCollectionTuple stage) {
    if (stage.has(StageTags.FINISHED)) {
      finished.add(stage.get(StageTags.FINISHED));
    }
    return collect(stage);
  }

  /** Takes the stage's side outputs; returns its jobs moving on ({@link StageTags#JOBS}). */
  PCollection<Job> jobs(PCollectionTuple stage) {
    return collect(stage).get(StageTags.JOBS);
  }

  /** Like {@link #jobs}, and the stage's jobs that ended early are terminal jobs to deliver. */
  PCollection<Job> jobsOrFinished(PCollectionTuple stage) {
    return collectFinished(stage).get(StageTags.JOBS);
  }

  void audit(PCollection<AuditEvent> events) {
    audit.add(events);
  }

  void deadLetters(PCollection<DeadLetter> letters) {
    deadLetters.add(letters);
  }

  void outcomes(PCollection<OutcomePart> parts) {
    outcomes.add(parts);
  }

  PCollection<Job> allFinished(Pipeline p) {
    return PCollectionList.of(finished).apply("FlattenTerminalJobs", Flatten.pCollections());
  }

  PCollection<AuditEvent> allAudit(Pipeline p) {
    return PCollectionList.of(audit).apply("FlattenAuditEvents", Flatten.pCollections());
  }

  PCollection<DeadLetter> allDeadLetters(Pipeline p) {
    return PCollectionList.of(deadLetters).apply("FlattenDeadLetters", Flatten.pCollections());
  }

  PCollection<OutcomePart> allOutcomes(Pipeline p) {
    return PCollectionList.of(outcomes).apply("FlattenOutcomes", Flatten.pCollections());
  }
}
