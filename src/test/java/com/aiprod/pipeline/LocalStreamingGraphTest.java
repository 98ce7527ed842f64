package com.aiprod.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.startsWith;

import com.aiprod.pipeline.options.AiprodOptions;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The streaming graph of the single-JVM runners (messages acknowledged after their outcome) looks
 * jobs up per bundle, without the keyed join of the Dataflow graph; both skip the RECEIVED document
 * of estimates. Builds the graphs only (nothing runs).
 */
class LocalStreamingGraphTest {
  private static final String SUBSCRIPTION =
      "--inputSubscription=projects/my-project/subscriptions/aiprod-jobs-pipeline";

  private static Set<String> names(String acks) {
    AiprodOptions options = TransformNamesTest.options(SUBSCRIPTION);
    options.setPubsubAcks(acks);
    return TransformNamesTest.transformNames(AiprodPipeline.create(options));
  }

  @Test
  void outcomeAcknowledgedStreamingLooksJobsUpPerBundle() {
    Set<String> local = names("outcome");
    assertThat(
        local,
        hasItems(
            "Admit/LookUpJobStore/LookUpPerBundle",
            "AuthorizeCancels/LookUpCancelledJobs/LookUpPerBundle",
            "SkipEstimateProgress",
            "Admit/FirstMessageWins"));
    assertThat(local, not(hasItem(startsWith("Admit/LookUpJobStore/ReadExisting"))));
  }

  @Test
  void runnerAcknowledgedStreamingKeepsTheJoinAcrossBundles() {
    Set<String> dataflow = names("checkpoint");
    assertThat(
        dataflow,
        hasItems("Admit/LookUpJobStore/ReadExisting/PairWithExisting", "SkipEstimateProgress"));
    assertThat(dataflow, not(hasItem(startsWith("Admit/LookUpJobStore/LookUpPerBundle"))));
  }
}
