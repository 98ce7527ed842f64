package com.aiprod.pipeline.catalog;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import javax.annotation.Nullable;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.MatchResult;

/**
 * The backends and list prices of DESIGN §5, loaded from {@code pricing.json} (classpath default)
 * or from {@code --pricingFile}.
 *
 * <p>File format (the classpath file is the reference):
 *
 * <pre>{@code
 * {"as_of": "2026-11-01", "currency": "USD", "note": "...",
 *  "backends": [{"id": "veo3", "api": "vertex-veo", "usd_per_second": 0.40,
 *                "prior_quality": 0.93, "clip_seconds": [8], "modes": ["final", "estimate"]}, ...]}
 * }</pre>
 *
 * <p>Decisions where DESIGN is silent:
 *
 * <ul>
 *   <li>The loader is strict, because a typo in a price file silently mis-routes money: {@code
 *       as_of} must be an ISO date; {@code currency}, when present, must be {@code USD}; unknown
 *       keys are errors (top level: only {@code as_of currency note backends}; per backend: only
 *       {@code id api model usd_per_second prior_quality clip_seconds modes}); ids are unique and
 *       match {@code [a-z0-9_]{1,64}}; prices are finite and ≥ 0; {@code prior_quality} is in [0,
 *       1] and may be null only for a backend that renders {@code mode=preview} only; {@code
 *       clip_seconds} are integers 1–60, non-empty except for such a preview-only backend ("any"
 *       length). Every problem is reported at once, each naming the file and the field, in an
 *       {@link IllegalArgumentException}.
 *   <li>{@code model} is optional: the provider's model the backend renders with (Veo model id,
 *       Runway model, Replicate {@code owner/name}); the client's default when absent.
 *   <li>{@code modes} is optional and defaults to {@code ["final", "estimate"]}: a backend renders
 *       finals and is quoted by estimates. The {@code preview} backend declares {@code
 *       ["preview"]}.
 *   <li>A path containing {@code ://} (e.g. {@code gs://bucket/pricing.json}) is read through Beam
 *       {@link FileSystems}; anything else is a local file.
 * </ul>
 */
public final class PricingTable implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The classpath resource used when no {@code --pricingFile} is given. */
  public static final String CLASSPATH_RESOURCE = "pricing.json";

  public static final String MODE_FINAL = "final";
  public static final String MODE_PREVIEW = "preview";
  public static final String MODE_ESTIMATE = "estimate";

  private static final Set<String> TOP_LEVEL_KEYS = Set.of("as_of", "currency", "note", "backends");
  private static final Set<String> BACKEND_KEYS =
      Set.of("id", "api", "model", "usd_per_second", "prior_quality", "clip_seconds", "modes");
  private static final Set<String> MODES = Set.of(MODE_FINAL, MODE_PREVIEW, MODE_ESTIMATE);
  private static final Pattern ID = Pattern.compile("[a-z0-9_]{1,64}");
  private static final Pattern MODEL = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}");
  private static final ObjectMapper MAPPER =
      new ObjectMapper()
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private final String asOf;
  private final String source;
  private final LinkedHashMap<String, Backend> backends;

  private PricingTable(String asOf, String source, LinkedHashMap<String, Backend> backends) {
    this.asOf = asOf;
    this.source = source;
    this.backends = backends;
  }

  /** One backend entry of the table. Immutable. */
  public static final class Backend implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String id;
    private final String api;
    private final double usdPerSecond;
    private final @Nullable Double priorQuality;
    private final List<Integer> clipSeconds;
    private final List<String> modes;
    private final @Nullable String model;

    public Backend(
        String id,
        String api,
        double usdPerSecond,
        @Nullable Double priorQuality,
        List<Integer> clipSeconds,
        List<String> modes) {
      this(id, api, null, usdPerSecond, priorQuality, clipSeconds, modes);
    }

    public Backend(
        String id,
        String api,
        @Nullable String model,
        double usdPerSecond,
        @Nullable Double priorQuality,
        List<Integer> clipSeconds,
        List<String> modes) {
      this.id = id;
      this.api = api;
      this.model = model;
      this.usdPerSecond = usdPerSecond;
      this.priorQuality = priorQuality;
      this.clipSeconds = List.copyOf(clipSeconds);
      this.modes = List.copyOf(modes);
    }

    public String id() {
      return id;
    }

    /** Its client: {@code replicate}, {@code runway}, {@code vertex-veo}, {@code local}. */
    public String api() {
      return api;
    }

    /**
     * The provider's model this backend renders with (e.g. {@code veo-3.0-generate-001}, {@code
     * gen4_turbo}, {@code wan-video/wan-2.2-t2v-fast}); null when the entry names none.
     */
    public @Nullable String model() {
      return model;
    }

    public double usdPerSecond() {
      return usdPerSecond;
    }

    /** Prior quality in [0, 1]; null for the preview backend (it has no quality to route on). */
    public @Nullable Double priorQuality() {
      return priorQuality;
    }

    /** Clip lengths it renders, ascending; empty for the preview backend ("any"). */
    public List<Integer> clipSeconds() {
      return clipSeconds;
    }

    /** Request modes it serves: {@code final}, {@code estimate}, {@code preview}. */
    public List<String> modes() {
      return modes;
    }

    public boolean supportsMode(String mode) {
      return modes.contains(mode);
    }

    /** Whether this backend renders previews only (the local animatic encoder). */
    public boolean isPreviewOnly() {
      return modes.size() == 1 && modes.contains(MODE_PREVIEW);
    }

    /** Renders finals (and so is routed to and quoted): has a quality and clip lengths. */
    public boolean isFinalRenderer() {
      return supportsMode(MODE_FINAL) && priorQuality != null && !clipSeconds.isEmpty();
    }

    @Override
    public String toString() {
      return id
          + "{api="
          + api
          + (model == null ? "" : ", model=" + model)
          + ", usdPerSecond="
          + usdPerSecond
          + ", priorQuality="
          + priorQuality
          + ", clipSeconds="
          + clipSeconds
          + ", modes="
          + modes
          + "}";
    }
  }

  /** The classpath table ({@code pricing.json}), parsed anew: what {@code load(null)} returns. */
  public static PricingTable builtIn() {
    return load(null);
  }

  /**
   * Loads {@code pricingFile}, or the classpath {@code pricing.json} when it is null or blank.
   *
   * @throws IllegalArgumentException when the file is missing, unreadable or malformed; the message
   *     names the file and every bad field
   */
  public static PricingTable load(@Nullable String pricingFile) {
    if (pricingFile == null || pricingFile.isBlank()) {
      String source = "classpath:" + CLASSPATH_RESOURCE;
      try (InputStream in =
          PricingTable.class.getClassLoader().getResourceAsStream(CLASSPATH_RESOURCE)) {
        if (in == null) {
          throw new IllegalArgumentException("pricing file " + source + " not found");
        }
        return parse(in.readAllBytes(), source);
      } catch (IOException e) {
        throw new IllegalArgumentException("pricing file " + source + " unreadable: " + e, e);
      }
    }
    String path = pricingFile.trim();
    byte[] bytes;
    try {
      if (path.contains("://")) {
        MatchResult.Metadata m = FileSystems.matchSingleFileSpec(path);
        try (ReadableByteChannel ch = FileSystems.open(m.resourceId());
            InputStream in = Channels.newInputStream(ch)) {
          bytes = in.readAllBytes();
        }
      } else {
        bytes = Files.readAllBytes(Path.of(path));
      }
    } catch (NoSuchFileException | java.io.FileNotFoundException e) {
      throw new IllegalArgumentException(
          "pricing file "
              + path
              + " not found (--pricingFile); fix the path or omit the option"
              + " to use the built-in prices",
          e);
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("pricing file " + path + " unreadable: " + e, e);
    }
    return parse(bytes, path);
  }

  /**
   * Parses a pricing document.
   *
   * @param source names the file in error messages
   * @throws IllegalArgumentException listing every problem, each with the file and field
   */
  public static PricingTable parse(byte[] json, String source) {
    JsonNode root;
    try {
      root = MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "pricing file "
              + source
              + ": not valid JSON: "
              + e.getOriginalMessage()
              + (e.getLocation() == null
                  ? ""
                  : " (line "
                      + e.getLocation().getLineNr()
                      + ", column "
                      + e.getLocation().getColumnNr()
                      + ")"),
          e);
    } catch (IOException e) {
      throw new IllegalArgumentException("pricing file " + source + " unreadable: " + e, e);
    }
    List<String> errors = new ArrayList<>();
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException(
          "pricing file " + source + ": must be a JSON object with as_of and backends");
    }
    for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!TOP_LEVEL_KEYS.contains(k)) {
        errors.add(k + ": unknown key; allowed: as_of, currency, note, backends");
      }
    }
    String asOf = null;
    JsonNode asOfNode = root.get("as_of");
    if (asOfNode == null || !asOfNode.isTextual()) {
      errors.add("as_of: required, an ISO date such as \"2026-11-01\"");
    } else {
      try {
        asOf = LocalDate.parse(asOfNode.asText()).toString();
      } catch (DateTimeParseException e) {
        errors.add("as_of: \"" + asOfNode.asText() + "\" is not an ISO date (YYYY-MM-DD)");
      }
    }
    JsonNode currency = root.get("currency");
    if (currency != null && !(currency.isTextual() && currency.asText().equals("USD"))) {
      errors.add("currency: must be \"USD\" (all prices are US dollars), got " + currency);
    }
    LinkedHashMap<String, Backend> backends = new LinkedHashMap<>();
    JsonNode list = root.get("backends");
    if (list == null || !list.isArray() || list.isEmpty()) {
      errors.add("backends: required, a non-empty array of backend entries");
    } else {
      for (int i = 0; i < list.size(); i++) {
        Backend b = parseBackend(list.get(i), "backends[" + i + "]", errors);
        if (b != null) {
          if (backends.containsKey(b.id())) {
            errors.add("backends[" + i + "].id: duplicate id \"" + b.id() + "\"");
          } else {
            backends.put(b.id(), b);
          }
        }
      }
    }
    if (!errors.isEmpty()) {
      throw new IllegalArgumentException(
          "pricing file " + source + " is malformed: " + String.join("; ", errors));
    }
    return new PricingTable(asOf, source, backends);
  }

  private static @Nullable Backend parseBackend(JsonNode n, String at, List<String> errors) {
    if (n == null || !n.isObject()) {
      errors.add(at + ": must be an object");
      return null;
    }
    int before = errors.size();
    for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!BACKEND_KEYS.contains(k)) {
        errors.add(
            at + "." + k + ": unknown key; allowed: " + String.join(", ", sorted(BACKEND_KEYS)));
      }
    }
    String id = null;
    JsonNode idNode = n.get("id");
    if (idNode == null || !idNode.isTextual() || !ID.matcher(idNode.asText()).matches()) {
      errors.add(at + ".id: required, a string matching [a-z0-9_]{1,64}, got " + idNode);
    } else {
      id = idNode.asText();
    }
    String api = null;
    JsonNode apiNode = n.get("api");
    if (apiNode == null || !apiNode.isTextual() || apiNode.asText().isBlank()) {
      errors.add(at + ".api: required, a non-empty string, got " + apiNode);
    } else {
      api = apiNode.asText();
    }
    String model = null;
    JsonNode modelNode = n.get("model");
    if (modelNode != null && !modelNode.isNull()) {
      if (!modelNode.isTextual() || !MODEL.matcher(modelNode.asText()).matches()) {
        errors.add(
            at
                + ".model: must be a model name such as \"veo-3.0-generate-001\" or"
                + " \"owner/name\" ([A-Za-z0-9._:/-]{1,128}), got "
                + modelNode);
      } else {
        model = modelNode.asText();
      }
    }
    double price = 0;
    JsonNode priceNode = n.get("usd_per_second");
    if (priceNode == null
        || !priceNode.isNumber()
        || !Double.isFinite(priceNode.asDouble())
        || priceNode.asDouble() < 0) {
      errors.add(at + ".usd_per_second: required, a number ≥ 0, got " + priceNode);
    } else {
      price = priceNode.asDouble();
    }
    List<String> modes = new ArrayList<>();
    JsonNode modesNode = n.get("modes");
    if (modesNode == null) {
      modes.add(MODE_FINAL);
      modes.add(MODE_ESTIMATE);
    } else if (!modesNode.isArray() || modesNode.isEmpty()) {
      errors.add(at + ".modes: must be a non-empty array of final, preview, estimate");
    } else {
      for (JsonNode m : modesNode) {
        if (!m.isTextual() || !MODES.contains(m.asText())) {
          errors.add(at + ".modes: " + m + " is not one of final, preview, estimate");
        } else if (!modes.contains(m.asText())) {
          modes.add(m.asText());
        }
      }
    }
    boolean previewOnly = modes.size() == 1 && modes.contains(MODE_PREVIEW);
    Double quality = null;
    JsonNode q = n.get("prior_quality");
    if (q == null || q.isNull()) {
      if (!previewOnly) {
        errors.add(
            at
                + ".prior_quality: required (a number in [0, 1]) unless modes is"
                + " [\"preview\"]");
      }
    } else if (!q.isNumber() || q.asDouble() < 0 || q.asDouble() > 1) {
      errors.add(at + ".prior_quality: must be a number in [0, 1] or null, got " + q);
    } else {
      quality = q.asDouble();
    }
    List<Integer> clips = new ArrayList<>();
    JsonNode c = n.get("clip_seconds");
    if (c == null || !c.isArray()) {
      errors.add(at + ".clip_seconds: required, an array of integers 1–60 ([] for preview only)");
    } else {
      for (JsonNode x : c) {
        if (!x.isIntegralNumber() || x.asLong() < 1 || x.asLong() > 60) {
          errors.add(at + ".clip_seconds: " + x + " is not an integer 1–60");
        } else if (!clips.contains(x.asInt())) {
          clips.add(x.asInt());
        }
      }
      if (c.isEmpty() && !previewOnly) {
        errors.add(at + ".clip_seconds: must not be empty unless modes is [\"preview\"]");
      }
    }
    if (errors.size() > before) {
      return null;
    }
    Collections.sort(clips);
    return new Backend(id, api, model, price, quality, clips, modes);
  }

  private static List<String> sorted(Set<String> s) {
    List<String> l = new ArrayList<>(s);
    Collections.sort(l);
    return l;
  }

  /** The {@code as_of} date of the list prices, {@code YYYY-MM-DD}. */
  public String asOf() {
    return asOf;
  }

  /** Where the table was loaded from ({@code classpath:pricing.json} or the path). */
  public String source() {
    return source;
  }

  /** All entries, in file order. */
  public List<Backend> backends() {
    return List.copyOf(backends.values());
  }

  /** Every backend id, in file order. */
  public List<String> ids() {
    return List.copyOf(backends.keySet());
  }

  public boolean contains(String id) {
    return backends.containsKey(id);
  }

  public Optional<Backend> find(String id) {
    return Optional.ofNullable(backends.get(id));
  }

  /**
   * @throws IllegalArgumentException for an id not in the table
   */
  public Backend get(String id) {
    Backend b = backends.get(id);
    if (b == null) {
      throw new IllegalArgumentException(
          "backend \"" + id + "\" is not in the pricing table " + source + "; known: " + ids());
    }
    return b;
  }

  /**
   * Parses {@code --renderBackends} (comma separated ids; null or blank means {@code preview}).
   * Blanks around ids are ignored, duplicates are dropped, order is kept.
   *
   * @throws IllegalArgumentException naming every id that is not in this table, so a pipeline with
   *     a misspelt backend refuses to start instead of refusing every job
   */
  public List<String> parseRenderBackends(@Nullable String option) {
    List<String> ids = new ArrayList<>();
    if (option == null || option.isBlank()) {
      ids.add("preview");
    } else {
      for (String part : option.split(",")) {
        String id = part.trim();
        if (!id.isEmpty() && !ids.contains(id)) {
          ids.add(id);
        }
      }
    }
    List<String> unknown = new ArrayList<>();
    for (String id : ids) {
      if (!backends.containsKey(id)) {
        unknown.add(id);
      }
    }
    if (!unknown.isEmpty() || ids.isEmpty()) {
      throw new IllegalArgumentException(
          "--renderBackends="
              + option
              + ": unknown backend id(s) "
              + unknown
              + "; known in "
              + source
              + ": "
              + String.join(", ", ids()));
    }
    return List.copyOf(ids);
  }

  /** Entries keyed by id (read-only). */
  public Map<String, Backend> asMap() {
    return Collections.unmodifiableMap(backends);
  }

  @Override
  public String toString() {
    return "PricingTable{asOf="
        + asOf
        + ", source="
        + source
        + ", backends="
        + backends.values()
        + "}";
  }
}
