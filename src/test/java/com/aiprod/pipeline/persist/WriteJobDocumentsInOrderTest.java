package com.aiprod.pipeline.persist;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import com.aiprod.pipeline.StageTags;
import com.aiprod.pipeline.kernel.OutcomePart;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobState;
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

  private static String jobId(int i) {
    return String.format("job-%08d", i);
  }

  private void write(List<Job> jobs) {
    Pipeline p = EmulatorPipelines.pipeline(EMULATOR);
    PCollectionTuple written =
        p.apply(Create.of(jobs))
            .apply(
                new WriteJobDocumentsInOrder(
                    EmulatorPipelines.store(EMULATOR),
                    FirestoreClients.of(EmulatorPipelines.PROJECT, null, EMULATOR.hostPort())));
    PAssert.that(written.get(StageTags.DEAD_LETTERS)).empty();
    // Every terminal document committed (or found so) is its job's document part, no other.
    List<OutcomePart> expected = new ArrayList<>();
    jobs.stream()
        .filter(j -> JobState.valueOf(j.getState()).isTerminal())
        .map(j -> OutcomePart.of(j.getMessageId(), OutcomePart.Part.JOB_DOCUMENT))
        .distinct()
        .forEach(expected::add);
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
    write(jobs);

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
    write(first);
    write(second);

    JsonNode docs = EmulatorPipelines.export(EMULATOR, dir.resolve("jobs.json"));
    for (JsonNode d : docs) {
      assertThat(d.get("state").asText(), equalTo("DELIVERED"));
      assertThat(d.get("history").size(), equalTo(5));
    }
  }
}
