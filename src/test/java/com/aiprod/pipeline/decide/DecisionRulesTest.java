package com.aiprod.pipeline.decide;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.aiprod.pipeline.decide.DecisionRules.Decision;
import com.aiprod.pipeline.model.JobState;
import org.junit.jupiter.api.Test;

class DecisionRulesTest {
  private static Decision decide(double technical, double semantic) {
    return DecisionRules.decide(technical, semantic, 1.0, 1.5);
  }

  @Test
  void deliveredAtTheBoundaries() {
    Decision d = DecisionRules.decide(0.8, 0.7, 1.8, 1.5);
    assertThat(d.state(), equalTo(JobState.DELIVERED));
    assertThat(d.reason(), nullValue());
    assertThat(decide(1.0, 1.0).state(), equalTo(JobState.DELIVERED));
  }

  @Test
  void technicalBelowPointEightIsRejected() {
    Decision d = decide(0.79, 0.9);
    assertThat(d.state(), equalTo(JobState.REJECTED));
    assertThat(d.reason(), equalTo("technical score 0.79 < 0.8"));
  }

  @Test
  void semanticBelowPointFourIsRejected() {
    assertThat(decide(1.0, 0.4).state(), equalTo(JobState.NEEDS_REVIEW));
    Decision d = decide(1.0, 0.39);
    assertThat(d.state(), equalTo(JobState.REJECTED));
    assertThat(d.reason(), equalTo("semantic score 0.39 < 0.4"));
  }

  @Test
  void rejectionNamesEveryMissedThreshold() {
    Decision d = DecisionRules.decide(0.5, 0.1, 100, 1);
    assertThat(d.state(), equalTo(JobState.REJECTED));
    assertThat(d.reason(), equalTo("technical score 0.5 < 0.8; semantic score 0.1 < 0.4"));
  }

  @Test
  void semanticBelowPointSevenNeedsReview() {
    Decision d = decide(0.9, 0.69);
    assertThat(d.state(), equalTo(JobState.NEEDS_REVIEW));
    assertThat(d.reason(), equalTo("semantic score 0.69 < 0.7"));
  }

  @Test
  void costAboveOnePointTwoBudgetNeedsReview() {
    assertThat(DecisionRules.decide(1, 1, 1.8, 1.5).state(), equalTo(JobState.DELIVERED));
    Decision d = DecisionRules.decide(1, 1, 1.81, 1.5);
    assertThat(d.state(), equalTo(JobState.NEEDS_REVIEW));
    assertThat(d.reason(), equalTo("cost $1.81 > 1.2 × budget $1.50 = $1.80"));
    Decision both = DecisionRules.decide(1, 0.5, 2, 1);
    assertThat(
        both.reason(),
        allOf(
            containsString("semantic score 0.5 < 0.7"),
            containsString("cost $2.00 > 1.2 × budget $1.00 = $1.20")));
  }

  @Test
  void floatingPointNoiseAtTheThresholdDoesNotFlip() {
    double nearlyPointSeven = 0.3 + 0.3 + 0.1 - 1e-12; // a weighted sum landing a hair under
    assertThat(decide(1.0, nearlyPointSeven).state(), equalTo(JobState.DELIVERED));
    assertThat(decide(4.0 / 5.0, 1.0).state(), equalTo(JobState.DELIVERED));
  }

  @Test
  void invalidInputsAreProgrammingErrors() {
    assertThrows(IllegalArgumentException.class, () -> decide(Double.NaN, 1));
    assertThrows(IllegalArgumentException.class, () -> decide(1, 1.01));
    assertThrows(IllegalArgumentException.class, () -> decide(-0.1, 1));
    assertThrows(IllegalArgumentException.class, () -> DecisionRules.decide(1, 1, -1, 1));
    assertThrows(IllegalArgumentException.class, () -> DecisionRules.decide(1, 1, 1, 0));
  }
}
