package com.aiprod.pipeline.catalog;

import java.io.Serializable;
import javax.annotation.Nullable;

/**
 * One backend priced for one job: the clip grid it would use, what it would cost, and whether it
 * passes each routing rule of DESIGN §5.
 *
 * @param backend backend id
 * @param api the backend's client ({@code runway}, {@code vertex-veo}, ...)
 * @param priorQuality prior quality, null for the preview backend
 * @param clipSeconds clip length of each shot
 * @param shots number of shots
 * @param renderedSeconds seconds rendered and billed: {@code shots × clipSeconds} for finals
 * @param estimateUsd {@code usd_per_second × renderedSeconds}, rounded to micro-dollars
 * @param meetsFloor prior quality ≥ the preset's quality floor
 * @param withinBudget estimate ≤ the request's budget
 * @param configured listed in {@code --renderBackends}
 * @param healthy not skipped by the circuit breaker
 */
public record RouteOption(
    String backend,
    String api,
    @Nullable Double priorQuality,
    double clipSeconds,
    int shots,
    double renderedSeconds,
    double estimateUsd,
    boolean meetsFloor,
    boolean withinBudget,
    boolean configured,
    boolean healthy)
    implements Serializable {

  /** Whether a final render could take this route right now. */
  public boolean eligible() {
    return meetsFloor && withinBudget && configured && healthy;
  }

  /** {@code veo3 $12.80 (4 × 8 s, quality 0.93)}. */
  public String describe() {
    return backend
        + " "
        + Money.format(estimateUsd)
        + " ("
        + shots
        + " × "
        + Money.decimal(clipSeconds)
        + " s"
        + (priorQuality == null ? "" : ", quality " + Money.decimal(priorQuality))
        + ")";
  }
}
