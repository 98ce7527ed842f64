package com.aiprod.pipeline.catalog;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import org.junit.jupiter.api.Test;

class MoneyTest {
  @Test
  void roundsToMicros() {
    assertThat(0.1 * 3 == 0.3, is(false));
    assertThat(Money.roundMicros(0.1 * 3), equalTo(0.3));
    assertThat(Money.roundMicros(0.15 * 32), equalTo(4.8));
    assertThat(Money.micros(1.5), equalTo(1_500_000L));
  }

  @Test
  void exceedsIgnoresFloatingPointNoise() {
    assertThat(1.2 * 1.5 < 1.8, is(true));
    assertThat(Money.exceeds(1.8, 1.2 * 1.5), is(false));
    assertThat(Money.exceeds(1.800001, 1.8), is(true));
  }

  @Test
  void formats() {
    assertThat(Money.format(1.5), equalTo("$1.50"));
    assertThat(Money.format(12.8), equalTo("$12.80"));
    assertThat(Money.format(-2), equalTo("-$2.00"));
    assertThat(Money.format(0.0045), equalTo("$0.0045"));
    assertThat(Money.format(10000), equalTo("$10,000.00"));
    assertThat(Money.decimal(0.8), equalTo("0.8"));
    assertThat(Money.decimal(0.93), equalTo("0.93"));
    assertThat(Money.decimal(8.0), equalTo("8"));
  }
}
