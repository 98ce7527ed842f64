package com.aiprod.pipeline.model;

/**
 * Job states of DESIGN §7, in the order a job moves through them. A job document never moves to a
 * state of lower {@link #rank()}.
 */
public enum JobState {
  RECEIVED(0),
  PLANNED(1),
  RENDERING(2),
  QA(3),
  ESTIMATED(10),
  DELIVERED(10),
  NEEDS_REVIEW(10),
  REJECTED(10),
  FAILED(10),
  CANCELLED(10);

  private final int rank;

  JobState(int rank) {
    this.rank = rank;
  }

  public int rank() {
    return rank;
  }

  public boolean isTerminal() {
    return rank >= 10;
  }

  /** Whether a document in {@code this} state may be overwritten with {@code next}. */
  public boolean canMoveTo(JobState next) {
    return !isTerminal() && next.rank > rank;
  }
}
