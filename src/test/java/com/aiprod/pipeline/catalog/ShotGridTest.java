package com.aiprod.pipeline.catalog;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ShotGridTest {
  private static final PricingTable T = PricingTable.builtIn();

  @Test
  void finalsAreWholeClipsCoveringTheDuration() {
    assertThat(ShotGrid.shotCount(30, 8), equalTo(4));
    assertThat(ShotGrid.renderedSeconds(30, 8), equalTo(32.0));
    assertThat(ShotGrid.durations(30, 8, false), contains(8.0, 8.0, 8.0, 8.0));
    assertThat(ShotGrid.shotCount(32, 8), equalTo(4));
    assertThat(ShotGrid.shotCount(33, 8), equalTo(5));
    assertThat(ShotGrid.shotCount(5, 8), equalTo(1));
    assertThat(ShotGrid.renderedSeconds(300, 5), equalTo(300.0));
    assertThat(ShotGrid.shotCount(30, 7.5), equalTo(4));
  }

  @Test
  void previewsTrimTheLastShot() {
    assertThat(ShotGrid.durations(12, 5, true), contains(5.0, 5.0, 2.0));
    assertThat(ShotGrid.durations(30, 5, true), contains(5.0, 5.0, 5.0, 5.0, 5.0, 5.0));
    assertThat(ShotGrid.durations(6, 5, true), contains(5.0, 1.0));
  }

  @Test
  void multipleClipLengthsTakeLeastOvershootThenLonger() {
    PricingTable.Backend runway = T.get("runway_gen4_turbo");
    assertThat(ShotGrid.chooseClipSeconds(runway, 30), equalTo(10));
    assertThat(ShotGrid.chooseClipSeconds(runway, 25), equalTo(5));
    assertThat(ShotGrid.chooseClipSeconds(runway, 12), equalTo(5));
    assertThat(ShotGrid.chooseClipSeconds(runway, 10), equalTo(10));
    assertThat(ShotGrid.chooseClipSeconds(runway, 5), equalTo(5));
    assertThat(ShotGrid.chooseClipSeconds(T.get("veo3"), 30), equalTo(8));
    assertThrows(
        IllegalArgumentException.class, () -> ShotGrid.chooseClipSeconds(T.get("preview"), 30));
  }

  @Test
  void rejectsNonPositiveInputs() {
    assertThrows(IllegalArgumentException.class, () -> ShotGrid.shotCount(0, 5));
    assertThrows(IllegalArgumentException.class, () -> ShotGrid.shotCount(30, 0));
    assertThrows(IllegalArgumentException.class, () -> ShotGrid.shotCount(30, Double.NaN));
  }
}
