package com.aiprod.pipeline.admit;

import static com.aiprod.pipeline.testing.StageFixtures.AUDIT;
import static com.aiprod.pipeline.testing.StageFixtures.list;
import static com.aiprod.pipeline.testing.StageFixtures.received;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;

import com.aiprod.pipeline.kernel.OutcomePart;
import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.model.DeadLetter;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.testing.InMemoryJobLookups;
import com.aiprod.pipeline.testing.InMemoryJobLookups.Stored;
import com.aiprod.pipeline.testing.StageFixtures;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.junit.jupiter.api.Test;

/**
 * Admit and AuthorizeCancels against a job store held in memory ({@link InMemoryJobLookups}): the
 * same decisions the emulator tests check, without Firestore.
 */
class AdmitWithoutStoreTest {
  private static final String PREVIEW =
      "{\"content\": \"A lighthouse at dawn. Waves crash on the rocks.\", \"mode\": \"preview\","
          + " \"duration_sec\": 10}";

  private static TestPipeline pipeline() {
    return TestPipeline.create().enableAbandonedNodeEnforcement(false);
  }

  @Test
  void aKnownJobIdOfAnotherMessageIsADuplicateAndARedeliveryOfAnEndedJobIsSetAside() {
    TestPipeline p = pipeline();
    InMemoryJobLookups store =
        new InMemoryJobLookups()
            .with("acme", "job-dup-0001", new Stored("m-earlier", "RENDERING", "uid-acme"))
            .with("acme", "job-end-0001", new Stored("m-ended", "DELIVERED", "uid-acme"));
    PCollectionTuple out =
        p.apply(
                Create.of(
                    List.of(
                        received("m-new", "acme", "job-new-0001", 1, PREVIEW),
                        received("m-later", "acme", "job-dup-0001", 2, PREVIEW),
                        received("m-ended", "acme", "job-end-0001", 3, PREVIEW))))
            .apply(Admit.forBatch(AUDIT, store));

    assertOnlyMessage(out.get(StageTags.JOBS), "m-new");
    assertOneDeadLetter(out.get(StageTags.DEAD_LETTERS), "m-later", "DUPLICATE_JOB");
    assertOnlyMessage(out.get(Admit.REDELIVERED), "m-ended");
    p.run().waitUntilFinish();
  }

  @Test
  void cancelsAreDecidedFromTheStoredDocument() {
    TestPipeline p = pipeline();
    InMemoryJobLookups store =
        new InMemoryJobLookups()
            .with("acme", "job-run-0001", new Stored("m-run", "RENDERING", "uid-owner"))
            .with("acme", "job-end-0001", new Stored("m-end", "DELIVERED", "uid-owner"));
    PCollectionTuple out =
        p.apply(
                Create.of(
                    List.of(
                        cancel("c-owner", "job-run-0001", "uid-owner", "user"),
                        cancel("c-other", "job-run-0001", "uid-other", "user"),
                        cancel("c-ended", "job-end-0001", "uid-owner", "user"))))
            .apply(new AuthorizeCancels(AUDIT, store));

    assertOnlyMessage(out.get(StageTags.JOBS), "c-owner");
    assertOneDeadLetter(out.get(StageTags.DEAD_LETTERS), "c-other", "PERMISSION_DENIED");
    // The cancel of an ended job has its outcome at once: the job's terminal document.
    PAssert.that(out.get(StageTags.OUTCOMES)).containsInAnyOrder(OutcomePart.whole("c-ended"));
    p.run().waitUntilFinish();
  }

  /** {@code jobs} holds the job of message {@code messageId} and nothing else. */
  private static void assertOnlyMessage(PCollection<Job> jobs, String messageId) {
    PAssert.that(jobs)
        .satisfies(
            all -> {
              assertThat(messageIds(all), contains(messageId));
              return null;
            });
  }

  /** {@code dead} holds one dead letter: message {@code messageId} for {@code reasonCode}. */
  private static void assertOneDeadLetter(
      PCollection<DeadLetter> dead, String messageId, String reasonCode) {
    PAssert.that(dead)
        .satisfies(
            letters -> {
              List<DeadLetter> all = list(letters);
              assertThat(all, hasSize(1));
              assertThat(all.get(0).getMessageId(), equalTo(messageId));
              assertThat(all.get(0).getReasonCode(), equalTo(reasonCode));
              return null;
            });
  }

  private static Job cancel(String messageId, String jobId, String uid, String role) {
    return StageFixtures.cancel(messageId, "acme", jobId, uid, role);
  }

  private static List<String> messageIds(Iterable<Job> jobs) {
    return list(jobs).stream().map(Job::getMessageId).sorted().collect(Collectors.toList());
  }
}
