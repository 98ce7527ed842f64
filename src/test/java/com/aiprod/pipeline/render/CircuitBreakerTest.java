package com.aiprod.pipeline.render;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import org.junit.jupiter.api.Test;

class CircuitBreakerTest {
  private final RenderPolicy policy = RenderPolicy.standard();
  private final CircuitBreaker breaker = new CircuitBreaker();

  @Test
  void fiveFailuresWithinAMinuteOpenTheCircuitForAMinute() {
    for (int i = 0; i < 4; i++) {
      assertThat(breaker.recordFailure("veo3", 1_000 + i * 10_000L, policy), is(false));
    }
    assertThat(breaker.isOpen("veo3", 45_000), is(false));
    assertThat(breaker.recordFailure("veo3", 50_000, policy), is(true));
    assertThat(breaker.isOpen("veo3", 50_000), is(true));
    assertThat(breaker.openBackends(50_000), contains("veo3"));
    assertThat(breaker.closesAt("veo3", 60_000), equalTo(110_000L));
    assertThat(breaker.isOpen("veo3", 109_999), is(true));
    assertThat(breaker.isOpen("veo3", 110_000), is(false));
    assertThat(breaker.openBackends(110_000), is(empty()));
    assertThat(breaker.isOpen("runway_gen4_turbo", 50_000), is(false));
  }

  @Test
  void failuresOlderThanTheWindowDoNotCount() {
    for (int i = 0; i < 4; i++) {
      breaker.recordFailure("veo3", i * 1_000L, policy);
    }
    // The fifth failure comes 60 s after the first: only four are within the window.
    assertThat(breaker.recordFailure("veo3", 60_000, policy), is(false));
    assertThat(breaker.isOpen("veo3", 60_000), is(false));
  }

  @Test
  void aReopenedCircuitNeedsAFullCountAgain() {
    for (int i = 0; i < 5; i++) {
      breaker.recordFailure("veo3", i, policy);
    }
    assertThat(breaker.isOpen("veo3", 10), is(true));
    // Half-open after 60 s: one failure does not re-open it, five do.
    assertThat(breaker.recordFailure("veo3", 70_000, policy), is(false));
    assertThat(breaker.isOpen("veo3", 70_001), is(false));
    for (int i = 1; i < 5; i++) {
      breaker.recordFailure("veo3", 70_000 + i, policy);
    }
    assertThat(breaker.isOpen("veo3", 70_010), is(true));
  }
}
