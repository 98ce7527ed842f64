package com.aiprod.pipeline.persist;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.nullValue;

import com.aiprod.pipeline.jobstore.ExistingJobLookup;
import com.aiprod.pipeline.jobstore.JobLookup;
import com.aiprod.pipeline.jobstore.WriteJobDocuments;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.testing.FirestoreEmulator;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class ExistingJobLookupTest {
  @RegisterExtension static final FirestoreEmulator EMULATOR = new FirestoreEmulator();

  @Test
  void findsExistingAndMissingDocuments() throws Exception {
    EMULATOR.clear(EmulatorPipelines.PROJECT);
    Pipeline setup = EmulatorPipelines.pipeline(EMULATOR);
    setup
        .apply(
            Create.of(
                TestData.delivered("acme", "job-00000001"),
                TestData.planned("acme", "job-00000002")))
        .apply(WriteJobDocuments.to(EmulatorPipelines.store(EMULATOR)));
    setup.run().waitUntilFinish();

    Job again = TestData.received("acme", "job-00000001");
    Job redelivered = again;
    Job duplicate = again.toBuilder().setMessageId("msg-resubmitted").build();
    Job planned = TestData.received("acme", "job-00000002");
    Job otherTenant = TestData.received("beta", "job-00000001");
    Job missing = TestData.received("acme", "job-00000099");

    Pipeline p = EmulatorPipelines.pipeline(EMULATOR);
    PCollection<JobLookup> lookups =
        p.apply(Create.of(redelivered, duplicate, planned, otherTenant, missing))
            .apply(ExistingJobLookup.in(EmulatorPipelines.store(EMULATOR)));
    PAssert.that(lookups)
        .satisfies(
            all -> {
              List<JobLookup> list = new ArrayList<>();
              all.forEach(list::add);
              assertThat(list.size(), equalTo(5));
              Map<String, JobLookup> byMessage = new HashMap<>();
              for (JobLookup l : list) {
                byMessage.put(
                    l.getJob().getTenant()
                        + "/"
                        + l.getJob().getJobId()
                        + "/"
                        + l.getJob().getMessageId(),
                    l);
              }
              JobLookup r = byMessage.get("acme/job-00000001/msg-job-00000001");
              assertThat(r.exists(), is(true));
              assertThat(r.getExistingState(), equalTo("DELIVERED"));
              assertThat(r.isDuplicate(), is(false));
              JobLookup d = byMessage.get("acme/job-00000001/msg-resubmitted");
              assertThat(d.getExistingMessageId(), equalTo("msg-job-00000001"));
              assertThat(d.isDuplicate(), is(true));
              assertThat(
                  byMessage.get("acme/job-00000002/msg-job-00000002").getExistingState(),
                  equalTo("PLANNED"));
              JobLookup o = byMessage.get("beta/job-00000001/msg-job-00000001");
              assertThat(o.exists(), is(false));
              assertThat(o.getExistingState(), nullValue());
              assertThat(byMessage.get("acme/job-00000099/msg-job-00000099").exists(), is(false));
              return null;
            });
    p.run().waitUntilFinish();
  }
}
