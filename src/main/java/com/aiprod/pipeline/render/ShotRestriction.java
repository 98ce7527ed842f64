package com.aiprod.pipeline.render;

import javax.annotation.Nullable;
import org.apache.beam.sdk.transforms.splittabledofn.RestrictionTracker;
import org.apache.beam.sdk.transforms.splittabledofn.SplitResult;

/**
 * The restriction of a shot in the batch render stage: where its rendering stands (a {@link
 * ShotRenderState}), or nothing left to do. The render DoFn is splittable only to give the thread
 * back between steps: after a step it claims the next state and asks to be resumed at the state's
 * wake time; the runner checkpoints (the residual carries the state) and calls it again later, so
 * no thread waits for a provider.
 */
public final class ShotRestriction {

  private final @Nullable ShotRenderState state;

  private ShotRestriction(@Nullable ShotRenderState state) {
    this.state = state;
  }

  public static ShotRestriction of(ShotRenderState state) {
    return new ShotRestriction(state);
  }

  /** Nothing left to do (the primary of a checkpoint, or a settled shot). */
  public static ShotRestriction done() {
    return new ShotRestriction(null);
  }

  public @Nullable ShotRenderState state() {
    return state;
  }

  /** The state's Beam schema coder, null for a done restriction. */
  public static org.apache.beam.sdk.coders.Coder<ShotRestriction> coder() {
    return org.apache.beam.sdk.coders.DelegateCoder.of(
        org.apache.beam.sdk.coders.NullableCoder.of(
            com.aiprod.pipeline.kernel.Coders.schema(ShotRenderState.class)),
        ShotRestriction::state,
        ShotRestriction::new);
  }

  public boolean isDone() {
    return state == null || state.phase() == ShotRenderState.Phase.DONE;
  }

  /**
   * Tracks one shot's steps. A step is claimed twice: {@code tryClaim(current)} opens it (no
   * checkpoint may take the shot away while its calls are under way: a residual of the state before
   * the step would submit again), {@code tryClaim(next)} records its outcome. A checkpoint between
   * steps hands the current state over as the residual.
   */
  public static final class Tracker extends RestrictionTracker<ShotRestriction, ShotRenderState>
      implements RestrictionTracker.HasProgress {
    private ShotRestriction current;
    private boolean checkpointed;
    private boolean inStep;

    public Tracker(ShotRestriction restriction) {
      this.current = restriction;
    }

    @Override
    public synchronized boolean tryClaim(ShotRenderState state) {
      if (!inStep) {
        if (checkpointed || current.isDone()) {
          return false;
        }
        inStep = true; // the step on the current state begins
        return true;
      }
      current = of(state);
      inStep = false;
      return true;
    }

    @Override
    public synchronized ShotRestriction currentRestriction() {
      return current;
    }

    @Override
    public synchronized @Nullable SplitResult<ShotRestriction> trySplit(
        double fractionOfRemainder) {
      if (fractionOfRemainder != 0 || inStep || checkpointed || current.isDone()) {
        return null; // only checkpoints: a shot is one piece of work
      }
      ShotRestriction residual = current;
      current = done();
      checkpointed = true;
      return SplitResult.of(current, residual);
    }

    @Override
    public void checkDone() {
      if (!current.isDone()) {
        throw new IllegalStateException(
            "the shot's rendering stopped at " + current.state().getPhase());
      }
    }

    @Override
    public IsBounded isBounded() {
      return IsBounded.BOUNDED;
    }

    @Override
    public Progress getProgress() {
      return current.isDone() ? Progress.from(1, 0) : Progress.from(0, 1);
    }
  }
}
