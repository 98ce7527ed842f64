package com.aiprod.pipeline.persist;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import com.aiprod.pipeline.jobstore.FirestoreClients;
import com.aiprod.pipeline.jobstore.WriteJobDocuments;
import com.aiprod.pipeline.model.DeadLetter;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.testing.FirestoreEmulator;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollection;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class WriteJobDocumentsTest {
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
    write(jobs, false);
  }

  /**
   * Writes {@code jobs}; {@code perBundle}: each round reads in the merging step (the batch graph's
   * {@link WriteJobDocuments#readingPerBundle}), else through ReadExisting's shuffle.
   */
  private void write(List<Job> jobs, boolean perBundle) {
    Pipeline p = EmulatorPipelines.pipeline(EMULATOR);
    WriteJobDocuments writer = WriteJobDocuments.to(EmulatorPipelines.store(EMULATOR));
    if (perBundle) {
      writer =
          writer.readingPerBundle(
              FirestoreClients.of(EmulatorPipelines.PROJECT, null, EMULATOR.hostPort()));
    }
    PCollection<DeadLetter> dead = p.apply(Create.of(jobs)).apply(writer);
    PAssert.that(dead).empty();
    p.run().waitUntilFinish();
  }

  @ParameterizedTest(name = "perBundle={0}")
  @ValueSource(booleans = {false, true})
  void shuffledUpdatesInOnePipelineEndDelivered(boolean perBundle) throws Exception {
    List<Job> jobs = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      String tenant = i % 2 == 0 ? "acme" : "beta";
      jobs.add(TestData.received(tenant, jobId(i)));
      jobs.add(TestData.planned(tenant, jobId(i)));
      jobs.add(TestData.delivered(tenant, jobId(i)));
    }
    Collections.shuffle(jobs, new Random(7));
    write(jobs, perBundle);

    JsonNode docs = EmulatorPipelines.export(EMULATOR, dir.resolve("jobs.json"));
    assertThat(docs.size(), equalTo(20));
    for (JsonNode d : docs) {
      assertThat(d.get("path").asText(), d.get("state").asText(), equalTo("DELIVERED"));
      assertThat(d.get("history").size(), equalTo(5));
      assertThat(d.get("history").get(0).get("state").asText(), equalTo("RECEIVED"));
      assertThat(d.get("history").get(4).get("state").asText(), equalTo("DELIVERED"));
    }
  }

  @ParameterizedTest(name = "perBundle={0}")
  @ValueSource(booleans = {false, true})
  void laterPipelinesNeverMoveDocumentsBackwards(boolean perBundle) throws Exception {
    List<Job> first = new ArrayList<>();
    List<Job> second = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      first.add(TestData.delivered("acme", jobId(i)));
      second.add(TestData.received("acme", jobId(i)));
      second.add(TestData.planned("acme", jobId(i)));
    }
    for (int i = 10; i < 20; i++) {
      first.add(TestData.received("acme", jobId(i)));
      second.add(TestData.delivered("acme", jobId(i)));
    }
    Collections.shuffle(first, new Random(1));
    Collections.shuffle(second, new Random(2));
    write(first, perBundle);
    write(second, perBundle);
    // Replaying the same updates (redelivery) changes nothing.
    write(second, perBundle);

    JsonNode docs = EmulatorPipelines.export(EMULATOR, dir.resolve("jobs.json"));
    assertThat(docs.size(), equalTo(20));
    for (int i = 0; i < 20; i++) {
      JsonNode d = docs.get(i);
      assertThat(d.get("job_id").asText(), equalTo(jobId(i)));
      assertThat(d.get("state").asText(), equalTo("DELIVERED"));
      assertThat(d.get("history").size(), equalTo(5));
    }
  }

  @Test
  void exportIsSortedPlainJson() throws Exception {
    write(
        List.of(
            TestData.delivered("zeta", jobId(1)),
            TestData.planned("acme", jobId(2)),
            TestData.received("acme", jobId(1))));
    Path file = dir.resolve("out/jobs.json");
    JsonNode docs = EmulatorPipelines.export(EMULATOR, file);
    assertThat(docs.isArray(), is(true));
    assertThat(docs.size(), equalTo(3));
    assertThat(docs.get(0).get("path").asText(), equalTo("tenants/acme/jobs/" + jobId(1)));
    assertThat(docs.get(1).get("path").asText(), equalTo("tenants/acme/jobs/" + jobId(2)));
    assertThat(docs.get(2).get("path").asText(), equalTo("tenants/zeta/jobs/" + jobId(1)));
    JsonNode delivered = docs.get(2);
    assertThat(delivered.get("duration_sec").isIntegralNumber(), is(true));
    assertThat(delivered.get("budget_usd").asDouble(), equalTo(0.5));
    assertThat(
        delivered.get("qa").get("semantic_scorer").asText(), equalTo("local-coverage-heuristic"));
    assertThat(delivered.get("created_at").asText(), equalTo("2025-11-24T16:00:00Z"));
    assertThat(delivered.get("history").get(1).get("at").asText(), equalTo("2025-11-24T16:00:01Z"));
    assertThat(delivered.get("reason").isNull(), is(true));
    assertThat(Files.readString(file).startsWith("["), is(true));
  }

  @Test
  void exportOfAnEmptyStoreIsAnEmptyArray() throws Exception {
    JsonNode docs = EmulatorPipelines.export(EMULATOR, dir.resolve("empty.json"));
    assertThat(docs.isArray(), is(true));
    assertThat(docs.size(), equalTo(0));
  }
}
