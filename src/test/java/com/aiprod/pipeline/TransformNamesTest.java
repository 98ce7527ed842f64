package com.aiprod.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.is;

import com.aiprod.pipeline.options.AiprodOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.runners.TransformHierarchy;
import org.junit.jupiter.api.Test;

/**
 * Stable transform names: a streaming job is updated in place ({@code gcloud dataflow flex-template
 * run --update}) only if the new graph keeps the running job's transform names (Dataflow maps state
 * and in-flight data by name). This builds the production graph of {@link AiprodPipeline#create}
 * (streaming from a subscription, and batch from files; nothing runs) and compares the full names
 * of all transforms (composites and primitives) with the checked-in lists {@code
 * src/test/resources/transform-names/streaming.txt} and {@code batch.txt}.
 *
 * <p>It fails when a listed name disappears (a renamed or removed transform: an update would lose
 * its state — rename it back, or pass {@code --transform-name-mappings} and replace the job as
 * docs/RUNBOOK.md says) and when a new name is not listed (so the list stays complete). After a
 * deliberate change, regenerate the lists and review the diff:
 *
 * <pre>
 * mvn -o -q -B test -Dtest=TransformNamesTest -Dsurefire.failIfNoSpecifiedTests=false -Daiprod.regenerateTransformNames=true
 * git diff src/test/resources/transform-names/
 * </pre>
 */
class TransformNamesTest {
  static final Path DIR = Path.of("src/test/resources/transform-names");
  static final boolean REGENERATE = Boolean.getBoolean("aiprod.regenerateTransformNames");

  /** Production-shaped options; only the input differs between the two graphs. */
  static AiprodOptions options(String input) {
    PipelineOptionsFactory.register(AiprodOptions.class);
    return PipelineOptionsFactory.fromArgs(
            input,
            "--project=my-project",
            "--authMode=firebase",
            "--firebaseProject=my-project",
            "--warehouse=bigquery:my-project.aiprod",
            "--secretSource=secretmanager:projects/my-project",
            "--renderBackends=veo3,veo3_fast,runway_gen4_turbo,replicate_wan,preview",
            "--outputLocation=gs://my-project-aiprod/outputs",
            "--deadLetterTopic=projects/my-project/topics/aiprod-dead-letters",
            "--tempLocation=gs://my-project-aiprod/temp",
            "--environment=prod",
            // The Dataflow graph (PubsubIO's read), although these tests build it on the
            // DirectRunner.
            "--pubsubAcks=checkpoint")
        .as(AiprodOptions.class);
  }

  /**
   * The full names of every transform of the graph, sorted: the composites (our stages and what
   * they contain) and the primitives (e.g. the top-level {@code Flatten}s), since an update maps
   * every named step.
   */
  static Set<String> transformNames(Pipeline p) {
    Set<String> names = new TreeSet<>();
    p.traverseTopologically(
        new Pipeline.PipelineVisitor.Defaults() {
          @Override
          public CompositeBehavior enterCompositeTransform(TransformHierarchy.Node node) {
            if (!node.isRootNode()) {
              names.add(node.getFullName());
            }
            return CompositeBehavior.ENTER_TRANSFORM;
          }

          @Override
          public void visitPrimitiveTransform(TransformHierarchy.Node node) {
            names.add(node.getFullName());
          }
        });
    return names;
  }

  @Test
  void streamingTransformNamesAreStable() throws IOException {
    Pipeline p =
        AiprodPipeline.create(
            options("--inputSubscription=projects/my-project/subscriptions/aiprod-jobs-pipeline"));
    Set<String> names = transformNames(p);
    // The stages DESIGN §1 names, and the stateful steps an update must find again.
    assertThat(
        names,
        hasItems(
            "ReadRequests",
            "Authenticate",
            "Validate",
            "Admit",
            "PriceAndRoute",
            "Plan",
            "RenderShots",
            "AssembleJobs",
            "TechnicalQa",
            "SemanticQa",
            "Decide",
            "DeliverJobs",
            "DeliverProgress",
            "SignAuditEvents",
            "DeliverAuditEvents",
            "DeliverDeadLetters",
            "PublishDeadLetters",
            "DetectAuthFailureBursts",
            "AuthorizeCancels",
            "ResumeUnfinishedJobs",
            "FlattenTerminalJobs",
            "FlattenAuditEvents",
            "FlattenDeadLetters",
            "FlattenProgress",
            "WithResumedJobs"));
    compare(names, DIR.resolve("streaming.txt"));
  }

  @Test
  void batchTransformNamesAreStable() throws IOException {
    Pipeline p =
        AiprodPipeline.create(options("--inputFiles=gs://my-project-aiprod/requests/*.jsonl"));
    Set<String> names = transformNames(p);
    assertThat(
        names,
        hasItems(
            "ReadRequests",
            "Authenticate",
            "Validate",
            "Admit",
            "PriceAndRoute",
            "Plan",
            "RenderShots",
            "AssembleJobs",
            "TechnicalQa",
            "SemanticQa",
            "Decide",
            "DeliverJobs",
            "SignAuditEvents",
            "DeliverAuditEvents",
            "DeliverDeadLetters"));
    compare(names, DIR.resolve("batch.txt"));
  }

  private static void compare(Set<String> actual, Path list) throws IOException {
    if (REGENERATE) {
      Files.createDirectories(list.getParent());
      Files.write(list, actual, StandardCharsets.UTF_8);
      System.out.println("regenerated " + list + " (" + actual.size() + " names): review git diff");
      return;
    }
    Set<String> expected = new TreeSet<>();
    for (String line : Files.readAllLines(list, StandardCharsets.UTF_8)) {
      if (!line.isBlank()) {
        expected.add(line);
      }
    }
    List<String> missing = new ArrayList<>(expected);
    missing.removeAll(actual);
    assertThat(
        "transforms of "
            + list
            + " that the graph no longer has (renamed or removed): a streaming"
            + " update in place would not find them; keep the names, or see docs/RUNBOOK.md"
            + " \"Update a running streaming job\"",
        missing,
        empty());
    List<String> added = new ArrayList<>(actual);
    added.removeAll(expected);
    assertThat(
        "new transforms not in "
            + list
            + ": regenerate the list with -Daiprod.regenerateTransformNames=true"
            + " (see this test's Javadoc) and review the diff",
        added,
        empty());
    assertThat(expected.isEmpty(), is(false));
  }
}
