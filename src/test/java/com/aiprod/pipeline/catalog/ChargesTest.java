package com.aiprod.pipeline.catalog;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.aiprod.pipeline.catalog.Charges.DeliveredShot;
import com.aiprod.pipeline.model.JobState;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChargesTest {
  private static final PricingTable PRICING = PricingTable.builtIn();

  @Test
  void listPriceIsEachShotAtItsDeliveringBackendsPrice() {
    // runway $0.05/s, replicate $0.02/s, veo3 $0.40/s, preview $0
    List<DeliveredShot> shots =
        List.of(
            new DeliveredShot("runway_gen4_turbo", 5),
            new DeliveredShot("replicate_wan", 5),
            new DeliveredShot("veo3", 8),
            new DeliveredShot("preview", 5));
    assertThat(Charges.listPriceUsd(PRICING, shots), equalTo(3.55));
    assertThat(Charges.listPriceUsd(PRICING, List.of()), equalTo(0.0));
    // 0.1 + 0.2 noise never shows: amounts add up in micro-dollars.
    assertThat(
        Charges.listPriceUsd(
            PRICING,
            List.of(new DeliveredShot("replicate_wan", 5), new DeliveredShot("replicate_wan", 10))),
        equalTo(0.3));
  }

  @Test
  void aBackendThePricingTableDoesNotKnowIsNotCharged() {
    assertThat(
        Charges.listPriceUsd(PRICING, List.of(new DeliveredShot("someone_else", 5))), equalTo(0.0));
  }

  @Test
  void deliveredReviewedAndCancelledJobsPayForTheirShotsOthersPayNothing() {
    for (JobState s :
        List.of(JobState.DELIVERED, JobState.NEEDS_REVIEW, JobState.CANCELLED, JobState.QA)) {
      assertThat(s.name(), Charges.chargeUsd(s, 0.75), equalTo(0.75));
    }
    for (JobState s : List.of(JobState.FAILED, JobState.REJECTED, JobState.ESTIMATED)) {
      assertThat(s.name(), Charges.chargeUsd(s, 0.75), equalTo(0.0));
    }
    assertThat(
        Charges.chargeUsd(
            JobState.CANCELLED, PRICING, List.of(new DeliveredShot("runway_gen4_turbo", 5))),
        equalTo(0.25));
  }

  @Test
  void badAmountsAreProgrammingErrors() {
    assertThrows(
        IllegalArgumentException.class, () -> Charges.chargeUsd(JobState.DELIVERED, -0.01));
    assertThrows(
        IllegalArgumentException.class, () -> Charges.chargeUsd(JobState.DELIVERED, Double.NaN));
    assertThrows(IllegalArgumentException.class, () -> new DeliveredShot("veo3", -1));
    assertThrows(
        IllegalArgumentException.class, () -> new DeliveredShot("veo3", Double.POSITIVE_INFINITY));
  }
}
