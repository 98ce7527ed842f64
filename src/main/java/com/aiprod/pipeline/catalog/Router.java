package com.aiprod.pipeline.catalog;

import com.aiprod.pipeline.model.JobRequest;
import com.aiprod.pipeline.model.Preset;
import com.aiprod.pipeline.model.ReasonCode;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import javax.annotation.Nullable;

/**
 * Price and route (DESIGN §5): picks the backend of a job and prices it.
 *
 * <p><b>Estimate.</b> {@code usd_per_second × rendered seconds}, where rendered seconds are the
 * whole clips of the backend's clip grid covering {@code duration_sec} ({@link ShotGrid}: 30 s on 8
 * s clips = 4 shots = 32 s), rounded to micro-dollars.
 *
 * <p><b>Ranking.</b> Highest prior quality first; ties: cheaper estimate; then backend id, so the
 * order is total and deterministic.
 *
 * <p><b>mode=final.</b> Among configured, healthy, final-rendering backends with prior quality ≥
 * the preset's floor and estimate ≤ budget, the best-ranked is chosen; the others follow it as
 * fallback candidates. When none fits:
 *
 * <ul>
 *   <li>{@code BUDGET_EXCEEDED} when some configured backend meets the floor but every such backend
 *       costs more than the budget (healthy or not: the budget is the lasting problem); the message
 *       names the cheapest and the budget to set.
 *   <li>{@code NO_BACKEND_AVAILABLE} otherwise: no configured backend renders finals (e.g. the
 *       default {@code --renderBackends=preview}), none meets the floor, or those that would fit
 *       are all unhealthy.
 * </ul>
 *
 * <p><b>Forced backend</b> ({@code backend} field). Decision: it must be configured, healthy, able
 * to render the mode, meet the preset's quality floor (a preset is a quality promise; the validator
 * already rejects a forced backend below the floor as a schema violation, the router re-checks it)
 * and fit the budget. It gets no fallback candidates: the user chose it.
 *
 * <p><b>mode=preview.</b> Always the {@code preview} backend at $0 with {@value
 * ShotGrid#PREVIEW_CLIP_SECONDS} s shots. Decision: only if {@code preview} is configured (it is by
 * default) and healthy; a pipeline configured without it refuses previews with {@code
 * NO_BACKEND_AVAILABLE}, so operators can keep the CPU-bound encoder off production workers.
 *
 * <p><b>mode=estimate.</b> A quote: every final-rendering backend of the pricing table is priced,
 * configured or not and regardless of health (a quote must not flap with a circuit breaker), and
 * the route a final render would take among them (same floor, budget and ranking rules) is recorded
 * with its cost. An estimate is never refused: when no route fits it records the reason a final
 * would be refused ({@code BUDGET_EXCEEDED} or {@code NO_BACKEND_AVAILABLE}), no backend, and as
 * {@code estimateUsd} the cheapest route meeting the floor (what the budget would need to be), or 0
 * when no backend meets the floor.
 */
public final class Router implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The id of the local animatic backend. */
  public static final String PREVIEW = "preview";

  private static final double QUALITY_EPSILON = 1e-9;

  /** Highest quality, then cheaper, then id. */
  public static final Comparator<RouteOption> RANKING =
      Comparator.<RouteOption>comparingDouble(
              o -> o.priorQuality() == null ? Double.NEGATIVE_INFINITY : -o.priorQuality())
          .thenComparingLong(o -> Money.micros(o.estimateUsd()))
          .thenComparing(RouteOption::backend);

  private final PricingTable pricing;

  public Router(PricingTable pricing) {
    this.pricing = Objects.requireNonNull(pricing, "pricing");
  }

  public PricingTable pricing() {
    return pricing;
  }

  /**
   * Routes {@code req}.
   *
   * @param configuredBackends ids from {@code --renderBackends}
   * @param unhealthyBackends ids currently skipped by the circuit breaker (empty when unknown)
   */
  public RouteDecision route(
      JobRequest req, Collection<String> configuredBackends, Set<String> unhealthyBackends) {
    Objects.requireNonNull(req, "req");
    Set<String> configured = Set.copyOf(configuredBackends);
    Set<String> unhealthy = Set.copyOf(unhealthyBackends);
    switch (req.getMode()) {
      case PricingTable.MODE_PREVIEW:
        return routePreview(req, configured, unhealthy);
      case PricingTable.MODE_FINAL:
      case PricingTable.MODE_ESTIMATE:
        return routeFinal(req, configured, unhealthy);
      default:
        throw new IllegalArgumentException("unknown mode " + req.getMode());
    }
  }

  /** Prices {@code backend} for a final of {@code req}: clip grid, estimate, rule checks. */
  public RouteOption price(
      PricingTable.Backend backend, JobRequest req, Set<String> configured, Set<String> unhealthy) {
    int clip = ShotGrid.chooseClipSeconds(backend, req.getDurationSec());
    int shots = ShotGrid.shotCount(req.getDurationSec(), clip);
    double rendered = ShotGrid.renderedSeconds(req.getDurationSec(), clip);
    double estimate = Money.roundMicros(backend.usdPerSecond() * rendered);
    Double quality = backend.priorQuality();
    boolean meetsFloor =
        quality != null && quality >= req.presetValue().qualityFloor() - QUALITY_EPSILON;
    boolean withinBudget = !Money.exceeds(estimate, req.getBudgetUsd());
    return new RouteOption(
        backend.id(),
        backend.api(),
        quality,
        clip,
        shots,
        rendered,
        estimate,
        meetsFloor,
        withinBudget,
        configured.contains(backend.id()),
        !unhealthy.contains(backend.id()));
  }

  private RouteDecision routePreview(
      JobRequest req, Set<String> configured, Set<String> unhealthy) {
    String mode = req.getMode();
    if (req.getBackend() != null && !PREVIEW.equals(req.getBackend())) {
      return refuse(
          mode,
          List.of(),
          ReasonCode.NO_BACKEND_AVAILABLE,
          "backend "
              + req.getBackend()
              + " cannot render mode=preview (previews always use the"
              + " local preview backend); drop the backend field or use mode=final");
    }
    Optional<PricingTable.Backend> preview = pricing.find(PREVIEW);
    if (preview.isEmpty() || !preview.get().supportsMode(PricingTable.MODE_PREVIEW)) {
      return refuse(
          mode,
          List.of(),
          ReasonCode.NO_BACKEND_AVAILABLE,
          "previews are not available: the pricing table "
              + pricing.source()
              + " has no preview backend; use mode=final or mode=estimate");
    }
    int clip = ShotGrid.PREVIEW_CLIP_SECONDS;
    int shots = ShotGrid.shotCount(req.getDurationSec(), clip);
    double estimate = Money.roundMicros(preview.get().usdPerSecond() * req.getDurationSec());
    RouteOption option =
        new RouteOption(
            PREVIEW,
            preview.get().api(),
            null,
            clip,
            shots,
            req.getDurationSec(),
            estimate,
            true,
            !Money.exceeds(estimate, req.getBudgetUsd()),
            configured.contains(PREVIEW),
            !unhealthy.contains(PREVIEW));
    if (!option.configured()) {
      return refuse(
          mode,
          List.of(option),
          ReasonCode.NO_BACKEND_AVAILABLE,
          "previews are disabled on this pipeline (--renderBackends="
              + String.join(",", sortedIds(configured))
              + " does not include preview); use mode=final or"
              + " mode=estimate");
    }
    if (!option.healthy()) {
      return refuse(
          mode,
          List.of(option),
          ReasonCode.NO_BACKEND_AVAILABLE,
          "the preview renderer is temporarily unavailable; retry in a minute");
    }
    if (!option.withinBudget()) {
      return refuse(
          mode,
          List.of(option),
          ReasonCode.BUDGET_EXCEEDED,
          "a preview costs "
              + Money.format(estimate)
              + ", over budget_usd "
              + Money.format(req.getBudgetUsd())
              + "; raise budget_usd");
    }
    return new RouteDecision(
        mode,
        PREVIEW,
        clip,
        shots,
        req.getDurationSec(),
        estimate,
        List.of(option),
        List.of(option),
        null,
        null);
  }

  private RouteDecision routeFinal(JobRequest req, Set<String> configured, Set<String> unhealthy) {
    String mode = req.getMode();
    boolean quote = PricingTable.MODE_ESTIMATE.equals(mode);
    Preset preset = req.presetValue();
    List<RouteOption> priced = new ArrayList<>();
    for (PricingTable.Backend b : pricing.backends()) {
      if (b.isFinalRenderer()
          && (quote ? b.supportsMode(PricingTable.MODE_ESTIMATE) : configured.contains(b.id()))) {
        priced.add(price(b, req, configured, unhealthy));
      }
    }
    priced.sort(RANKING);
    if (req.getBackend() != null) {
      return routeForced(req, priced, configured, unhealthy);
    }
    // An estimate ranks every backend as if configured and healthy.
    List<RouteOption> candidates =
        priced.stream()
            .filter(
                o ->
                    o.meetsFloor()
                        && o.withinBudget()
                        && (quote || (o.configured() && o.healthy())))
            .collect(Collectors.toList());
    if (!candidates.isEmpty()) {
      RouteOption best = candidates.get(0);
      return new RouteDecision(
          mode,
          best.backend(),
          best.clipSeconds(),
          best.shots(),
          best.renderedSeconds(),
          best.estimateUsd(),
          candidates,
          priced,
          null,
          null);
    }
    String floor = Money.decimal(preset.qualityFloor());
    List<RouteOption> meetFloor =
        priced.stream().filter(RouteOption::meetsFloor).collect(Collectors.toList());
    boolean allOverBudget =
        !meetFloor.isEmpty() && meetFloor.stream().noneMatch(RouteOption::withinBudget);
    String would = quote ? "a final render would be refused: " : "";
    if (allOverBudget) {
      RouteOption cheapest =
          meetFloor.stream()
              .min(
                  Comparator.comparingLong((RouteOption o) -> Money.micros(o.estimateUsd()))
                      .thenComparing(RANKING))
              .orElseThrow();
      String msg =
          would
              + "budget_usd "
              + Money.format(req.getBudgetUsd())
              + " is below the"
              + " cheapest "
              + (quote ? "" : "configured ")
              + "backend meeting "
              + preset.id()
              + "'s quality floor "
              + floor
              + ": "
              + cheapest.describe()
              + " for "
              + req.getDurationSec()
              + " s; raise budget_usd to at least "
              + Money.format(cheapest.estimateUsd())
              + " or shorten duration_sec";
      return overBudget(mode, quote ? cheapest : null, priced, msg);
    }
    return new RouteDecision(
        mode,
        null,
        0,
        0,
        0,
        0,
        List.of(),
        priced,
        ReasonCode.NO_BACKEND_AVAILABLE,
        would + noBackendMessage(req, priced, configured));
  }

  private String noBackendMessage(
      JobRequest req, List<RouteOption> priced, Set<String> configured) {
    Preset preset = req.presetValue();
    String floor = Money.decimal(preset.qualityFloor());
    List<String> able =
        pricing.backends().stream()
            .filter(
                b ->
                    b.isFinalRenderer()
                        && b.priorQuality() != null
                        && b.priorQuality() >= preset.qualityFloor() - QUALITY_EPSILON)
            .map(PricingTable.Backend::id)
            .collect(Collectors.toList());
    if (priced.isEmpty()) {
      return "no backend on this pipeline renders finals (--renderBackends="
          + String.join(",", sortedIds(configured))
          + "); use mode=preview or mode=estimate"
          + (able.isEmpty()
              ? ""
              : ", or ask the operator to configure one of " + String.join(", ", able));
    }
    List<String> why = new ArrayList<>();
    for (RouteOption o : priced) {
      if (!o.meetsFloor()) {
        why.add(o.backend() + " quality " + Money.decimal(o.priorQuality()) + " < " + floor);
      } else if (!o.healthy()) {
        why.add(o.backend() + " temporarily unavailable");
      } else if (!o.configured()) {
        why.add(o.backend() + " not configured");
      }
    }
    boolean transientOnly = priced.stream().anyMatch(o -> o.meetsFloor() && o.withinBudget());
    return "no backend can render "
        + preset.id()
        + " (quality floor "
        + floor
        + ") now: "
        + String.join("; ", why)
        + (transientOnly
            ? "; retry later"
            : "; choose a preset with a lower floor"
                + (able.isEmpty()
                    ? ""
                    : " or ask the operator to configure one of " + String.join(", ", able)));
  }

  private RouteDecision routeForced(
      JobRequest req, List<RouteOption> priced, Set<String> configured, Set<String> unhealthy) {
    String mode = req.getMode();
    boolean quote = PricingTable.MODE_ESTIMATE.equals(mode);
    String would = quote ? "a final render would be refused: " : "";
    String id = req.getBackend();
    Optional<PricingTable.Backend> b = pricing.find(id);
    if (b.isEmpty()) {
      return refuse(
          mode,
          priced,
          ReasonCode.NO_BACKEND_AVAILABLE,
          would
              + "backend "
              + id
              + " is not in the pricing table; use one of "
              + String.join(", ", pricing.ids()));
    }
    if (!b.get().isFinalRenderer()) {
      return refuse(
          mode,
          priced,
          ReasonCode.NO_BACKEND_AVAILABLE,
          would
              + "backend "
              + id
              + " cannot render mode=final; use mode=preview or drop the backend field");
    }
    RouteOption o = price(b.get(), req, configured, unhealthy);
    Preset preset = req.presetValue();
    if (!quote && !o.configured()) {
      return refuse(
          mode,
          priced,
          ReasonCode.NO_BACKEND_AVAILABLE,
          "backend "
              + id
              + " is not configured on this pipeline (--renderBackends="
              + String.join(",", sortedIds(configured))
              + "); drop the backend field or use mode=estimate");
    }
    if (!quote && !o.healthy()) {
      return refuse(
          mode,
          priced,
          ReasonCode.NO_BACKEND_AVAILABLE,
          "backend " + id + " is temporarily unavailable; retry later or drop the backend field");
    }
    if (!o.meetsFloor()) {
      return refuse(
          mode,
          priced,
          ReasonCode.NO_BACKEND_AVAILABLE,
          would
              + "backend "
              + id
              + " (quality "
              + Money.decimal(o.priorQuality())
              + ") is below "
              + preset.id()
              + "'s quality floor "
              + Money.decimal(preset.qualityFloor())
              + "; choose a preset with a lower floor or another backend");
    }
    if (!o.withinBudget()) {
      String msg =
          would
              + "backend "
              + id
              + " costs "
              + Money.format(o.estimateUsd())
              + " ("
              + o.shots()
              + " × "
              + Money.decimal(o.clipSeconds())
              + " s) for "
              + req.getDurationSec()
              + " s, over budget_usd "
              + Money.format(req.getBudgetUsd())
              + "; raise budget_usd to at"
              + " least "
              + Money.format(o.estimateUsd())
              + ", shorten duration_sec or drop the"
              + " backend field";
      return overBudget(mode, quote ? o : null, priced, msg);
    }
    return new RouteDecision(
        mode,
        o.backend(),
        o.clipSeconds(),
        o.shots(),
        o.renderedSeconds(),
        o.estimateUsd(),
        List.of(o),
        priced,
        null,
        null);
  }

  /**
   * A {@code BUDGET_EXCEEDED} outcome; an estimate ({@code quoted} non-null) keeps the grid and
   * cost of the cheapest route meeting the floor, so the job can still be planned and shows what
   * the budget would need to be.
   */
  private static RouteDecision overBudget(
      String mode, @Nullable RouteOption quoted, List<RouteOption> priced, String msg) {
    if (quoted == null) {
      return refuse(mode, priced, ReasonCode.BUDGET_EXCEEDED, msg);
    }
    return new RouteDecision(
        mode,
        null,
        quoted.clipSeconds(),
        quoted.shots(),
        quoted.renderedSeconds(),
        quoted.estimateUsd(),
        List.of(),
        priced,
        ReasonCode.BUDGET_EXCEEDED,
        msg);
  }

  private static RouteDecision refuse(
      String mode, List<RouteOption> quotes, ReasonCode code, String message) {
    return new RouteDecision(mode, null, 0, 0, 0, 0, List.of(), quotes, code, message);
  }

  private static List<String> sortedIds(Set<String> ids) {
    return ids.stream().sorted().collect(Collectors.toList());
  }

  /** Convenience: {@link #route} with no unhealthy backends. */
  public RouteDecision route(JobRequest req, Collection<String> configuredBackends) {
    return route(req, configuredBackends, Set.of());
  }

  /** Whether {@code id} names the preview backend. */
  public static boolean isPreview(@Nullable String id) {
    return PREVIEW.equals(id);
  }
}
