package com.aiprod.pipeline.persist;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import com.aiprod.pipeline.jobstore.JobDocuments;
import com.aiprod.pipeline.jobstore.JobStore;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobState;
import com.google.firestore.v1.Document;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class JobDocumentsTest {
  private static final JobStore STORE = JobStore.of("demo-aiprod", "(default)");
  private static final String NAME = STORE.documentName("acme", "job-00000001");

  private static Document doc(Job job) {
    return JobDocuments.toDocument(job, NAME);
  }

  @Test
  void mapsDesignFields() {
    Document d =
        doc(
            TestData.delivered("acme", "job-00000001").toBuilder()
                .setCostUsd(0.5)
                .setProviderCostUsd(0.75)
                .build());
    assertThat(
        d.getName(),
        equalTo(
            "projects/demo-aiprod/databases/(default)/documents/tenants/acme/jobs/job-00000001"));
    Map<String, Object> plain = JobDocuments.toPlainMap(d);
    assertThat(plain.get("path"), equalTo("tenants/acme/jobs/job-00000001"));
    assertThat(plain.get("state"), equalTo("DELIVERED"));
    assertThat(plain.get("uid"), equalTo("user-acme"));
    assertThat(plain.get("lang"), equalTo("fr"));
    assertThat(plain.get("duration_sec"), equalTo(10L));
    assertThat(plain.get("budget_usd"), equalTo(0.5));
    assertThat(plain.get("shots_total"), equalTo(2L));
    assertThat(plain.get("cost_usd"), equalTo(0.5));
    assertThat(plain.get("provider_cost_usd"), equalTo(0.75));
    assertThat(plain.get("message_id"), equalTo("msg-job-00000001"));
    assertThat(
        plain.get("qa"),
        equalTo(
            Map.of(
                "technical",
                1.0,
                "semantic",
                0.85,
                "semantic_scorer",
                "local-coverage-heuristic")));
    assertThat(
        ((Map<?, ?>) plain.get("output")).get("video_uri"),
        equalTo("/tmp/out/acme/job-00000001/final.mp4"));
    assertThat(plain.get("created_at"), equalTo("2025-11-24T16:00:00Z"));
    assertThat(plain.get("updated_at"), equalTo("2025-11-24T16:00:06Z"));
    List<?> history = (List<?>) plain.get("history");
    assertThat(history.size(), equalTo(5));
    assertThat(
        history.get(0),
        equalTo(Map.of("state", "RECEIVED", "at", "2025-11-24T16:00:00Z", "detail", "accepted")));
    assertThat(plain.containsKey("reason"), is(true));
    assertThat(plain.get("reason"), equalTo(null));
  }

  @Test
  void aCancelledJobNamesItsCancelAndOtherJobsDoNot() {
    Job delivered = TestData.delivered("acme", "job-00000001");
    assertThat(
        doc(delivered).getFieldsMap().containsKey(JobDocuments.CANCEL_MESSAGE_ID), is(false));
    Document cancelled =
        doc(delivered.toBuilder().setState("CANCELLED").setCancelMessageId("m-77").build());
    assertThat(
        cancelled.getFieldsMap().get(JobDocuments.CANCEL_MESSAGE_ID).getStringValue(),
        equalTo("m-77"));
  }

  @Test
  void anEndedDocumentGivesBackTheJobResultsRowOfItsJob() {
    // The charge and what the providers billed differ: both come back.
    Job delivered =
        TestData.delivered("acme", "job-00000001").toBuilder()
            .setCostUsd(0.5)
            .setProviderCostUsd(0.75)
            .build();
    Job cancelled =
        TestData.planned("acme", "job-00000002").toBuilder()
            .setCancelMessageId("m-9")
            .setCostUsd(0.25)
            .setProviderCostUsd(0.35)
            .build()
            .finish(JobState.CANCELLED, null, "cancelled by uid-acme", TestData.T0 + 3_000);
    for (Job job : List.of(delivered, cancelled)) {
      Job ended = JobDocuments.ended(doc(job));
      assertThat(ended.getCostUsd(), equalTo(job.getCostUsd()));
      assertThat(ended.getProviderCostUsd(), equalTo(job.getProviderCostUsd()));
      assertThat(WarehouseRows.jobResult(ended), equalTo(WarehouseRows.jobResult(job)));
      assertThat(ended.getHistory(), equalTo(job.getHistory()));
      assertThat(doc(ended), equalTo(doc(job)));
    }
    assertThat(
        JobDocuments.ended(doc(TestData.received("acme", "job-00000003"))),
        is(org.hamcrest.Matchers.nullValue()));
  }

  @Test
  void newDocumentIsWrittenAsIs() {
    Document update = doc(TestData.received("acme", "job-00000001"));
    assertThat(JobDocuments.merge(null, update), equalTo(Optional.of(update)));
  }

  @Test
  void terminalThenRenderingStaysTerminal() {
    Document delivered = doc(TestData.delivered("acme", "job-00000001"));
    Job rendering =
        TestData.planned("acme", "job-00000001")
            .transition(JobState.RENDERING, TestData.T0 + 9_000, "late");
    assertThat(JobDocuments.merge(delivered, doc(rendering)).isPresent(), is(false));
    // Terminal is final, even for another terminal state.
    Job failed =
        TestData.planned("acme", "job-00000001")
            .transition(JobState.FAILED, TestData.T0 + 9_000, "x");
    assertThat(JobDocuments.merge(delivered, doc(failed)).isPresent(), is(false));
  }

  @Test
  void receivedThenDeliveredMoves() {
    Document received = doc(TestData.received("acme", "job-00000001"));
    Document merged =
        JobDocuments.merge(received, doc(TestData.delivered("acme", "job-00000001"))).orElseThrow();
    assertThat(JobDocuments.state(merged), equalTo(JobState.DELIVERED));
    assertThat(
        JobDocuments.historyKeys(merged),
        contains(
            "RECEIVED@2025-11-24T16:00:00Z",
            "PLANNED@2025-11-24T16:00:01Z",
            "RENDERING@2025-11-24T16:00:02Z",
            "QA@2025-11-24T16:00:05Z",
            "DELIVERED@2025-11-24T16:00:06Z"));
  }

  @Test
  void sameStateTwiceIsANoOp() {
    Document planned = doc(TestData.planned("acme", "job-00000001"));
    assertThat(JobDocuments.merge(planned, planned).isPresent(), is(false));
  }

  @Test
  void historiesAreUnitedInTimeOrderWithoutDuplicates() {
    Job a =
        TestData.received("acme", "job-00000001")
            .transition(JobState.PLANNED, TestData.T0 + 1_000, "p");
    // Another path to RENDERING whose history lacks PLANNED but has its own entry.
    Job b =
        TestData.received("acme", "job-00000001")
            .transition(JobState.RENDERING, TestData.T0 + 3_000, "r")
            .toBuilder()
            .setMessageId("msg-other")
            .build();
    Document merged = JobDocuments.merge(doc(a), doc(b)).orElseThrow();
    assertThat(
        JobDocuments.historyKeys(merged),
        contains(
            "RECEIVED@2025-11-24T16:00:00Z",
            "PLANNED@2025-11-24T16:00:01Z",
            "RENDERING@2025-11-24T16:00:03Z"));
    // The document keeps the message that created it.
    assertThat(JobDocuments.string(merged, "message_id"), equalTo("msg-job-00000001"));
    assertThat(JobDocuments.toPlainMap(merged).get("updated_at"), equalTo("2025-11-24T16:00:03Z"));
  }

  @Test
  void foldKeepsTheHighestStateWhateverTheOrder() {
    Document received = doc(TestData.received("acme", "job-00000001"));
    Document planned = doc(TestData.planned("acme", "job-00000001"));
    Document delivered = doc(TestData.delivered("acme", "job-00000001"));
    Document f1 = JobDocuments.fold(JobDocuments.fold(delivered, received), planned);
    Document f2 = JobDocuments.fold(JobDocuments.fold(received, planned), delivered);
    assertThat(JobDocuments.state(f1), equalTo(JobState.DELIVERED));
    assertThat(f1, equalTo(f2));
    // Re-merging a stale merged document gives the same result (idempotent).
    Document once = JobDocuments.merge(received, delivered).orElseThrow();
    Document twice = JobDocuments.merge(planned, once).orElseThrow();
    assertThat(JobDocuments.historyKeys(twice), equalTo(JobDocuments.historyKeys(once)));
  }

  @Test
  void nullsNeverHideKnownValues() {
    Job planned = TestData.planned("acme", "job-00000001");
    Job refusedLater =
        planned.toBuilder()
            .setBackend(null)
            .build()
            .transition(JobState.REJECTED, TestData.T0 + 2_000, "no");
    Document merged = JobDocuments.merge(doc(planned), doc(refusedLater)).orElseThrow();
    assertThat(JobDocuments.string(merged, "backend"), equalTo("preview"));
    assertThat(JobDocuments.string(merged, "state"), equalTo("REJECTED"));
  }

  @Test
  void anUnfinishedDocumentGivesBackTheAdmittedJob() {
    Job planned = TestData.planned("acme", "job-00000001").toBuilder().setOrdinal(42).build();
    Job resumed = JobDocuments.resumable(doc(planned));
    org.hamcrest.MatcherAssert.assertThat(
        resumed.getRequest(), org.hamcrest.Matchers.equalTo(planned.getRequest()));
    org.hamcrest.MatcherAssert.assertThat(
        resumed.getMessageId(), org.hamcrest.Matchers.equalTo(planned.getMessageId()));
    org.hamcrest.MatcherAssert.assertThat(resumed.getRole(), org.hamcrest.Matchers.equalTo("user"));
    org.hamcrest.MatcherAssert.assertThat(resumed.getPlan(), org.hamcrest.Matchers.equalTo("pro"));
    org.hamcrest.MatcherAssert.assertThat(resumed.getOrdinal(), org.hamcrest.Matchers.equalTo(42L));
    org.hamcrest.MatcherAssert.assertThat(
        resumed.getReceivedAtMillis(),
        org.hamcrest.Matchers.equalTo(planned.getReceivedAtMillis()));
    org.hamcrest.MatcherAssert.assertThat(
        resumed.getState(), org.hamcrest.Matchers.equalTo("RECEIVED"));
    org.hamcrest.MatcherAssert.assertThat(
        resumed.getHistory().size(), org.hamcrest.Matchers.equalTo(planned.getHistory().size()));
  }

  @Test
  void anEndedDocumentIsNotResumed() {
    org.hamcrest.MatcherAssert.assertThat(
        JobDocuments.resumable(doc(TestData.delivered("acme", "job-00000001"))),
        org.hamcrest.Matchers.nullValue());
  }
}
