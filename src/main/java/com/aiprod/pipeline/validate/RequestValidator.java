package com.aiprod.pipeline.validate;

import com.aiprod.pipeline.catalog.Money;
import com.aiprod.pipeline.catalog.PricingTable;
import com.aiprod.pipeline.model.JobRequest;
import com.aiprod.pipeline.model.Preset;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.text.Normalizer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.annotation.Nullable;

/**
 * Validates a job request body against DESIGN §2 and applies its defaults. Never throws: every
 * problem becomes a {@link Violation} (field + what to fix), and all of them are collected, not
 * just the first.
 *
 * <p>Rules and the decisions taken where DESIGN is silent:
 *
 * <ul>
 *   <li><b>Body.</b> A JSON object, UTF-8, nothing after it. Input that is not JSON at all gives a
 *       {@code body} violation (upstream normally catches it first as {@code MALFORMED_JSON}).
 *   <li><b>Duplicate keys</b> make a body ambiguous. Jackson's {@code STRICT_DUPLICATE_DETECTION}
 *       is the gate; when it trips, a second pass names every duplicated key (also inside {@code
 *       preferences}) and the remaining fields are still checked, so all violations come back at
 *       once. {@link #validate(JsonNode, PricingTable)} receives an already parsed tree and cannot
 *       see duplicates.
 *   <li><b>Unknown fields</b> are rejected one violation each, naming the allowed fields and
 *       suggesting the closest one ({@code durationSec} → {@code duration_sec}).
 *   <li><b>Strict types.</b> Strings must be JSON strings, numbers JSON numbers: {@code "30"} is
 *       not a number and {@code true} is not 1. {@code duration_sec} and {@code preferences.fps}
 *       must be JSON integer literals: {@code 30.0} and {@code 3e1} are rejected ("write 30"),
 *       because a fractional literal usually signals a client computing seconds as floats, and one
 *       rule is easier to document than "integral floats are fine".
 *   <li><b>null</b> for an optional field means "not given" (its default applies), as JSON clients
 *       commonly serialise absent optionals that way; {@code content: null} is "required".
 *   <li><b>Text</b> ({@code content} and the preference strings) is NFC-normalised, then trimmed of
 *       Unicode white space (including no-break spaces) at both ends; lengths are counted in
 *       Unicode code points after that, so "é" typed as e + combining accent counts as one. Control
 *       characters (Unicode category Cc) other than {@code \n} and {@code \t} are rejected anywhere
 *       inside, {@code \r} included (send {@code \n} line breaks); so are unpaired surrogates,
 *       {@code <script} and {@code javascript:} (any case), and more than 30 combining marks in a
 *       row (checked before normalising: NFC's reordering of a long run costs quadratic time). The
 *       preference strings get the same rules because they end up in prompts and title cards; they
 *       are 1–200 code points (an empty one is rejected: omit it instead).
 *   <li><b>duration_sec</b> 5–300 and ≤ the preset's maximum; the message suggests the smallest
 *       preset that allows it. Default 30 capped to the preset's maximum.
 *   <li><b>budget_usd</b> a finite JSON number, &gt; 0 and ≤ 1000 (1000.01 is rejected). Default:
 *       the preset's $/min × duration / 60, rounded to micro-dollars.
 *   <li><b>priority</b> default: the preset's. <b>lang</b> default {@code en}. <b>preferences</b>
 *       defaults: no style, mood, camera style or palette; {@code aspect_ratio} 16:9, {@code fps}
 *       24.
 *   <li><b>backend</b> must be an id of the pricing table, serve the request's mode (the {@code
 *       preview} backend only serves {@code mode=preview}; previews cannot force a render backend)
 *       and, for final renderers, meet the preset's quality floor — a contradiction the user can
 *       fix in the request alone, so it is a schema violation. Whether the backend is configured on
 *       this pipeline is the router's concern ({@code NO_BACKEND_AVAILABLE}).
 * </ul>
 */
public final class RequestValidator {
  /** The request body's fields, in DESIGN §2 order. */
  public static final List<String> FIELDS =
      List.of(
          "content",
          "preset",
          "mode",
          "priority",
          "lang",
          "duration_sec",
          "budget_usd",
          "brand_id",
          "preferences",
          "backend");

  /** The keys of {@code preferences}. */
  public static final List<String> PREFERENCE_KEYS =
      List.of("style", "mood", "camera_style", "color_palette", "aspect_ratio", "fps");

  public static final List<String> MODES = List.of("final", "preview", "estimate");
  public static final List<String> PRIORITIES = List.of("low", "normal", "high");
  public static final List<String> LANGS =
      List.of("en", "fr", "es", "de", "it", "pt", "ja", "zh", "ko");
  public static final List<String> ASPECT_RATIOS = List.of("16:9", "9:16", "1:1");
  public static final List<Integer> FPS = List.of(24, 25, 30);

  public static final int CONTENT_MIN = 10;
  public static final int CONTENT_MAX = 10_000;
  public static final int PREFERENCE_MAX = 200;
  public static final int DURATION_MIN = 5;
  public static final int DURATION_MAX = 300;
  public static final int DEFAULT_DURATION = 30;
  public static final double BUDGET_MAX = 1000.0;

  /** Combining marks allowed in a row: the 30 non-starters of Unicode's stream-safe format. */
  public static final int MAX_COMBINING_RUN = 30;

  private static final Pattern BRAND_ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");
  private static final double QUALITY_EPSILON = 1e-9;

  private static final ObjectMapper STRICT =
      new ObjectMapper()
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
  private static final ObjectMapper LENIENT =
      new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private RequestValidator() {}

  /** Validates UTF-8 JSON bytes; {@code pricing} supplies the valid {@code backend} ids. */
  public static ValidationResult validate(byte[] utf8Json, PricingTable pricing) {
    if (utf8Json == null || utf8Json.length == 0) {
      return ValidationResult.invalid(
          List.of(
              new Violation(
                  "body", "is empty; send a JSON object such as {\"content\": \"...\"}")));
    }
    JsonNode root;
    try {
      root = STRICT.readTree(utf8Json);
    } catch (JacksonException strictFailure) {
      List<Violation> duplicates = duplicateKeys(utf8Json);
      if (duplicates.isEmpty()) {
        return ValidationResult.invalid(List.of(notJson(strictFailure)));
      }
      try {
        root = LENIENT.readTree(utf8Json);
      } catch (IOException e) {
        return ValidationResult.invalid(List.of(notJson(e)));
      }
      Set<String> skip = new HashSet<>();
      for (Violation d : duplicates) {
        skip.add(d.field());
      }
      List<Violation> all = new ArrayList<>(duplicates);
      check(root, pricing, skip, all);
      return ValidationResult.invalid(all);
    } catch (IOException e) {
      return ValidationResult.invalid(List.of(notJson(e)));
    } catch (RuntimeException e) {
      // Jackson wraps some decoding errors (e.g. invalid UTF-8 surrogates) unchecked.
      return ValidationResult.invalid(
          List.of(
              new Violation(
                  "body",
                  "is not valid UTF-8 JSON ("
                      + e.getClass().getSimpleName()
                      + "); send a UTF-8 JSON"
                      + " object")));
    }
    return result(root, pricing);
  }

  /**
   * Validates an already parsed body (duplicate keys cannot be detected any more: parse with {@code
   * STRICT_DUPLICATE_DETECTION}, or pass the bytes).
   */
  public static ValidationResult validate(@Nullable JsonNode body, PricingTable pricing) {
    return result(body, pricing);
  }

  private static ValidationResult result(@Nullable JsonNode root, PricingTable pricing) {
    List<Violation> v = new ArrayList<>();
    JobRequest req = check(root, pricing, Set.of(), v);
    return req != null ? ValidationResult.ok(req) : ValidationResult.invalid(v);
  }

  private static Violation notJson(Exception e) {
    String detail = e.getMessage();
    if (e instanceof JacksonException) {
      JacksonException je = (JacksonException) e;
      detail = je.getOriginalMessage();
      if (je.getLocation() != null) {
        detail +=
            " (line "
                + je.getLocation().getLineNr()
                + ", column "
                + je.getLocation().getColumnNr()
                + ")";
      }
    }
    return new Violation(
        "body",
        "is not valid JSON: " + clip(String.valueOf(detail), 300) + "; send one UTF-8 JSON object");
  }

  /** Every duplicated key, as {@code content} or {@code preferences.style}, in document order. */
  private static List<Violation> duplicateKeys(byte[] json) {
    List<Violation> out = new ArrayList<>();
    Set<String> reported = new LinkedHashSet<>();
    Deque<Set<String>> seen = new ArrayDeque<>();
    Deque<String> paths = new ArrayDeque<>();
    String lastName = null;
    try (JsonParser p = new JsonFactory().createParser(json)) {
      JsonToken t;
      while ((t = p.nextToken()) != null) {
        switch (t) {
          case START_OBJECT:
          case START_ARRAY:
            String parent = paths.isEmpty() ? "" : paths.peek();
            String here =
                lastName == null ? parent : parent.isEmpty() ? lastName : parent + "." + lastName;
            if (t == JsonToken.START_ARRAY) {
              here = here + "[]";
            }
            paths.push(here);
            seen.push(new HashSet<>());
            lastName = null;
            break;
          case END_OBJECT:
          case END_ARRAY:
            paths.pop();
            seen.pop();
            lastName = null;
            break;
          case FIELD_NAME:
            String name = p.currentName();
            String prefix = paths.isEmpty() ? "" : paths.peek();
            String path = prefix.isEmpty() ? name : prefix + "." + name;
            if (!seen.isEmpty() && !seen.peek().add(name) && reported.add(path)) {
              out.add(
                  new Violation(
                      path, "duplicate key: the body is ambiguous; send " + quote(name) + " once"));
            }
            lastName = name;
            break;
          default:
            lastName = null;
        }
      }
    } catch (IOException | RuntimeException e) {
      // The strict parse reports the syntax error; only duplicates are of interest here.
    }
    return out;
  }

  /**
   * Adds every violation of {@code root} to {@code v} (fields in {@code skip} are not looked at)
   * and returns the request when there is none and nothing was skipped, else null.
   */
  private static @Nullable JobRequest check(
      @Nullable JsonNode root, PricingTable pricing, Set<String> skip, List<Violation> v) {
    int before = v.size();
    if (root == null || !root.isObject()) {
      v.add(
          new Violation(
              "body",
              "must be a JSON object such as {\"content\": \"...\"}, got " + describe(root)));
      return null;
    }
    int unknown = 0;
    for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
      String name = it.next();
      if (!FIELDS.contains(name) && !skip.contains(name)) {
        // Past the ones a message lists, an unknown field is only counted: a body of thousands of
        // them must not cost a suggestion each.
        v.add(
            ++unknown > ValidationResult.MAX_LISTED
                ? new Violation(clip(name, 64), "unknown field")
                : new Violation(
                    clip(name, 64),
                    "unknown field"
                        + suggest(name, FIELDS)
                        + "; allowed: "
                        + String.join(", ", FIELDS)));
      }
    }

    // content
    String content = null;
    if (!skip.contains("content")) {
      JsonNode c = root.get("content");
      if (c == null || c.isNull()) {
        v.add(new Violation("content", "is required: a string of 10–10,000 characters"));
      } else if (!c.isTextual()) {
        v.add(new Violation("content", "must be a JSON string, got " + describe(c)));
      } else {
        content = text("content", c.textValue(), CONTENT_MIN, CONTENT_MAX, v);
      }
    }

    // preset
    boolean presetGiven = present(root, "preset", skip);
    Preset preset = Preset.QUICK_SOCIAL;
    boolean presetOk = !skip.contains("preset");
    if (presetGiven) {
      JsonNode p = root.get("preset");
      List<String> ids =
          Arrays.stream(Preset.values()).map(Preset::id).collect(Collectors.toList());
      String id = enumeration("preset", p, ids, v);
      Optional<Preset> found = id == null ? Optional.empty() : Preset.fromId(id);
      if (found.isPresent()) {
        preset = found.get();
      } else {
        presetOk = false;
      }
    }

    String mode = "final";
    boolean modeOk = !skip.contains("mode");
    if (present(root, "mode", skip)) {
      mode = enumeration("mode", root.get("mode"), MODES, v);
      modeOk = mode != null;
    }
    String priority = preset.defaultPriority();
    if (present(root, "priority", skip)) {
      priority = enumeration("priority", root.get("priority"), PRIORITIES, v);
    }
    String lang = "en";
    if (present(root, "lang", skip)) {
      lang = enumeration("lang", root.get("lang"), LANGS, v);
    }

    // duration_sec
    Integer duration = null;
    if (present(root, "duration_sec", skip)) {
      Long d = integer("duration_sec", root.get("duration_sec"), "30", v);
      if (d != null) {
        if (d < DURATION_MIN || d > DURATION_MAX) {
          v.add(
              new Violation(
                  "duration_sec",
                  d
                      + " is out of range; use "
                      + DURATION_MIN
                      + "–"
                      + DURATION_MAX
                      + " seconds"
                      + (presetOk
                          ? " (≤ " + preset.maxDurationSec() + " for " + preset.id() + ")"
                          : "")));
        } else if (presetOk && d > preset.maxDurationSec()) {
          v.add(new Violation("duration_sec", durationOverMax(d.intValue(), preset, presetGiven)));
        } else {
          duration = d.intValue();
        }
      }
    } else if (!skip.contains("duration_sec")) {
      duration = Math.min(DEFAULT_DURATION, preset.maxDurationSec());
    }

    // budget_usd
    Double budget = null;
    if (present(root, "budget_usd", skip)) {
      JsonNode b = root.get("budget_usd");
      if (!b.isNumber()) {
        v.add(
            new Violation(
                "budget_usd",
                "must be a JSON number of US dollars, got "
                    + describe(b)
                    + (b.isTextual() ? "; write the number without quotes" : "")));
      } else {
        double x = b.doubleValue();
        if (!Double.isFinite(x)) {
          v.add(new Violation("budget_usd", "is not a finite number; use a value in (0, 1000]"));
        } else if (x <= 0) {
          v.add(
              new Violation(
                  "budget_usd",
                  b.asText()
                      + " must be greater than 0; use a value"
                      + " in (0, 1000] US dollars"));
        } else if (x > BUDGET_MAX) {
          v.add(
              new Violation(
                  "budget_usd",
                  b.asText() + " exceeds the maximum of 1000 US" + " dollars; use ≤ 1000"));
        } else {
          budget = x;
        }
      }
    } else if (!skip.contains("budget_usd") && presetOk && duration != null) {
      budget = Money.roundMicros(preset.defaultBudgetUsd(duration));
    }

    // brand_id
    String brandId = null;
    if (present(root, "brand_id", skip)) {
      JsonNode b = root.get("brand_id");
      if (!b.isTextual()) {
        v.add(new Violation("brand_id", "must be a JSON string, got " + describe(b)));
      } else if (!BRAND_ID.matcher(b.textValue()).matches()) {
        v.add(
            new Violation(
                "brand_id",
                quote(b.textValue())
                    + " is invalid; use 1–64 letters,"
                    + " digits, _ or - ([A-Za-z0-9_-]{1,64})"));
      } else {
        brandId = b.textValue();
      }
    }

    // preferences
    String style = null;
    String mood = null;
    String cameraStyle = null;
    String colorPalette = null;
    String aspectRatio = "16:9";
    int fps = 24;
    if (present(root, "preferences", skip)) {
      JsonNode prefs = root.get("preferences");
      if (!prefs.isObject()) {
        v.add(
            new Violation(
                "preferences",
                "must be a JSON object with keys among "
                    + String.join(", ", PREFERENCE_KEYS)
                    + ", got "
                    + describe(prefs)));
      } else {
        for (Iterator<String> it = prefs.fieldNames(); it.hasNext(); ) {
          String k = it.next();
          if (!PREFERENCE_KEYS.contains(k) && !skip.contains("preferences." + k)) {
            v.add(
                new Violation(
                    "preferences." + clip(k, 64),
                    "unknown key"
                        + suggest(k, PREFERENCE_KEYS)
                        + "; allowed: "
                        + String.join(", ", PREFERENCE_KEYS)));
          }
        }
        style = preferenceText(prefs, "style", skip, v);
        mood = preferenceText(prefs, "mood", skip, v);
        cameraStyle = preferenceText(prefs, "camera_style", skip, v);
        colorPalette = preferenceText(prefs, "color_palette", skip, v);
        JsonNode ar = prefs.get("aspect_ratio");
        if (ar != null && !ar.isNull() && !skip.contains("preferences.aspect_ratio")) {
          String a = enumeration("preferences.aspect_ratio", ar, ASPECT_RATIOS, v);
          if (a != null) {
            aspectRatio = a;
          }
        }
        JsonNode f = prefs.get("fps");
        if (f != null && !f.isNull() && !skip.contains("preferences.fps")) {
          Long x = integer("preferences.fps", f, "30", v);
          if (x != null) {
            if (FPS.contains((int) (long) x) && x == (int) (long) x) {
              fps = (int) (long) x;
            } else {
              v.add(new Violation("preferences.fps", x + " is not supported; use 24, 25 or 30"));
            }
          }
        }
      }
    }

    // backend
    String backend = null;
    if (present(root, "backend", skip)) {
      JsonNode b = root.get("backend");
      if (!b.isTextual()) {
        v.add(new Violation("backend", "must be a JSON string (a backend id), got " + describe(b)));
      } else {
        backend =
            checkBackend(b.textValue(), pricing, modeOk ? mode : null, presetOk ? preset : null, v);
      }
    }

    if (v.size() > before || !skip.isEmpty()) {
      return null;
    }
    return JobRequest.builder()
        .setContent(content)
        .setPreset(preset.id())
        .setMode(mode)
        .setPriority(priority)
        .setLang(lang)
        .setDurationSec(duration)
        .setBudgetUsd(budget)
        .setBrandId(brandId)
        .setStyle(style)
        .setMood(mood)
        .setCameraStyle(cameraStyle)
        .setColorPalette(colorPalette)
        .setAspectRatio(aspectRatio)
        .setFps(fps)
        .setBackend(backend)
        .build();
  }

  private static boolean present(JsonNode root, String field, Set<String> skip) {
    JsonNode n = root.get(field);
    return n != null && !n.isNull() && !skip.contains(field);
  }

  private static String durationOverMax(int d, Preset preset, boolean presetGiven) {
    Optional<Preset> bigger =
        Arrays.stream(Preset.values())
            .filter(p -> p.maxDurationSec() >= d)
            .min((a, b) -> Integer.compare(a.maxDurationSec(), b.maxDurationSec()));
    return d
        + " exceeds "
        + preset.id()
        + "'s maximum of "
        + preset.maxDurationSec()
        + " s"
        + (presetGiven ? "" : " (the default preset)")
        + "; use ≤ "
        + preset.maxDurationSec()
        + bigger.map(p -> " or preset " + p.id()).orElse("");
  }

  private static @Nullable String checkBackend(
      String id,
      PricingTable pricing,
      @Nullable String mode,
      @Nullable Preset preset,
      List<Violation> v) {
    Optional<PricingTable.Backend> found = pricing.find(id);
    if (found.isEmpty()) {
      v.add(
          new Violation(
              "backend",
              quote(id)
                  + " is not a backend; use one of "
                  + String.join(", ", pricing.ids())
                  + " or omit it"));
      return null;
    }
    PricingTable.Backend b = found.get();
    if (mode != null && !b.supportsMode(mode)) {
      if (b.isPreviewOnly()) {
        v.add(
            new Violation(
                "backend",
                id + " renders mode=preview only; use mode=preview or" + " another backend"));
      } else if ("preview".equals(mode)) {
        v.add(
            new Violation(
                "backend",
                id
                    + " cannot render mode=preview (previews always use"
                    + " the local preview backend); omit backend or use mode=final"));
      } else {
        v.add(
            new Violation(
                "backend",
                id
                    + " does not serve mode="
                    + mode
                    + "; it serves "
                    + String.join(", ", b.modes())));
      }
      return null;
    }
    if (preset != null
        && b.isFinalRenderer()
        && !"preview".equals(mode)
        && b.priorQuality() < preset.qualityFloor() - QUALITY_EPSILON) {
      List<String> ok =
          pricing.backends().stream()
              .filter(
                  x ->
                      x.isFinalRenderer()
                          && x.priorQuality() >= preset.qualityFloor() - QUALITY_EPSILON)
              .map(PricingTable.Backend::id)
              .collect(Collectors.toList());
      v.add(
          new Violation(
              "backend",
              id
                  + " (quality "
                  + Money.decimal(b.priorQuality())
                  + ") is below "
                  + preset.id()
                  + "'s quality floor "
                  + Money.decimal(preset.qualityFloor())
                  + "; omit backend"
                  + (ok.isEmpty() ? "" : ", use one of " + String.join(", ", ok))
                  + " or choose a preset with a lower floor"));
      return null;
    }
    return id;
  }

  private static @Nullable String preferenceText(
      JsonNode prefs, String key, Set<String> skip, List<Violation> v) {
    JsonNode n = prefs.get(key);
    String field = "preferences." + key;
    if (n == null || n.isNull() || skip.contains(field)) {
      return null;
    }
    if (!n.isTextual()) {
      v.add(new Violation(field, "must be a JSON string, got " + describe(n)));
      return null;
    }
    return text(field, n.textValue(), 1, PREFERENCE_MAX, v);
  }

  /**
   * NFC-normalises and trims {@code raw}, checks it, and returns it, or null after adding
   * violations.
   */
  private static @Nullable String text(
      String field, String raw, int min, int max, List<Violation> v) {
    int before = v.size();
    int unpaired = firstUnpairedSurrogate(raw);
    if (unpaired >= 0) {
      v.add(
          new Violation(
              field,
              String.format(
                  Locale.ROOT,
                  "contains an unpaired surrogate U+%04X at character %d; send valid Unicode text",
                  (int) raw.charAt(unpaired),
                  raw.codePointCount(0, unpaired) + 1)));
      return null;
    }
    int marks = longestCombiningRun(raw);
    if (marks > MAX_COMBINING_RUN) {
      // NFC sorts a run of combining marks in quadratic time: refuse before normalising.
      v.add(
          new Violation(
              field,
              String.format(
                  Locale.ROOT,
                  "has %,d combining marks in a row; at most %d may follow one character (Unicode"
                      + " stream-safe text, UAX #15): remove them",
                  marks,
                  MAX_COMBINING_RUN)));
      return null;
    }
    String s = strip(Normalizer.normalize(raw, Normalizer.Form.NFC));
    int controls = 0;
    int firstControl = -1;
    int firstControlAt = -1;
    int index = 0;
    for (int i = 0; i < s.length(); ) {
      int cp = s.codePointAt(i);
      index++;
      if (Character.getType(cp) == Character.CONTROL && cp != '\n' && cp != '\t') {
        controls++;
        if (firstControl < 0) {
          firstControl = cp;
          firstControlAt = index;
        }
      }
      i += Character.charCount(cp);
    }
    if (controls > 0) {
      v.add(
          new Violation(
              field,
              String.format(
                  Locale.ROOT,
                  "contains %s (first U+%04X at character %d); only \\n and \\t are allowed%s",
                  controls == 1 ? "a control character" : controls + " control characters",
                  firstControl,
                  firstControlAt,
                  firstControl == '\r' ? ": use \\n for line breaks" : ": remove it")));
    }
    int length = s.codePointCount(0, s.length());
    String counted = " (counted in Unicode code points after NFC normalisation and trimming)";
    if (length < min) {
      v.add(
          new Violation(
              field,
              length == 0
                  ? "is empty"
                      + (min > 1 ? "; write at least " + min + " characters" : "; omit it instead")
                  : "is " + length + " characters long" + counted + "; write at least " + min));
    } else if (length > max) {
      v.add(
          new Violation(
              field,
              "is "
                  + String.format(Locale.ROOT, "%,d", length)
                  + " characters long"
                  + counted
                  + "; shorten it to at most "
                  + String.format(Locale.ROOT, "%,d", max)));
    }
    String lower = s.toLowerCase(Locale.ROOT);
    if (lower.contains("<script")) {
      v.add(
          new Violation(
              field, "contains \"<script\" (in any case), which is not allowed;" + " remove it"));
    }
    if (lower.contains("javascript:")) {
      v.add(
          new Violation(
              field,
              "contains \"javascript:\" (in any case), which is not allowed;" + " remove it"));
    }
    return v.size() == before ? s : null;
  }

  /** The longest run of combining marks (Unicode categories Mn, Mc, Me) in {@code s}. */
  static int longestCombiningRun(String s) {
    int longest = 0;
    int run = 0;
    for (int i = 0; i < s.length(); ) {
      int cp = s.codePointAt(i);
      int type = Character.getType(cp);
      if (type == Character.NON_SPACING_MARK
          || type == Character.COMBINING_SPACING_MARK
          || type == Character.ENCLOSING_MARK) {
        longest = Math.max(longest, ++run);
      } else {
        run = 0;
      }
      i += Character.charCount(cp);
    }
    return longest;
  }

  private static int firstUnpairedSurrogate(String s) {
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      if (Character.isHighSurrogate(ch)) {
        if (i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
          i++;
        } else {
          return i;
        }
      } else if (Character.isLowSurrogate(ch)) {
        return i;
      }
    }
    return -1;
  }

  /** Trims Unicode white space (including no-break spaces) at both ends. */
  static String strip(String s) {
    int start = 0;
    int end = s.length();
    while (start < end) {
      int cp = s.codePointAt(start);
      if (!isSpace(cp)) {
        break;
      }
      start += Character.charCount(cp);
    }
    while (end > start) {
      int cp = s.codePointBefore(end);
      if (!isSpace(cp)) {
        break;
      }
      end -= Character.charCount(cp);
    }
    return s.substring(start, end);
  }

  private static boolean isSpace(int cp) {
    return Character.isWhitespace(cp) || Character.isSpaceChar(cp);
  }

  /** A JSON string among {@code allowed}, or null after adding a violation. */
  private static @Nullable String enumeration(
      String field, JsonNode n, List<String> allowed, List<Violation> v) {
    if (!n.isTextual()) {
      v.add(
          new Violation(
              field,
              "must be a JSON string, one of "
                  + String.join(", ", allowed)
                  + "; got "
                  + describe(n)));
      return null;
    }
    String s = n.textValue();
    if (!allowed.contains(s)) {
      v.add(
          new Violation(
              field, quote(s) + " is not supported; use one of " + String.join(", ", allowed)));
      return null;
    }
    return s;
  }

  /** A JSON integer literal, or null after adding a violation. */
  private static @Nullable Long integer(
      String field, JsonNode n, String example, List<Violation> v) {
    if (n.isIntegralNumber()) {
      if (!n.canConvertToLong()) {
        v.add(new Violation(field, n.asText() + " is out of range"));
        return null;
      }
      return n.longValue();
    }
    if (n.isNumber()) {
      v.add(
          new Violation(
              field,
              "must be a JSON integer, got "
                  + n.asText()
                  + "; write a whole"
                  + " number without a decimal point or exponent, e.g. "
                  + example));
    } else if (n.isTextual()) {
      v.add(
          new Violation(
              field,
              "must be a JSON integer, got the string "
                  + quote(n.textValue())
                  + "; write the number without quotes, e.g. "
                  + example));
    } else {
      v.add(new Violation(field, "must be a JSON integer, got " + describe(n)));
    }
    return null;
  }

  private static String describe(@Nullable JsonNode n) {
    if (n == null || n.isMissingNode()) {
      return "nothing";
    }
    switch (n.getNodeType()) {
      case STRING:
        return "the string " + quote(n.textValue());
      case NUMBER:
        return "the number " + n.asText();
      case BOOLEAN:
        return "the boolean " + n.asText();
      case OBJECT:
        return "an object";
      case ARRAY:
        return "an array";
      case NULL:
        return "null";
      default:
        return n.getNodeType().name().toLowerCase(Locale.ROOT);
    }
  }

  /** {@code "value"}, control characters escaped, at most 40 code points. */
  static String quote(String s) {
    return "\"" + clip(s, 40) + "\"";
  }

  /**
   * {@code s} with control characters, quotes, backslashes and lone surrogates escaped, cut to
   * {@code max} code points with "…" (user input is echoed in messages, never verbatim).
   */
  static String clip(String s, int max) {
    StringBuilder b = new StringBuilder();
    int n = 0;
    for (int i = 0; i < s.length(); ) {
      int cp = s.codePointAt(i);
      i += Character.charCount(cp);
      if (++n > max) {
        b.append('…');
        break;
      }
      if (cp < 0x20
          || (cp >= 0x7f && cp <= 0x9f)
          || cp == '"'
          || cp == '\\'
          || (cp <= 0xffff && Character.isSurrogate((char) cp))) {
        b.append(
            cp == '"' ? "\\\"" : cp == '\\' ? "\\\\" : String.format(Locale.ROOT, "\\u%04X", cp));
      } else {
        b.appendCodePoint(cp);
      }
    }
    return b.toString();
  }

  /** {@code "; did you mean duration_sec?"} for a near miss, else empty. */
  private static String suggest(String name, List<String> allowed) {
    String norm = name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "");
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String a : allowed) {
      String an = a.replace("_", "");
      int d = norm.equals(an) ? 0 : levenshtein(name.toLowerCase(Locale.ROOT), a);
      if (d < bestDistance) {
        bestDistance = d;
        best = a;
      }
    }
    return best != null && bestDistance <= 2 ? "; did you mean " + best + "?" : "";
  }

  private static int levenshtein(String a, String b) {
    if (Math.abs(a.length() - b.length()) > 2 || a.length() > 64) {
      return Integer.MAX_VALUE;
    }
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
