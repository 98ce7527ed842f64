package com.aiprod.pipeline.persist;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;

import com.aiprod.pipeline.jobstore.FirestoreClients;
import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.model.AuditType;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobState;
import com.aiprod.pipeline.model.ReasonCode;
import com.aiprod.pipeline.testing.StageFixtures;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * SettleSpend without a reachable ledger: the run goes on, each settlement that could not be made
 * is an ERROR audit event, and jobs that reserved nothing never reach the ledger. (Settling against
 * the Firestore emulator: SpendLedgerTest and assemble.ChargingTest.)
 */
class SettleSpendTest {
  @RegisterExtension final TestPipelineExtension pipeline = TestPipelineExtension.create();

  private static Job withMode(Job job, String mode) {
    return job.toBuilder().setRequest(job.getRequest().toBuilder().setMode(mode).build()).build();
  }

  @Test
  void anUnreachableLedgerIsAnErrorEventNotAFailedRun(TestPipeline p) throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Job failedFinal =
        withMode(TestData.planned("acme", "job-settle-01"), "final")
            .finish(
                JobState.FAILED, ReasonCode.RENDER_FAILED, "1 of 2 shots failed", TestData.T0 + 9);
    // Reserved nothing: a preview, an estimate, a refusal without a request, a final under way.
    Job preview = TestData.delivered("acme", "job-settle-02");
    Job estimate =
        withMode(TestData.planned("acme", "job-settle-03"), "estimate")
            .transition(JobState.ESTIMATED, TestData.T0 + 9, "quote");
    Job noRequest =
        TestData.received("acme", "job-settle-04").toBuilder()
            .setRequest(null)
            .build()
            .finish(JobState.REJECTED, ReasonCode.SCHEMA_VIOLATION, "bad body", TestData.T0 + 9);
    Job rendering =
        withMode(TestData.planned("acme", "job-settle-05"), "final")
            .transition(JobState.RENDERING, TestData.T0 + 9, "rendering");

    PCollection<AuditEvent> events =
        p.apply(Create.of(List.of(failedFinal, preview, estimate, noRequest, rendering)))
            .apply(
                new SettleSpend(
                    StageFixtures.AUDIT,
                    FirestoreClients.of("demo-aiprod", null, "127.0.0.1:" + port),
                    Duration.ofSeconds(3)));

    PAssert.that(events)
        .satisfies(
            all -> {
              List<AuditEvent> list = StageFixtures.list(all);
              assertThat(list, hasSize(1));
              AuditEvent e = list.get(0);
              assertThat(e.getEventType(), equalTo(AuditType.ERROR.name()));
              assertThat(e.getAction(), equalTo("settle_spend"));
              assertThat(e.getJobId(), equalTo("job-settle-01"));
              assertThat(e.getResource(), equalTo("tenants/acme/spend/2025-11-24"));
              assertThat(e.getDetails(), containsString("its reservation stands"));
              return null;
            });
    p.run().waitUntilFinish();
  }
}
