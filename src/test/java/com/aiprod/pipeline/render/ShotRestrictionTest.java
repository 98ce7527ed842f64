package com.aiprod.pipeline.render;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.aiprod.pipeline.model.ShotSpec;
import java.util.List;
import org.apache.beam.sdk.transforms.splittabledofn.SplitResult;
import org.apache.beam.sdk.util.CoderUtils;
import org.junit.jupiter.api.Test;

class ShotRestrictionTest {
  private static final ShotTask TASK =
      ShotTask.create(
          "acme",
          "job-00000001",
          "m-1",
          "alice",
          "runway_gen4_turbo",
          List.of("replicate_wan"),
          2,
          ShotSpec.create(0, 5.0, "a prompt", 7L),
          "16:9",
          24,
          1280,
          720);

  @Test
  void aStepInProgressCannotBeCheckpointedAndARecordedOneCan() {
    ShotRenderState start = ShotRenderState.start(TASK);
    ShotRestriction.Tracker t = new ShotRestriction.Tracker(ShotRestriction.of(start));
    assertThat(t.tryClaim(start), is(true)); // the step opens
    assertThat("no checkpoint while the step's calls are under way", t.trySplit(0), nullValue());
    ShotRenderState polling =
        start.toBuilder().phase(ShotRenderState.Phase.POLL).setOperation("task-1").build();
    assertThat(t.tryClaim(polling), is(true)); // its outcome
    SplitResult<ShotRestriction> split = t.trySplit(0);
    assertThat(split, notNullValue());
    assertThat(split.getResidual().state(), equalTo(polling));
    assertThat(split.getPrimary().isDone(), is(true));
    assertDoesNotThrow(t::checkDone);
    assertThat("after the checkpoint the residual owns the shot", t.tryClaim(polling), is(false));
  }

  @Test
  void aSettledShotIsDoneAndAnOpenOneIsNot() {
    ShotRenderState start = ShotRenderState.start(TASK);
    ShotRestriction.Tracker t = new ShotRestriction.Tracker(ShotRestriction.of(start));
    assertThrows(IllegalStateException.class, t::checkDone);
    t.tryClaim(start);
    t.tryClaim(start.toBuilder().phase(ShotRenderState.Phase.DONE).build());
    assertDoesNotThrow(t::checkDone);
    assertThat(t.trySplit(0), nullValue());
    assertThat(t.tryClaim(start), is(false));
  }

  @Test
  void theRestrictionCoderRoundTripsTheState() throws Exception {
    ShotRenderState polling =
        ShotRenderState.start(TASK).toBuilder()
            .phase(ShotRenderState.Phase.POLL)
            .setOperation("task-9")
            .setPolls(3)
            .build();
    ShotRestriction back = CoderUtils.clone(ShotRestriction.coder(), ShotRestriction.of(polling));
    assertThat(back.state(), equalTo(polling));
    assertThat(
        CoderUtils.clone(ShotRestriction.coder(), ShotRestriction.done()).isDone(), is(true));
  }
}
