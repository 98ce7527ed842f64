package com.aiprod.pipeline.render;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.lessThanOrEqualTo;

import org.junit.jupiter.api.Test;

class RenderPolicyTest {
  private final RenderPolicy policy = RenderPolicy.standard();

  @Test
  void pollIntervalsGrowToTheirCap() {
    assertThat(policy.nextPollDelay(0), equalTo(5_000L));
    assertThat(policy.nextPollDelay(5_000), equalTo(7_500L));
    assertThat(policy.nextPollDelay(25_000), equalTo(30_000L));
    assertThat(policy.nextPollDelay(30_000), equalTo(30_000L));
  }

  @Test
  void backoffIsExponentialWithJitterAndCapped() {
    for (int i = 0; i < 200; i++) {
      assertThat(
          policy.backoff(1, null), allOf(greaterThanOrEqualTo(1_000L), lessThanOrEqualTo(2_000L)));
      assertThat(
          policy.backoff(3, null), allOf(greaterThanOrEqualTo(4_000L), lessThanOrEqualTo(8_000L)));
      assertThat(
          policy.backoff(30, null),
          allOf(greaterThanOrEqualTo(30_000L), lessThanOrEqualTo(60_000L)));
    }
  }

  @Test
  void retryAfterIsHonoured() {
    for (int i = 0; i < 50; i++) {
      assertThat(policy.backoff(1, 45_000L), greaterThanOrEqualTo(45_000L));
    }
  }
}
