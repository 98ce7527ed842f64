package com.aiprod.pipeline.flink;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;

import org.junit.jupiter.api.Test;

/** How {@link FlinkRest} recognises our counters among a vertex's REST metric ids. */
class FlinkRestTest {
  @Test
  void ourCountersWithEitherScopeDelimiter() {
    // As a TaskManager of scripts/flink-cluster lists them (delimiter "_"), and with ".".
    assertThat(
        FlinkRest.counterName("Authenticate/VerifyIdTokens.aiprod_auth_success"),
        equalTo("auth_success"));
    assertThat(
        FlinkRest.counterName(
            "DeliverJobs/WriteJobResults/Insert_job_results.aiprod_warehouse_rows_inserted_job_results"),
        equalTo("warehouse_rows_inserted_job_results"));
    assertThat(FlinkRest.counterName("Admit.aiprod.duplicates"), equalTo("duplicates"));
  }

  @Test
  void otherMetricsAreNotOurs() {
    assertThat(FlinkRest.counterName("Admit/FirstMessageWins.numRecordsIn"), nullValue());
    assertThat(FlinkRest.counterName("Source__ReadPubsub.aiprodx_count"), nullValue());
  }

  @Test
  void remoteMasters() {
    assertThat(FlinkRest.isRemote("127.0.0.1:8081"), equalTo(true));
    assertThat(FlinkRest.isRemote("[local]"), equalTo(false));
    assertThat(FlinkRest.isRemote("[auto]"), equalTo(false));
  }
}
