package com.aiprod.pipeline.decide;

import com.aiprod.pipeline.catalog.Money;
import com.aiprod.pipeline.model.JobState;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import javax.annotation.Nullable;

/**
 * The final decision of DESIGN §6: technical &lt; 0.8 or semantic &lt; 0.4 → {@code REJECTED}; else
 * semantic &lt; 0.7 or cost &gt; 1.2 × budget → {@code NEEDS_REVIEW}; else {@code DELIVERED}.
 *
 * <p>Decisions where DESIGN is silent: thresholds are inclusive on the passing side (technical
 * exactly 0.8 passes, semantic exactly 0.4 is not rejected, exactly 0.7 is delivered, a cost of
 * exactly 1.2 × budget is delivered). Scores are compared with a 1e-9 tolerance and money in whole
 * micro-dollars, so floating-point noise (0.3 + 0.3 + 0.1 = 0.7000000000000001, 1.2 × 1.5 =
 * 1.7999999999999998) never flips an outcome at a boundary. The reason names every threshold of the
 * deciding level that was missed, with the numbers. Scores outside [0, 1], NaN, negative costs and
 * budgets ≤ 0 are programming errors ({@link IllegalArgumentException}).
 */
public final class DecisionRules {
  public static final double MIN_TECHNICAL = 0.8;
  public static final double MIN_SEMANTIC_REJECT = 0.4;
  public static final double MIN_SEMANTIC_DELIVER = 0.7;
  public static final double MAX_COST_RATIO = 1.2;

  private static final double EPSILON = 1e-9;

  private DecisionRules() {}

  /**
   * A terminal state and, for {@code REJECTED} and {@code NEEDS_REVIEW}, why.
   *
   * @param state {@link JobState#DELIVERED}, {@link JobState#NEEDS_REVIEW} or {@link
   *     JobState#REJECTED}
   * @param reason which thresholds were missed, with the numbers; null when delivered
   */
  public record Decision(JobState state, @Nullable String reason) implements Serializable {
    public Decision {
      Objects.requireNonNull(state, "state");
    }
  }

  /**
   * Decides a rendered job.
   *
   * @param technical technical QA score in [0, 1]
   * @param semantic semantic QA score in [0, 1]
   * @param costUsd the charge: list price of the shots in the job's {@code final.mp4}
   * @param budgetUsd the request's budget (&gt; 0)
   */
  public static Decision decide(
      double technical, double semantic, double costUsd, double budgetUsd) {
    requireScore("technical", technical);
    requireScore("semantic", semantic);
    if (!Double.isFinite(costUsd) || costUsd < 0) {
      throw new IllegalArgumentException("cost must be finite and ≥ 0, got " + costUsd);
    }
    if (!Double.isFinite(budgetUsd) || budgetUsd <= 0) {
      throw new IllegalArgumentException("budget must be finite and > 0, got " + budgetUsd);
    }
    List<String> reject = new ArrayList<>();
    if (below(technical, MIN_TECHNICAL)) {
      reject.add(
          "technical score " + Money.decimal(technical) + " < " + Money.decimal(MIN_TECHNICAL));
    }
    if (below(semantic, MIN_SEMANTIC_REJECT)) {
      reject.add(
          "semantic score " + Money.decimal(semantic) + " < " + Money.decimal(MIN_SEMANTIC_REJECT));
    }
    if (!reject.isEmpty()) {
      return new Decision(JobState.REJECTED, String.join("; ", reject));
    }
    List<String> review = new ArrayList<>();
    if (below(semantic, MIN_SEMANTIC_DELIVER)) {
      review.add(
          "semantic score "
              + Money.decimal(semantic)
              + " < "
              + Money.decimal(MIN_SEMANTIC_DELIVER));
    }
    double limit = MAX_COST_RATIO * budgetUsd;
    if (Money.exceeds(costUsd, limit)) {
      review.add(
          "cost "
              + Money.format(costUsd)
              + " > 1.2 × budget "
              + Money.format(budgetUsd)
              + " = "
              + Money.format(limit));
    }
    if (!review.isEmpty()) {
      return new Decision(JobState.NEEDS_REVIEW, String.join("; ", review));
    }
    return new Decision(JobState.DELIVERED, null);
  }

  /**
   * Decides a rendered job whose semantic QA could not run (Gemini configured but failing): the
   * technical threshold still rejects; otherwise NEEDS_REVIEW, because nothing vouches for the
   * video's content. {@code why} says why semantic QA did not run; an excessive cost is added.
   */
  public static Decision decideWithoutSemantic(
      double technical, double costUsd, double budgetUsd, String why) {
    requireScore("technical", technical);
    if (!Double.isFinite(costUsd) || costUsd < 0) {
      throw new IllegalArgumentException("cost must be finite and ≥ 0, got " + costUsd);
    }
    if (!Double.isFinite(budgetUsd) || budgetUsd <= 0) {
      throw new IllegalArgumentException("budget must be finite and > 0, got " + budgetUsd);
    }
    if (below(technical, MIN_TECHNICAL)) {
      return new Decision(
          JobState.REJECTED,
          "technical score "
              + Money.decimal(technical)
              + " < "
              + Money.decimal(MIN_TECHNICAL)
              + "; "
              + why);
    }
    List<String> review = new ArrayList<>();
    review.add(why);
    double limit = MAX_COST_RATIO * budgetUsd;
    if (Money.exceeds(costUsd, limit)) {
      review.add(
          "cost "
              + Money.format(costUsd)
              + " > 1.2 × budget "
              + Money.format(budgetUsd)
              + " = "
              + Money.format(limit));
    }
    return new Decision(JobState.NEEDS_REVIEW, String.join("; ", review));
  }

  private static boolean below(double score, double threshold) {
    return score < threshold - EPSILON;
  }

  private static void requireScore(String name, double x) {
    if (!(x >= 0 && x <= 1)) {
      throw new IllegalArgumentException(name + " score must be in [0, 1], got " + x);
    }
  }
}
