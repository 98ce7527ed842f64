package com.aiprod.pipeline.jobstore;

import static com.aiprod.pipeline.testing.StageFixtures.list;
import static com.aiprod.pipeline.testing.StageFixtures.received;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.nullValue;

import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobState;
import com.aiprod.pipeline.testing.FirestoreEmulator;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollection;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class BundleJobLookupTest {
  private static final String PROJECT = "demo-aiprod";
  private static final String BODY =
      "{\"content\": \"A lighthouse at dawn.\", \"mode\": \"estimate\", \"duration_sec\": 10}";

  @RegisterExtension static final FirestoreEmulator EMULATOR = new FirestoreEmulator();

  @BeforeEach
  void clear() throws Exception {
    EMULATOR.clear(PROJECT);
  }

  private static Pipeline pipeline() {
    return Pipeline.create(
        PipelineOptionsFactory.fromArgs(
                "--runner=DirectRunner",
                "--project=" + PROJECT,
                "--emulatorHost=" + EMULATOR.hostPort(),
                "--credentialFactoryClass=org.apache.beam.sdk.extensions.gcp.auth.NoopCredentialFactory")
            .create());
  }

  @Test
  void everyJobComesOutOnceWithWhatTheStoreHoldsAcrossSeveralRequests() {
    // An earlier run stored 3 documents (one ended, two not).
    List<Job> stored =
        List.of(
            received("old-1", "acme", "job-0000007", 1, BODY)
                .transition(JobState.PLANNED, 10, "planned")
                .transition(JobState.ESTIMATED, 11, "estimated"),
            received("old-2", "acme", "job-0000150", 2, BODY),
            received("old-3", "globex", "job-0000249", 3, BODY));
    Pipeline w = pipeline();
    PAssert.that(
            w.apply(Create.of(stored))
                .apply(WriteJobDocuments.to(JobStore.fromOptions(w.getOptions()))))
        .empty();
    w.run().waitUntilFinish();

    // 250 jobs (more than one request of 100), one job id twice in the input.
    List<Job> jobs = new ArrayList<>();
    for (int i = 0; i < 250; i++) {
      String tenant = i == 249 ? "globex" : "acme";
      jobs.add(received("m-" + i, tenant, String.format("job-%07d", i), i, BODY));
    }
    jobs.add(received("m-again", "acme", "job-0000150", 300, BODY));
    Pipeline p = pipeline();
    JobStore store = JobStore.fromOptions(p.getOptions());
    PCollection<JobLookup> looked =
        p.apply(Create.of(jobs))
            .apply(BundleJobLookup.in(store, FirestoreClients.fromOptions(p.getOptions())));
    PAssert.that(looked)
        .satisfies(
            all -> {
              List<JobLookup> out = list(all);
              assertThat(out, hasSize(251));
              Map<String, JobLookup> byMessage = new HashMap<>();
              for (JobLookup l : out) {
                assertThat(byMessage.put(l.getJob().getMessageId(), l), nullValue());
              }
              assertThat(byMessage.get("m-7").getExistingMessageId(), equalTo("old-1"));
              assertThat(byMessage.get("m-7").getExistingState(), equalTo("ESTIMATED"));
              assertThat(byMessage.get("m-150").getExistingMessageId(), equalTo("old-2"));
              assertThat(byMessage.get("m-again").getExistingMessageId(), equalTo("old-2"));
              assertThat(byMessage.get("m-249").getExistingMessageId(), equalTo("old-3"));
              assertThat(byMessage.get("m-249").getExistingUid(), equalTo("uid-globex"));
              int existing = 0;
              for (JobLookup l : out) {
                existing += l.exists() ? 1 : 0;
              }
              assertThat(existing, equalTo(4));
              return null;
            });
    p.run().waitUntilFinish();
  }
}
