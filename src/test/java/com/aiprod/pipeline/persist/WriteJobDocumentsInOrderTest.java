package com.aiprod.pipeline.persist;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import com.aiprod.pipeline.jobstore.FirestoreClients;
import com.aiprod.pipeline.jobstore.WriteJobDocumentsInOrder;
import com.aiprod.pipeline.kernel.OutcomePart;
import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.testing.FirestoreEmulator;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.Distinct;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The streaming job-document writer against the Firestore emulator. */
class WriteJobDocumentsInOrderTest {
  @RegisterExtension static final FirestoreEmulator EMULATOR = new FirestoreEmulator();

  @TempDir Path dir;

  @BeforeEach
  void clear() throws Exception {
    EMULATOR.clear(EmulatorPipelines.PROJECT);
  }

  private static List<String> messageIds(int n) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ids.add(TestData.received("acme", jobId(i)).getMessageId());
    }
    return ids;
  }

  private static String jobId(int i) {
    return String.format("job-%08d", i);
  }

  /** Writes {@code jobs}; the documents of {@code terminalIds} are (or were already) terminal. */
  private void write(List<Job> jobs, List<String> terminalIds) {
    Pipeline p = EmulatorPipelines.pipeline(EMULATOR);
    PCollectionTuple written =
        p.apply(Create.of(jobs))
            .apply(
                new WriteJobDocumentsInOrder(
                    EmulatorPipelines.store(EMULATOR),
                    FirestoreClients.of(EmulatorPipelines.PROJECT, null, EMULATOR.hostPort())));
    PAssert.that(written.get(StageTags.DEAD_LETTERS)).empty();
    // Every terminal document committed, or found so when an update came too late, is its
    // job's document part, and nothing else is.
    List<OutcomePart> expected = new ArrayList<>();
    terminalIds.forEach(id -> expected.add(OutcomePart.of(id, OutcomePart.Part.JOB_DOCUMENT)));
    PAssert.that(written.get(StageTags.OUTCOMES).apply(Distinct.create()))
        .containsInAnyOrder(expected);
    p.run().waitUntilFinish();
  }

  @Test
  void aJobsShuffledAndRepeatedUpdatesEndInItsLastStateWithItsWholeHistory() throws Exception {
    List<Job> jobs = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      String tenant = i % 2 == 0 ? "acme" : "beta";
      for (int copy = 0; copy < 2; copy++) { // every update twice: a redelivery
        jobs.add(TestData.received(tenant, jobId(i)));
        jobs.add(TestData.planned(tenant, jobId(i)));
        jobs.add(TestData.delivered(tenant, jobId(i)));
      }
    }
    Collections.shuffle(jobs, new Random(11));
    write(jobs, messageIds(30));

    JsonNode docs = EmulatorPipelines.export(EMULATOR, dir.resolve("jobs.json"));
    assertThat(docs.size(), equalTo(30));
    for (JsonNode d : docs) {
      assertThat(d.get("path").asText(), d.get("state").asText(), equalTo("DELIVERED"));
      assertThat(d.get("history").size(), equalTo(5));
      assertThat(d.get("history").get(0).get("state").asText(), equalTo("RECEIVED"));
      assertThat(d.get("history").get(4).get("state").asText(), equalTo("DELIVERED"));
    }
  }

  @Test
  void aLaterRunNeverMovesADocumentBackwards() throws Exception {
    List<Job> first = new ArrayList<>();
    List<Job> second = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      first.add(TestData.delivered("acme", jobId(i)));
      second.add(TestData.received("acme", jobId(i)));
      second.add(TestData.planned("acme", jobId(i)));
    }
    write(first, messageIds(10));
    write(second, messageIds(10)); // stale updates: the terminal documents found are the parts

    JsonNode docs = EmulatorPipelines.export(EMULATOR, dir.resolve("jobs.json"));
    for (JsonNode d : docs) {
      assertThat(d.get("state").asText(), equalTo("DELIVERED"));
      assertThat(d.get("history").size(), equalTo(5));
    }
  }
}
