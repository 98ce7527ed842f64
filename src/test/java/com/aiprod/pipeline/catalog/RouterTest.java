package com.aiprod.pipeline.catalog;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;

import com.aiprod.pipeline.kernel.Refusal;
import com.aiprod.pipeline.model.JobRequest;
import com.aiprod.pipeline.model.ReasonCode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.hamcrest.FeatureMatcher;
import org.hamcrest.Matcher;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class RouterTest {
  private static final List<String> ALL =
      List.of("preview", "replicate_wan", "runway_gen4_turbo", "veo3_fast", "veo3");
  private static final Router ROUTER = new Router(PricingTable.builtIn());

  private static JobRequest req(String preset, String mode, int duration, double budget) {
    return JobRequest.builder()
        .setContent("A red kite flies over the hills. The child laughs.")
        .setPreset(preset)
        .setMode(mode)
        .setPriority("normal")
        .setDurationSec(duration)
        .setBudgetUsd(budget)
        .build();
  }

  private static JobRequest forced(String preset, int duration, double budget, String backend) {
    return req(preset, "final", duration, budget).toBuilder().setBackend(backend).build();
  }

  private static List<String> ids(List<RouteOption> options) {
    return options.stream().map(RouteOption::backend).collect(Collectors.toList());
  }

  private static Matcher<RouteOption> isConfigured(boolean v) {
    return new FeatureMatcher<RouteOption, Boolean>(is(v), "configured", "configured") {
      @Override
      protected Boolean featureValueOf(RouteOption actual) {
        return actual.configured();
      }
    };
  }

  @Nested
  class Final {
    @Test
    void highestQualityWithinFloorAndBudget() {
      // quick_social 30 s at the default $1.50: replicate $0.60, runway 3 × 10 s = $1.50,
      // veo3_fast 4 × 8 s = $4.80, veo3 $12.80.
      RouteDecision d = ROUTER.route(req("quick_social", "final", 30, 1.5), ALL, Set.of());
      assertThat(d.backend(), equalTo("runway_gen4_turbo"));
      assertThat(d.estimateUsd(), equalTo(1.5));
      assertThat(d.clipSeconds(), equalTo(10.0));
      assertThat(d.shots(), equalTo(3));
      assertThat(d.renderedSeconds(), equalTo(30.0));
      assertThat(ids(d.candidates()), contains("runway_gen4_turbo", "replicate_wan"));
      assertThat(
          ids(d.quotes()), contains("veo3", "veo3_fast", "runway_gen4_turbo", "replicate_wan"));
      assertThat(d.reasonCode(), nullValue());
      assertThat(d.refusal(), nullValue());
      assertThat(d.routed(), is(true));
    }

    @Test
    void moreBudgetBuysMoreQuality() {
      RouteDecision fast = ROUTER.route(req("quick_social", "final", 30, 5), ALL, Set.of());
      assertThat(fast.backend(), equalTo("veo3_fast"));
      assertThat(fast.estimateUsd(), equalTo(4.8));
      assertThat(fast.shots(), equalTo(4));
      assertThat(fast.renderedSeconds(), equalTo(32.0));
      RouteDecision best = ROUTER.route(req("premium_spot", "final", 30, 12.8), ALL, Set.of());
      assertThat(best.backend(), equalTo("veo3"));
      assertThat(best.estimateUsd(), equalTo(12.8));
      assertThat(ids(best.candidates()), contains("veo3"));
    }

    @Test
    void qualityFloorExcludesCheapBackends() {
      RouteDecision d = ROUTER.route(req("brand_campaign", "final", 30, 3), ALL, Set.of());
      assertThat(d.backend(), equalTo("runway_gen4_turbo"));
      assertThat(ids(d.candidates()), contains("runway_gen4_turbo"));
    }

    @Test
    void tiesGoToTheCheaperBackend() {
      PricingTable t =
          PricingTable.parse(
              ("{\"as_of\": \"2026-11-01\", \"backends\": ["
                      + "{\"id\": \"pricey\", \"api\": \"a\", \"usd_per_second\": 0.2, \"prior_quality\": 0.9,"
                      + " \"clip_seconds\": [5]},"
                      + "{\"id\": \"cheap\", \"api\": \"b\", \"usd_per_second\": 0.1, \"prior_quality\": 0.9,"
                      + " \"clip_seconds\": [5]}]}")
                  .getBytes(UTF_8),
              "ties.json");
      RouteDecision d =
          new Router(t)
              .route(req("quick_social", "final", 30, 100), List.of("pricey", "cheap"), Set.of());
      assertThat(d.backend(), equalTo("cheap"));
      assertThat(ids(d.candidates()), contains("cheap", "pricey"));
    }

    @Test
    void budgetExceededWhenFloorIsMetButNothingIsAffordable() {
      // replicate_wan fits $1.00 but is below brand_campaign's floor 0.80.
      RouteDecision d = ROUTER.route(req("brand_campaign", "final", 30, 1.0), ALL, Set.of());
      assertThat(d.backend(), nullValue());
      assertThat(d.reasonCode(), equalTo(ReasonCode.BUDGET_EXCEEDED));
      assertThat(
          d.message(),
          allOf(
              containsString("budget_usd $1.00"),
              containsString("runway_gen4_turbo $1.50"),
              containsString("raise budget_usd to at least $1.50")));
      Refusal r = d.refusal();
      assertThat(r, notNullValue());
      assertThat(r.code(), equalTo(ReasonCode.BUDGET_EXCEEDED));
      assertThat(d.estimateUsd(), equalTo(0.0));
      assertThat(d.candidates(), empty());
    }

    @Test
    void budgetExceededEvenWhenTheAffordableOnesAreUnhealthy() {
      RouteDecision d = ROUTER.route(req("premium_spot", "final", 30, 5), ALL, Set.of("veo3"));
      assertThat(d.reasonCode(), equalTo(ReasonCode.BUDGET_EXCEEDED));
      assertThat(d.message(), containsString("veo3 $12.80"));
    }

    @Test
    void noBackendWhenOnlyPreviewIsConfigured() {
      RouteDecision d =
          ROUTER.route(req("quick_social", "final", 30, 1.5), List.of("preview"), Set.of());
      assertThat(d.reasonCode(), equalTo(ReasonCode.NO_BACKEND_AVAILABLE));
      assertThat(
          d.message(),
          allOf(
              containsString("--renderBackends=preview"),
              containsString("mode=preview or mode=estimate")));
      assertThat(d.refusal().code(), equalTo(ReasonCode.NO_BACKEND_AVAILABLE));
      assertThat(d.quotes(), empty());
    }

    @Test
    void noBackendWhenNoneMeetsTheFloorEvenIfAffordable() {
      RouteDecision d =
          ROUTER.route(
              req("brand_campaign", "final", 30, 100),
              List.of("replicate_wan", "preview"),
              Set.of());
      assertThat(d.reasonCode(), equalTo(ReasonCode.NO_BACKEND_AVAILABLE));
      assertThat(
          d.message(),
          allOf(
              containsString("replicate_wan quality 0.7 < 0.8"),
              containsString("runway_gen4_turbo, veo3_fast, veo3")));
    }

    @Test
    void unhealthyBackendsAreSkipped() {
      RouteDecision d = ROUTER.route(req("premium_spot", "final", 30, 100), ALL, Set.of("veo3"));
      assertThat(d.reasonCode(), equalTo(ReasonCode.NO_BACKEND_AVAILABLE));
      assertThat(
          d.message(),
          allOf(containsString("veo3 temporarily unavailable"), containsString("retry later")));
      RouteDecision fallback =
          ROUTER.route(req("quick_social", "final", 30, 100), ALL, Set.of("veo3"));
      assertThat(fallback.backend(), equalTo("veo3_fast"));
      assertThat(
          ids(fallback.candidates()), contains("veo3_fast", "runway_gen4_turbo", "replicate_wan"));
    }

    @Test
    void onlyConfiguredBackendsAreUsed() {
      RouteDecision d =
          ROUTER.route(req("quick_social", "final", 30, 100), List.of("replicate_wan"), Set.of());
      assertThat(d.backend(), equalTo("replicate_wan"));
      assertThat(d.estimateUsd(), equalTo(0.6));
      assertThat(ids(d.quotes()), contains("replicate_wan"));
    }
  }

  @Nested
  class Forced {
    @Test
    void forcedBackendWinsOverABetterOne() {
      RouteDecision d =
          ROUTER.route(forced("quick_social", 30, 100, "runway_gen4_turbo"), ALL, Set.of());
      assertThat(d.backend(), equalTo("runway_gen4_turbo"));
      assertThat(ids(d.candidates()), contains("runway_gen4_turbo"));
      assertThat(d.estimateUsd(), equalTo(1.5));
    }

    @Test
    void forcedBackendMustFitTheBudget() {
      RouteDecision d = ROUTER.route(forced("quick_social", 30, 1.5, "veo3"), ALL, Set.of());
      assertThat(d.reasonCode(), equalTo(ReasonCode.BUDGET_EXCEEDED));
      assertThat(
          d.message(),
          allOf(containsString("veo3 costs $12.80 (4 × 8 s)"), containsString("at least $12.80")));
    }

    @Test
    void forcedBackendMustBeConfiguredAndHealthy() {
      RouteDecision notConfigured =
          ROUTER.route(
              forced("quick_social", 30, 100, "veo3"), List.of("preview", "veo3_fast"), Set.of());
      assertThat(notConfigured.reasonCode(), equalTo(ReasonCode.NO_BACKEND_AVAILABLE));
      assertThat(notConfigured.message(), containsString("veo3 is not configured"));
      RouteDecision down =
          ROUTER.route(forced("quick_social", 30, 100, "veo3"), ALL, Set.of("veo3"));
      assertThat(down.reasonCode(), equalTo(ReasonCode.NO_BACKEND_AVAILABLE));
      assertThat(down.message(), containsString("temporarily unavailable"));
    }

    @Test
    void forcedBackendMustMeetTheFloor() {
      RouteDecision d =
          ROUTER.route(forced("brand_campaign", 30, 100, "replicate_wan"), ALL, Set.of());
      assertThat(d.reasonCode(), equalTo(ReasonCode.NO_BACKEND_AVAILABLE));
      assertThat(d.message(), containsString("below brand_campaign's quality floor 0.8"));
    }

    @Test
    void forcedPreviewCannotRenderAFinal() {
      RouteDecision d = ROUTER.route(forced("quick_social", 30, 100, "preview"), ALL, Set.of());
      assertThat(d.reasonCode(), equalTo(ReasonCode.NO_BACKEND_AVAILABLE));
    }
  }

  @Nested
  class Estimate {
    @Test
    void quotesEveryBackendEvenUnconfigured() {
      RouteDecision d =
          ROUTER.route(
              req("quick_social", "estimate", 30, 1.5),
              List.of("preview"),
              Set.of("runway_gen4_turbo"));
      assertThat(d.backend(), equalTo("runway_gen4_turbo"));
      assertThat(d.estimateUsd(), equalTo(1.5));
      assertThat(
          ids(d.quotes()), contains("veo3", "veo3_fast", "runway_gen4_turbo", "replicate_wan"));
      assertThat(d.quotes(), everyItem(isConfigured(false)));
      assertThat(d.quotes().get(0).estimateUsd(), equalTo(12.8));
      assertThat(d.quotes().get(1).estimateUsd(), equalTo(4.8));
      assertThat(d.quotes().get(3).estimateUsd(), equalTo(0.6));
      assertThat(ids(d.candidates()), contains("runway_gen4_turbo", "replicate_wan"));
      assertThat(d.refusal(), nullValue());
    }

    @Test
    void estimateThatFitsNoBudgetRecordsWhyAndTheCheapestRouteButNeverRefuses() {
      RouteDecision d =
          ROUTER.route(req("premium_spot", "estimate", 60, 2), List.of("preview"), Set.of());
      assertThat(d.backend(), nullValue());
      assertThat(d.reasonCode(), equalTo(ReasonCode.BUDGET_EXCEEDED));
      assertThat(
          d.message(),
          allOf(containsString("a final render would be refused"), containsString("veo3 $25.60")));
      assertThat(d.estimateUsd(), equalTo(25.6));
      assertThat(d.clipSeconds(), equalTo(8.0));
      assertThat(d.shots(), equalTo(8));
      assertThat(d.renderedSeconds(), equalTo(64.0));
      assertThat(d.refusal(), nullValue());
    }

    @Test
    void estimateWithoutAnyBackendMeetingTheFloorRecordsNoBackend() {
      PricingTable cheapOnly =
          PricingTable.parse(
              ("{\"as_of\": \"2026-11-01\", \"backends\": ["
                      + "{\"id\": \"low\", \"api\": \"a\", \"usd_per_second\": 0.01,"
                      + " \"prior_quality\": 0.5, \"clip_seconds\": [5]}]}")
                  .getBytes(UTF_8),
              "low.json");
      RouteDecision d =
          new Router(cheapOnly).route(req("quick_social", "estimate", 30, 10), List.of("low"));
      assertThat(d.reasonCode(), equalTo(ReasonCode.NO_BACKEND_AVAILABLE));
      assertThat(
          d.message(),
          allOf(
              containsString("a final render would be refused"),
              containsString("low quality 0.5 < 0.6")));
      assertThat(d.estimateUsd(), equalTo(0.0));
      assertThat(d.refusal(), nullValue());
    }

    @Test
    void forcedBackendOverBudgetIsQuotedWithItsCost() {
      JobRequest r =
          req("quick_social", "estimate", 30, 1.5).toBuilder().setBackend("veo3").build();
      RouteDecision d = ROUTER.route(r, List.of("preview"), Set.of());
      assertThat(d.backend(), nullValue());
      assertThat(d.reasonCode(), equalTo(ReasonCode.BUDGET_EXCEEDED));
      assertThat(d.estimateUsd(), equalTo(12.8));
      assertThat(d.shots(), equalTo(4));
      assertThat(d.refusal(), nullValue());
    }

    @Test
    void forcedBackendIsQuotedEvenIfNotConfigured() {
      JobRequest r = req("quick_social", "estimate", 30, 20).toBuilder().setBackend("veo3").build();
      RouteDecision d = ROUTER.route(r, List.of("preview"), Set.of());
      assertThat(d.backend(), equalTo("veo3"));
      assertThat(d.estimateUsd(), equalTo(12.8));
      assertThat(d.quotes(), hasSize(4));
    }
  }

  @Nested
  class Preview {
    @Test
    void previewIsFreeAndLocal() {
      RouteDecision d =
          ROUTER.route(req("quick_social", "preview", 12, 0.6), List.of("preview"), Set.of());
      assertThat(d.backend(), equalTo("preview"));
      assertThat(d.estimateUsd(), equalTo(0.0));
      assertThat(d.clipSeconds(), equalTo(5.0));
      assertThat(d.shots(), equalTo(3));
      assertThat(d.renderedSeconds(), equalTo(12.0));
      assertThat(ids(d.candidates()), contains("preview"));
    }

    @Test
    void previewNeedsThePreviewBackendConfigured() {
      RouteDecision d =
          ROUTER.route(req("quick_social", "preview", 30, 1.5), List.of("veo3"), Set.of());
      assertThat(d.reasonCode(), equalTo(ReasonCode.NO_BACKEND_AVAILABLE));
      assertThat(d.message(), containsString("previews are disabled"));
    }

    @Test
    void previewRefusesAForcedRenderBackend() {
      JobRequest r = req("quick_social", "preview", 30, 1.5).toBuilder().setBackend("veo3").build();
      assertThat(ROUTER.route(r, ALL).reasonCode(), equalTo(ReasonCode.NO_BACKEND_AVAILABLE));
    }
  }

  @Test
  void decisionIsSerializable() throws Exception {
    RouteDecision d = ROUTER.route(req("quick_social", "final", 30, 1.5), ALL, Set.of());
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(d);
      out.writeObject(ROUTER);
    }
    try (ObjectInputStream in =
        new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      assertThat(in.readObject(), equalTo(d));
      Router copy = (Router) in.readObject();
      assertThat(copy.route(req("quick_social", "final", 30, 1.5), ALL, Set.of()), equalTo(d));
    }
  }

  @Test
  void estimateIsPricePerSecondTimesRenderedSeconds() {
    RouteDecision d =
        ROUTER.route(req("quick_social", "final", 25, 100), List.of("runway_gen4_turbo"), Set.of());
    assertThat(d.clipSeconds(), equalTo(5.0));
    assertThat(d.shots(), equalTo(5));
    assertThat(d.estimateUsd(), closeTo(1.25, 1e-12));
  }
}
