package com.aiprod.pipeline.catalog;

import com.aiprod.pipeline.kernel.Refusal;
import com.aiprod.pipeline.model.ReasonCode;
import java.io.Serializable;
import java.util.List;
import javax.annotation.Nullable;

/**
 * The outcome of {@link Router#route}: the chosen backend and its clip grid and estimate, the
 * ordered fallback candidates, every priced option, and — when nothing fits — a reason code ({@link
 * ReasonCode#BUDGET_EXCEEDED} or {@link ReasonCode#NO_BACKEND_AVAILABLE}) with a message that says
 * what to fix.
 *
 * <p>For {@code mode=estimate} a reason never refuses the job (it ends {@code ESTIMATED}); it
 * records why a final render of the same request would be refused. {@link #refusal()} is therefore
 * null for every estimate.
 *
 * @param mode the request's mode
 * @param backend the chosen backend, null when none fits
 * @param clipSeconds clip length of the chosen route; 0 when none (a plan needs a route)
 * @param shots shots of the chosen route (0 when none)
 * @param renderedSeconds seconds the chosen route renders and bills (0 when none)
 * @param estimateUsd cost of the chosen route, 0 when none. Exception: an estimate refused for
 *     budget keeps the cost and clip grid (clipSeconds, shots, renderedSeconds) of the cheapest
 *     route meeting the quality floor, so it can still be planned and shows what the budget would
 *     have to be
 * @param candidates the fallback order for a final: the chosen backend first, then every other
 *     eligible one (configured, healthy, ≥ floor, within budget), best first; a forced backend has
 *     no fallback. For an estimate: the routes a final could take, ignoring configuration.
 * @param quotes every option priced for this decision, best first (estimate: every non-preview
 *     backend of the pricing table; final: the configured non-preview backends; preview: the
 *     preview backend)
 * @param reasonCode why nothing fits, else null
 * @param message what to fix, else null
 */
public record RouteDecision(
    String mode,
    @Nullable String backend,
    double clipSeconds,
    int shots,
    double renderedSeconds,
    double estimateUsd,
    List<RouteOption> candidates,
    List<RouteOption> quotes,
    @Nullable ReasonCode reasonCode,
    @Nullable String message)
    implements Serializable {

  public RouteDecision {
    candidates = List.copyOf(candidates);
    quotes = List.copyOf(quotes);
  }

  /** Whether a backend was chosen. */
  public boolean routed() {
    return backend != null;
  }

  /** The refusal to record for a final or preview that cannot be routed; null otherwise. */
  public @Nullable Refusal refusal() {
    if (reasonCode == null || PricingTable.MODE_ESTIMATE.equals(mode)) {
      return null;
    }
    return new Refusal(reasonCode, message == null ? reasonCode.name() : message);
  }
}
