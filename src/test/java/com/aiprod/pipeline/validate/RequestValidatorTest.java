package com.aiprod.pipeline.validate;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.aiprod.pipeline.catalog.PricingTable;
import com.aiprod.pipeline.model.JobRequest;
import com.aiprod.pipeline.model.ReasonCode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RequestValidatorTest {
  private static final PricingTable PRICING = PricingTable.builtIn();

  private static ValidationResult rv(byte[] body) {
    return RequestValidator.validate(body, PRICING);
  }

  private static ValidationResult rv(com.fasterxml.jackson.databind.JsonNode body) {
    return RequestValidator.validate(body, PRICING);
  }

  private static ValidationResult rv(byte[] body, PricingTable pricing) {
    return RequestValidator.validate(body, pricing);
  }

  private static final String SCRIPT = "A red kite flies over the hills. The child laughs.";
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private static ValidationResult validate(String json) {
    return rv(json.getBytes(UTF_8));
  }

  /** {"content": SCRIPT, <extra>}. */
  private static ValidationResult with(String extra) {
    return validate(
        "{\"content\": \"" + SCRIPT + "\"" + (extra.isEmpty() ? "" : ", " + extra) + "}");
  }

  /** A body with only {@code content}, JSON-encoded properly. */
  private static ValidationResult content(String content) {
    ObjectNode n = MAPPER.createObjectNode().put("content", content);
    return validate(n.toString());
  }

  private static List<String> fields(ValidationResult r) {
    return r.violations().stream().map(Violation::field).collect(Collectors.toList());
  }

  private static void assertOnly(ValidationResult r, String field, String... fragments) {
    assertThat(r.toString(), r.isValid(), is(false));
    assertThat(r.message(), fields(r), contains(field));
    for (String f : fragments) {
      assertThat(r.violations().get(0).message(), containsString(f));
    }
  }

  private static JobRequest ok(ValidationResult r) {
    assertThat(r.message(), r.isValid(), is(true));
    return r.request();
  }

  @Nested
  class Defaults {
    @Test
    void minimalBodyGetsEveryDefault() {
      JobRequest req = ok(with(""));
      assertThat(req.getContent(), equalTo(SCRIPT));
      assertThat(req.getPreset(), equalTo("quick_social"));
      assertThat(req.getMode(), equalTo("final"));
      assertThat(req.getPriority(), equalTo("low"));
      assertThat(req.getLang(), equalTo("en"));
      assertThat(req.getDurationSec(), equalTo(30));
      assertThat(req.getBudgetUsd(), closeTo(1.5, 1e-12));
      assertThat(req.getBrandId(), nullValue());
      assertThat(req.getStyle(), nullValue());
      assertThat(req.getMood(), nullValue());
      assertThat(req.getCameraStyle(), nullValue());
      assertThat(req.getColorPalette(), nullValue());
      assertThat(req.getAspectRatio(), equalTo("16:9"));
      assertThat(req.getFps(), equalTo(24));
      assertThat(req.getBackend(), nullValue());
    }

    @Test
    void budgetDefaultFollowsPresetAndDuration() {
      assertThat(ok(with("\"duration_sec\": 20")).getBudgetUsd(), closeTo(1.0, 1e-12));
      JobRequest brand = ok(with("\"preset\": \"brand_campaign\", \"duration_sec\": 90"));
      assertThat(brand.getBudgetUsd(), closeTo(18.0, 1e-12));
      assertThat(brand.getPriority(), equalTo("normal"));
      JobRequest premium = ok(with("\"preset\": \"premium_spot\""));
      assertThat(premium.getDurationSec(), equalTo(30));
      assertThat(premium.getBudgetUsd(), closeTo(15.0, 1e-12));
      assertThat(premium.getPriority(), equalTo("high"));
    }

    @Test
    void explicitValuesOverrideDefaults() {
      JobRequest req =
          ok(
              with(
                  "\"preset\": \"brand_campaign\", \"mode\": \"estimate\","
                      + " \"priority\": \"high\", \"lang\": \"fr\", \"duration_sec\": 120,"
                      + " \"budget_usd\": 7.25, \"brand_id\": \"Acme_01-x\", \"backend\": \"veo3\","
                      + " \"preferences\": {\"style\": \"  anime \", \"mood\": \"joyful\","
                      + " \"camera_style\": \"handheld\", \"color_palette\": \"pastel\","
                      + " \"aspect_ratio\": \"9:16\", \"fps\": 30}"));
      assertThat(req.getPreset(), equalTo("brand_campaign"));
      assertThat(req.getMode(), equalTo("estimate"));
      assertThat(req.getPriority(), equalTo("high"));
      assertThat(req.getLang(), equalTo("fr"));
      assertThat(req.getDurationSec(), equalTo(120));
      assertThat(req.getBudgetUsd(), equalTo(7.25));
      assertThat(req.getBrandId(), equalTo("Acme_01-x"));
      assertThat(req.getBackend(), equalTo("veo3"));
      assertThat(req.getStyle(), equalTo("anime"));
      assertThat(req.getMood(), equalTo("joyful"));
      assertThat(req.getCameraStyle(), equalTo("handheld"));
      assertThat(req.getColorPalette(), equalTo("pastel"));
      assertThat(req.getAspectRatio(), equalTo("9:16"));
      assertThat(req.getFps(), equalTo(30));
    }

    @Test
    void nullOptionalsMeanAbsent() {
      JobRequest req =
          ok(
              with(
                  "\"preset\": null, \"mode\": null, \"duration_sec\": null,"
                      + " \"budget_usd\": null, \"brand_id\": null, \"preferences\": null,"
                      + " \"backend\": null"));
      assertThat(req.getPreset(), equalTo("quick_social"));
      assertThat(req.getDurationSec(), equalTo(30));
      assertThat(req.getBudgetUsd(), closeTo(1.5, 1e-12));
      ok(with("\"preferences\": {\"style\": null, \"fps\": null}"));
    }

    @Test
    void bigDecimalTreesFollowTheSameTypeRules() throws Exception {
      ObjectMapper decimals =
          new ObjectMapper()
              .enable(
                  com.fasterxml.jackson.databind.DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
      ValidationResult r =
          rv(
              decimals.readTree(
                  "{\"content\": \""
                      + SCRIPT
                      + "\", \"duration_sec\": 30.0, \"budget_usd\": 2.5}"));
      assertOnly(r, "duration_sec", "JSON integer");
      JobRequest req =
          rv(decimals.readTree("{\"content\": \"" + SCRIPT + "\", \"budget_usd\": 2.5}")).request();
      assertThat(req.getBudgetUsd(), equalTo(2.5));
    }

    @Test
    void jsonNodeOverloadValidatesTheSameWay() throws Exception {
      JobRequest req =
          rv(MAPPER.readTree("{\"content\": \"" + SCRIPT + "\", \"duration_sec\": 10}")).request();
      assertThat(req.getDurationSec(), equalTo(10));
      assertThat(req.getBudgetUsd(), closeTo(0.5, 1e-12));
      assertThat(rv((com.fasterxml.jackson.databind.JsonNode) null).isValid(), is(false));
    }
  }

  @Nested
  class Body {
    @Test
    void notJsonIsAViolationNotAnException() {
      assertOnly(validate("not json"), "body", "not valid JSON", "line 1");
      assertOnly(validate("{\"content\": "), "body", "not valid JSON");
      assertOnly(rv(new byte[0]), "body", "empty");
      assertOnly(rv((byte[]) null), "body", "empty");
      assertOnly(rv(new byte[] {'{', '"', (byte) 0xff, '"', '}'}), "body", "not valid");
    }

    @Test
    void trailingContentIsRejected() {
      assertOnly(validate("{\"content\": \"" + SCRIPT + "\"} {}"), "body", "not valid JSON");
    }

    @ParameterizedTest
    @ValueSource(strings = {"[]", "\"text\"", "42", "true", "null"})
    void bodyMustBeAnObject(String json) {
      assertOnly(validate(json), "body", "must be a JSON object");
    }

    @Test
    void unknownFieldIsNamedWithAllowedFieldsAndASuggestion() {
      ValidationResult r = with("\"durationSec\": 30");
      assertOnly(
          r,
          "durationSec",
          "unknown field",
          "did you mean duration_sec?",
          "allowed: content, preset, mode, priority, lang, duration_sec, budget_usd, brand_id,"
              + " preferences, backend");
      assertOnly(with("\"colour\": \"red\""), "colour", "unknown field");
      assertThat(with("\"colour\": \"red\"").message(), not(containsString("did you mean")));
    }

    @Test
    void duplicateKeyIsAViolationAndOtherFieldsAreStillChecked() {
      ValidationResult r =
          validate(
              "{\"content\": \""
                  + SCRIPT
                  + "\", \"content\": \"x\","
                  + " \"duration_sec\": 2, \"preferences\": {\"fps\": 24, \"fps\": 30}}");
      assertThat(r.isValid(), is(false));
      assertThat(fields(r), containsInAnyOrder("content", "preferences.fps", "duration_sec"));
      assertThat(r.message(), containsString("content: duplicate key"));
      assertThat(r.reasonCode(), equalTo(ReasonCode.SCHEMA_VIOLATION));
    }

    @Test
    void duplicateKeyAloneStillRejects() {
      ValidationResult r =
          validate(
              "{\"content\": \"" + SCRIPT + "\", \"mode\": \"final\"," + " \"mode\": \"final\"}");
      assertOnly(r, "mode", "duplicate key");
    }

    @Test
    void allViolationsAreCollected() {
      ValidationResult r =
          validate(
              "{\"content\": \"short\", \"preset\": \"huge\","
                  + " \"mode\": \"draft\", \"priority\": \"urgent\", \"lang\": \"xx\","
                  + " \"duration_sec\": \"30\", \"budget_usd\": 0, \"brand_id\": \"a b\","
                  + " \"preferences\": {\"fps\": 60, \"aspect_ratio\": \"4:3\", \"size\": 1},"
                  + " \"backend\": \"sora\", \"extra\": 1}");
      assertThat(
          fields(r),
          contains(
              "extra",
              "content",
              "preset",
              "mode",
              "priority",
              "lang",
              "duration_sec",
              "budget_usd",
              "brand_id",
              "preferences.size",
              "preferences.aspect_ratio",
              "preferences.fps",
              "backend"));
      assertThat(r.message(), containsString("; "));
    }

    @Test
    void validResultHasNoViolationsAndInvalidHasNoRequest() {
      ValidationResult good = with("");
      assertThat(good.violations(), empty());
      assertThat(good.reasonCode(), nullValue());
      assertThat(good.message(), equalTo(""));
      ValidationResult bad = validate("[]");
      assertThrows(IllegalStateException.class, bad::request);
    }
  }

  @Nested
  class Content {
    @Test
    void isRequiredAndAString() {
      assertOnly(validate("{}"), "content", "required");
      assertOnly(validate("{\"content\": null}"), "content", "required");
      assertOnly(validate("{\"content\": 1234567890123}"), "content", "must be a JSON string");
      assertOnly(validate("{\"content\": [\"a\"]}"), "content", "must be a JSON string");
    }

    @Test
    void lengthBoundariesInCodePoints() {
      assertOnly(content("123456789"), "content", "is 9 characters", "at least 10", "code points");
      ok(content("1234567890"));
      ok(content("x".repeat(10_000)));
      assertOnly(content("x".repeat(10_001)), "content", "10,001", "at most 10,000");
      // 10 emoji are 20 UTF-16 chars but 10 code points.
      ok(content("😀".repeat(10)));
      assertOnly(content("😀".repeat(9)), "content", "is 9 characters");
    }

    @Test
    void lengthIsCountedAfterTrimming() {
      assertOnly(content("   123456789   \n\t"), "content", "is 9 characters");
      assertThat(ok(content("\u00a0 1234567890 \n")).getContent(), equalTo("1234567890"));
      assertOnly(content("          "), "content", "is empty");
    }

    @Test
    void nfcNormalisationChangesTheCount() {
      // "e" + U+0301 COMBINING ACUTE is two code points; NFC makes it one "é".
      String decomposed = "e\u0301".repeat(6); // 12 code points raw, 6 after NFC
      assertThat(decomposed.codePointCount(0, decomposed.length()), equalTo(12));
      assertOnly(content(decomposed), "content", "is 6 characters");
      String decomposed10 = "e\u0301".repeat(10);
      JobRequest req = ok(content(decomposed10));
      assertThat(req.getContent(), equalTo("\u00e9".repeat(10)));
    }

    @Test
    void controlCharactersAreRejectedExceptNewlineAndTab() {
      assertOnly(
          content("Hello\u0007 there, world"),
          "content",
          "U+0007",
          "character 6",
          "only \\n and \\t");
      assertOnly(content("Line one\r\nLine two"), "content", "U+000D", "use \\n");
      assertOnly(content("Hello\u0000 there\u001b world"), "content", "2 control characters");
      assertOnly(content("C1 control \u0085 here ok"), "content", "U+0085");
      ok(content("Line one\nLine two\twith a tab"));
    }

    @Test
    void unpairedSurrogateIsRejected() {
      assertOnly(
          validate("{\"content\": \"Hello \\ud800 world, friends\"}"),
          "content",
          "unpaired surrogate",
          "U+D800");
    }

    @Test
    void scriptTagAndJavascriptUrlAreRejectedInAnyCase() {
      assertOnly(content("Nice video <ScRiPt>alert(1)</script>"), "content", "<script");
      assertOnly(content("Click JavaScript:alert(1) now please"), "content", "javascript:");
      ok(content("A script about Java scripting, no tags."));
    }
  }

  @Nested
  class Enumerations {
    @ParameterizedTest
    @ValueSource(strings = {"quick_social", "brand_campaign", "premium_spot"})
    void presets(String p) {
      assertThat(ok(with("\"preset\": \"" + p + "\"")).getPreset(), equalTo(p));
    }

    @ParameterizedTest
    @ValueSource(strings = {"final", "preview", "estimate"})
    void modes(String m) {
      assertThat(ok(with("\"mode\": \"" + m + "\"")).getMode(), equalTo(m));
    }

    @ParameterizedTest
    @ValueSource(strings = {"low", "normal", "high"})
    void priorities(String p) {
      assertThat(ok(with("\"priority\": \"" + p + "\"")).getPriority(), equalTo(p));
    }

    @ParameterizedTest
    @ValueSource(strings = {"en", "fr", "es", "de", "it", "pt", "ja", "zh", "ko"})
    void langs(String l) {
      assertThat(ok(with("\"lang\": \"" + l + "\"")).getLang(), equalTo(l));
    }

    @Test
    void unknownValuesListTheAllowedOnes() {
      assertOnly(
          with("\"preset\": \"Quick_Social\""),
          "preset",
          "use one of quick_social, brand_campaign, premium_spot");
      assertOnly(with("\"mode\": \"draft\""), "mode", "\"draft\"", "final, preview, estimate");
      assertOnly(with("\"priority\": \"urgent\""), "priority", "low, normal, high");
      assertOnly(with("\"lang\": \"en-US\""), "lang", "en, fr, es, de, it, pt, ja, zh, ko");
    }

    @Test
    void enumerationsMustBeStrings() {
      assertOnly(with("\"mode\": 1"), "mode", "must be a JSON string", "the number 1");
      assertOnly(with("\"lang\": true"), "lang", "the boolean true");
    }
  }

  @Nested
  class Duration {
    @Test
    void boundaries() {
      assertOnly(with("\"duration_sec\": 4"), "duration_sec", "4 is out of range", "5–300");
      assertThat(ok(with("\"duration_sec\": 5")).getDurationSec(), equalTo(5));
      assertThat(ok(with("\"duration_sec\": 30")).getDurationSec(), equalTo(30));
      assertThat(
          ok(with("\"preset\": \"premium_spot\", \"duration_sec\": 180")).getDurationSec(),
          equalTo(180));
      assertOnly(with("\"duration_sec\": 301"), "duration_sec", "out of range");
      assertOnly(with("\"duration_sec\": -5"), "duration_sec", "out of range");
    }

    @Test
    void presetMaximumSuggestsALargerPreset() {
      assertOnly(
          with("\"preset\": \"quick_social\", \"duration_sec\": 45"),
          "duration_sec",
          "45 exceeds quick_social's maximum of 30 s; use ≤ 30 or preset brand_campaign");
      assertOnly(with("\"duration_sec\": 31"), "duration_sec", "(the default preset)");
      assertOnly(
          with("\"preset\": \"brand_campaign\", \"duration_sec\": 150"),
          "duration_sec",
          "use ≤ 120 or preset premium_spot");
      ValidationResult r = with("\"preset\": \"premium_spot\", \"duration_sec\": 300");
      assertOnly(r, "duration_sec", "maximum of 180 s; use ≤ 180");
      assertThat(r.message(), not(containsString(" or preset")));
    }

    @Test
    void mustBeAJsonInteger() {
      assertOnly(
          with("\"duration_sec\": 30.0"),
          "duration_sec",
          "JSON integer",
          "30.0",
          "without a decimal point");
      assertOnly(with("\"duration_sec\": 3e1"), "duration_sec", "JSON integer");
      assertOnly(
          with("\"duration_sec\": \"30\""), "duration_sec", "the string \"30\"", "without quotes");
      assertOnly(with("\"duration_sec\": true"), "duration_sec", "the boolean true");
      assertOnly(with("\"duration_sec\": 99999999999999999999999"), "duration_sec", "out of range");
    }
  }

  @Nested
  class Budget {
    @Test
    void boundaries() {
      assertOnly(with("\"budget_usd\": 0"), "budget_usd", "greater than 0");
      assertOnly(with("\"budget_usd\": -1.5"), "budget_usd", "greater than 0");
      assertOnly(with("\"budget_usd\": -0.0"), "budget_usd", "greater than 0");
      assertThat(ok(with("\"budget_usd\": 0.01")).getBudgetUsd(), equalTo(0.01));
      assertThat(ok(with("\"budget_usd\": 1000")).getBudgetUsd(), equalTo(1000.0));
      assertThat(ok(with("\"budget_usd\": 1000.0")).getBudgetUsd(), equalTo(1000.0));
      assertOnly(with("\"budget_usd\": 1000.01"), "budget_usd", "1000.01 exceeds", "≤ 1000");
    }

    @Test
    void nonFiniteIsRejected() {
      assertOnly(with("\"budget_usd\": 1e400"), "budget_usd", "finite");
      // NaN and Infinity are not JSON at all.
      assertOnly(with("\"budget_usd\": NaN"), "body", "not valid JSON");
      assertOnly(with("\"budget_usd\": Infinity"), "body", "not valid JSON");
    }

    @Test
    void mustBeAJsonNumber() {
      assertOnly(with("\"budget_usd\": \"5\""), "budget_usd", "JSON number", "without quotes");
      assertOnly(with("\"budget_usd\": false"), "budget_usd", "the boolean false");
      assertOnly(with("\"budget_usd\": {}"), "budget_usd", "an object");
      assertThat(ok(with("\"budget_usd\": 5")).getBudgetUsd(), equalTo(5.0));
    }
  }

  @Nested
  class BrandId {
    @Test
    void pattern() {
      assertThat(ok(with("\"brand_id\": \"a\"")).getBrandId(), equalTo("a"));
      ok(with("\"brand_id\": \"" + "A".repeat(64) + "\""));
      assertOnly(
          with("\"brand_id\": \"" + "A".repeat(65) + "\""), "brand_id", "[A-Za-z0-9_-]{1,64}");
      assertOnly(with("\"brand_id\": \"\""), "brand_id", "invalid");
      assertOnly(with("\"brand_id\": \"acme/../x\""), "brand_id", "invalid");
      assertOnly(with("\"brand_id\": 12"), "brand_id", "JSON string");
    }
  }

  @Nested
  class Preferences {
    @Test
    void mustBeAnObject() {
      assertOnly(with("\"preferences\": \"cinematic\""), "preferences", "JSON object");
      assertOnly(with("\"preferences\": []"), "preferences", "JSON object");
      assertThat(ok(with("\"preferences\": {}")).getStyle(), nullValue());
    }

    @Test
    void unknownKeyIsNamed() {
      assertOnly(
          with("\"preferences\": {\"lighting\": \"dark\"}"),
          "preferences.lighting",
          "unknown key",
          "allowed: style, mood, camera_style, color_palette, aspect_ratio, fps");
      assertOnly(
          with("\"preferences\": {\"colorPalette\": \"dark\"}"),
          "preferences.colorPalette",
          "did you mean color_palette?");
    }

    @Test
    void stringsAreAtMost200CodePoints() {
      ok(with("\"preferences\": {\"style\": \"" + "s".repeat(200) + "\"}"));
      assertOnly(
          with("\"preferences\": {\"mood\": \"" + "s".repeat(201) + "\"}"),
          "preferences.mood",
          "is 201 characters",
          "at most 200");
      assertOnly(
          with("\"preferences\": {\"camera_style\": \"  \"}"),
          "preferences.camera_style",
          "is empty",
          "omit it");
      assertOnly(
          with("\"preferences\": {\"color_palette\": 3}"),
          "preferences.color_palette",
          "JSON string");
    }

    @Test
    void stringsFollowTheControlCharacterAndScriptRules() {
      assertOnly(
          with("\"preferences\": {\"style\": \"noir\\u0007\"}"), "preferences.style", "U+0007");
      assertOnly(
          with("\"preferences\": {\"style\": \"<SCRIPT>\"}"), "preferences.style", "<script");
      assertThat(
          ok(with("\"preferences\": {\"style\": \"noir\\nfilm\"}")).getStyle(),
          equalTo("noir\nfilm"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"16:9", "9:16", "1:1"})
    void aspectRatios(String a) {
      assertThat(
          ok(with("\"preferences\": {\"aspect_ratio\": \"" + a + "\"}")).getAspectRatio(),
          equalTo(a));
    }

    @Test
    void otherAspectRatioIsRejected() {
      assertOnly(
          with("\"preferences\": {\"aspect_ratio\": \"4:3\"}"),
          "preferences.aspect_ratio",
          "16:9, 9:16, 1:1");
    }

    @ParameterizedTest
    @ValueSource(ints = {24, 25, 30})
    void supportedFps(int fps) {
      assertThat(ok(with("\"preferences\": {\"fps\": " + fps + "}")).getFps(), equalTo(fps));
    }

    @Test
    void otherFpsIsRejected() {
      assertOnly(
          with("\"preferences\": {\"fps\": 60}"),
          "preferences.fps",
          "60 is not supported; use 24, 25 or 30");
      assertOnly(with("\"preferences\": {\"fps\": 30.0}"), "preferences.fps", "JSON integer");
      assertOnly(with("\"preferences\": {\"fps\": \"30\"}"), "preferences.fps", "without quotes");
      assertOnly(
          with("\"preferences\": {\"fps\": 4294967320}"), "preferences.fps", "not supported");
    }
  }

  @Nested
  class Backend {
    @ParameterizedTest
    @ValueSource(strings = {"runway_gen4_turbo", "veo3_fast", "veo3", "replicate_wan"})
    void pricingTableIdsAreAccepted(String id) {
      assertThat(ok(with("\"backend\": \"" + id + "\"")).getBackend(), equalTo(id));
    }

    @Test
    void unknownIdListsTheTable() {
      assertOnly(
          with("\"backend\": \"sora\""),
          "backend",
          "\"sora\" is not a backend",
          "replicate_wan, runway_gen4_turbo, veo3_fast, veo3, preview");
      assertOnly(with("\"backend\": 3"), "backend", "JSON string");
    }

    @Test
    void backendMustServeTheMode() {
      assertThat(
          ok(with("\"mode\": \"preview\", \"backend\": \"preview\"")).getBackend(),
          equalTo("preview"));
      assertOnly(with("\"backend\": \"preview\""), "backend", "mode=preview only");
      assertOnly(
          with("\"mode\": \"estimate\", \"backend\": \"preview\""), "backend", "mode=preview only");
      assertOnly(
          with("\"mode\": \"preview\", \"backend\": \"veo3\""),
          "backend",
          "cannot render mode=preview");
    }

    @Test
    void backendIdsComeFromTheGivenPricingTable() {
      com.aiprod.pipeline.catalog.PricingTable custom =
          com.aiprod.pipeline.catalog.PricingTable.parse(
              ("{\"as_of\": \"2027-01-01\","
                      + " \"backends\": [{\"id\": \"kling\", \"api\": \"k\", \"usd_per_second\": 0.1,"
                      + " \"prior_quality\": 0.95, \"clip_seconds\": [5]}]}")
                  .getBytes(UTF_8),
              "c.json");
      String body = "{\"content\": \"" + SCRIPT + "\", \"backend\": \"kling\"}";
      assertThat(rv(body.getBytes(UTF_8), custom).request().getBackend(), equalTo("kling"));
      assertOnly(
          rv(body.replace("kling", "veo3").getBytes(UTF_8), custom), "backend", "use one of kling");
    }

    @Test
    void forcedBackendBelowThePresetFloorIsRejected() {
      assertOnly(
          with("\"preset\": \"brand_campaign\", \"backend\": \"replicate_wan\""),
          "backend",
          "quality 0.7",
          "brand_campaign's quality floor 0.8",
          "runway_gen4_turbo, veo3_fast, veo3");
      assertOnly(
          with("\"preset\": \"premium_spot\", \"backend\": \"veo3_fast\""),
          "backend",
          "floor 0.9",
          "use one of veo3");
      ok(with("\"preset\": \"premium_spot\", \"backend\": \"veo3\""));
    }
  }

  @Test
  void messageListsAtMostTwentyViolations() {
    StringBuilder b = new StringBuilder("{\"content\": \"" + SCRIPT + "\"");
    for (int i = 0; i < 25; i++) {
      b.append(", \"x").append(i).append("\": 1");
    }
    ValidationResult r = validate(b.append('}').toString());
    assertThat(r.violations(), hasSize(25));
    assertThat(
        r.message(),
        allOf(
            containsString("x19: unknown field"),
            containsString("; and 5 more"),
            not(containsString("x20"))));
    assertThat(fields(r), hasItem("x24"));
  }
}
