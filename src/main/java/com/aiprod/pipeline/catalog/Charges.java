package com.aiprod.pipeline.catalog;

import com.aiprod.pipeline.model.JobState;
import java.util.List;
import java.util.Objects;

/**
 * What a tenant is charged for a job (DESIGN §5 "Charging"). Pure functions, no I/O.
 *
 * <p>The charge is the list price ({@code usd_per_second} of {@link PricingTable}) × planned
 * seconds of each shot delivered, by the backend that delivered it: for {@code DELIVERED} and
 * {@code NEEDS_REVIEW} the shots in {@code final.mp4}, for {@code CANCELLED} the shots already
 * rendered. {@code FAILED}, {@code REJECTED} and {@code ESTIMATED} are charged $0. What providers
 * billed (every attempt, delivered or not) is a separate amount ({@code provider_cost_usd}).
 *
 * <p>A backend the table does not know is priced $0: nothing is charged that cannot be priced.
 * Amounts are summed in whole micro-dollars ({@link Money}).
 */
public final class Charges {
  private Charges() {}

  /**
   * One shot the tenant received.
   *
   * @param backend id of the backend whose clip is in the output
   * @param seconds the shot's planned length
   */
  public record DeliveredShot(String backend, double seconds) {
    public DeliveredShot {
      Objects.requireNonNull(backend, "backend");
      if (!Double.isFinite(seconds) || seconds < 0) {
        throw new IllegalArgumentException("shot seconds must be finite and ≥ 0, got " + seconds);
      }
    }
  }

  /** Σ usd_per_second(backend) × seconds over {@code shots}, in whole micro-dollars. */
  public static double listPriceUsd(PricingTable pricing, List<DeliveredShot> shots) {
    long micros = 0;
    for (DeliveredShot s : shots) {
      double perSecond =
          pricing.find(s.backend()).map(PricingTable.Backend::usdPerSecond).orElse(0.0);
      micros += Money.micros(perSecond * s.seconds());
    }
    return micros / 1_000_000d;
  }

  /**
   * The charge of a job in {@code state} whose delivered shots are listed at {@code
   * deliveredListPriceUsd} ({@link #listPriceUsd}): that amount for {@code DELIVERED}, {@code
   * NEEDS_REVIEW}, {@code CANCELLED} and for a job still under way (what it would be charged if
   * delivered now); $0 for {@code FAILED}, {@code REJECTED} and {@code ESTIMATED}.
   */
  public static double chargeUsd(JobState state, double deliveredListPriceUsd) {
    Objects.requireNonNull(state, "state");
    if (!Double.isFinite(deliveredListPriceUsd) || deliveredListPriceUsd < 0) {
      throw new IllegalArgumentException(
          "a list price must be finite and ≥ 0, got " + deliveredListPriceUsd);
    }
    return switch (state) {
      case FAILED, REJECTED, ESTIMATED -> 0.0;
      default -> Money.roundMicros(deliveredListPriceUsd);
    };
  }

  /** {@link #chargeUsd(JobState, double)} of the shots {@code delivered}. */
  public static double chargeUsd(
      JobState state, PricingTable pricing, List<DeliveredShot> delivered) {
    return chargeUsd(state, listPriceUsd(pricing, delivered));
  }
}
