package com.aiprod.pipeline.options;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.beans.Introspector;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import javax.annotation.Nullable;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryOptions;
import org.apache.beam.sdk.options.Default;

/**
 * The Flex Template spec ({@code templates/metadata.json}) generated from the {@link
 * TemplateParameter} annotations of {@link AiprodOptions}: the options are the parameters, same
 * names (DESIGN §11). {@code TemplateSpecTest} keeps the committed file equal to {@link
 * #generate()} and rewrites it with {@code -Daiprod.regenerateTemplateSpec=true}.
 */
public final class TemplateSpec {
  private static final ObjectMapper JSON = new ObjectMapper();

  static final String NAME = "AIPROD Pipeline";
  static final String DESCRIPTION =
      "Authenticated AI-video job requests in (Pub/Sub subscription for streaming, JSONL files on"
          + " Cloud Storage for batch), rendered and quality-checked deliverables out: Firestore job"
          + " documents, BigQuery job_results, shot_renders, audit_events and dead_letters, output"
          + " files on Cloud Storage. Parameters are the pipeline options of DESIGN section 11, same"
          + " names.";

  /** One parameter of the spec. */
  public record Parameter(
      String name,
      String label,
      String helpText,
      String group,
      boolean optional,
      String paramType,
      @Nullable String defaultValue,
      List<String> enumValues,
      List<String> regexes,
      int order) {}

  /** Beam's own options that the template exposes under Beam's names (their getters are Beam's). */
  static final List<Parameter> BEAM_PARAMETERS =
      List.of(
          new Parameter(
              "useStorageWriteApiAtLeastOnce",
              "BigQuery at-least-once writes",
              "Beam's BigQueryOptions: true writes with the Storage Write API's at-least-once mode"
                  + " (cheaper, lower latency, a retried append may duplicate rows; query the"
                  + " *_dedup views); false (default) writes exactly once. Examples: `false`,"
                  + " `true`.",
              "Outputs",
              true,
              "BOOLEAN",
              beamDefault(BigQueryOptions.class, "getUseStorageWriteApiAtLeastOnce"),
              List.of(),
              List.of(),
              8),
          new Parameter(
              "firestoreDb",
              "Firestore database",
              "Beam's FirestoreOptions: the Firestore database of the job documents and the spend"
                  + " ledger, in the job's project. Examples: `(default)`, `aiprod`.",
              "Outputs",
              true,
              "",
              "(default)",
              List.of(),
              List.of("^(\\(default\\)|[a-z][a-z0-9-]{2,61}[a-z0-9])$"),
              Integer.MAX_VALUE));

  private TemplateSpec() {}

  /** The parameters, in spec order. */
  public static List<Parameter> parameters() {
    List<Parameter> out = new ArrayList<>();
    for (Method m : AiprodOptions.class.getDeclaredMethods()) {
      TemplateParameter t = m.getAnnotation(TemplateParameter.class);
      if (t == null) {
        continue;
      }
      out.add(
          new Parameter(
              optionName(m),
              t.label(),
              t.helpText(),
              t.group(),
              t.optional(),
              t.paramType(),
              t.optional() ? defaultOf(m) : null,
              List.of(t.enumValues()),
              List.of(t.regexes()),
              t.order()));
    }
    out.addAll(BEAM_PARAMETERS);
    out.sort(Comparator.comparingInt(Parameter::order));
    return out;
  }

  /** {@code getX} / {@code isX} → {@code x}. */
  static String optionName(Method getter) {
    String n = getter.getName();
    return Introspector.decapitalize(n.startsWith("is") ? n.substring(2) : n.substring(3));
  }

  /** The {@code @Default} of a Beam option's getter, as text. */
  private static String beamDefault(Class<?> options, String getter) {
    try {
      return defaultOf(options.getMethod(getter));
    } catch (NoSuchMethodException e) {
      throw new IllegalStateException("Beam option getter " + getter + " not found", e);
    }
  }

  /** The option's {@code @Default} as text, or null. */
  static @Nullable String defaultOf(Method getter) {
    Default.String s = getter.getAnnotation(Default.String.class);
    if (s != null) {
      return s.value();
    }
    Default.Integer i = getter.getAnnotation(Default.Integer.class);
    if (i != null) {
      return String.valueOf(i.value());
    }
    Default.Long l = getter.getAnnotation(Default.Long.class);
    if (l != null) {
      return String.valueOf(l.value());
    }
    Default.Boolean b = getter.getAnnotation(Default.Boolean.class);
    if (b != null) {
      return String.valueOf(b.value());
    }
    return null;
  }

  /** The spec as the committed file holds it (two-space indent, one line per field). */
  public static String generate() {
    StringBuilder s = new StringBuilder();
    s.append("{\n");
    field(s, 1, "name", NAME, true);
    field(s, 1, "description", DESCRIPTION, true);
    s.append("  \"streaming\": true,\n");
    s.append("  \"supportsAtLeastOnce\": false,\n");
    s.append("  \"supportsExactlyOnce\": true,\n");
    field(s, 1, "defaultStreamingMode", "EXACTLY_ONCE", true);
    s.append("  \"parameters\": [\n");
    List<Parameter> params = parameters();
    for (int i = 0; i < params.size(); i++) {
      Parameter p = params.get(i);
      s.append("    {\n");
      field(s, 3, "name", p.name(), true);
      field(s, 3, "label", p.label(), true);
      field(s, 3, "helpText", p.helpText(), true);
      field(s, 3, "groupName", p.group(), true);
      s.append("      \"isOptional\": ").append(p.optional()).append(",\n");
      if (!p.paramType().isEmpty()) {
        field(s, 3, "paramType", p.paramType(), true);
      }
      if (p.defaultValue() != null) {
        field(s, 3, "defaultValue", p.defaultValue(), true);
      }
      List<String> lines = new ArrayList<>();
      if (!p.enumValues().isEmpty()) {
        List<String> options = new ArrayList<>();
        p.enumValues()
            .forEach(
                v -> options.add("{\"value\": " + quote(v) + ", \"label\": " + quote(v) + "}"));
        lines.add("      \"enumOptions\": [" + String.join(", ", options) + "]");
      }
      if (!p.regexes().isEmpty()) {
        List<String> quoted = new ArrayList<>();
        p.regexes().forEach(r -> quoted.add(quote(r)));
        lines.add("      \"regexes\": [" + String.join(", ", quoted) + "]");
      }
      // isOptional is always there, so the last field is one of these or it.
      if (lines.isEmpty()) {
        s.setLength(s.length() - 2); // drop the ",\n" after the previous field
        s.append("\n");
      } else {
        s.append(String.join(",\n", lines)).append("\n");
      }
      s.append(i + 1 < params.size() ? "    },\n" : "    }\n");
    }
    s.append("  ]\n");
    s.append("}\n");
    return s.toString();
  }

  /**
   * The parameters as the template's README shows them ({@code templates/README.md}): one table per
   * console group, in spec order.
   */
  public static String markdown() {
    StringBuilder s = new StringBuilder();
    s.append("# ").append(NAME).append(" Flex Template parameters\n\n");
    s.append("Generated from the `@TemplateParameter` annotations of `AiprodOptions` (as is\n");
    s.append("`metadata.json`); `TemplateSpecTest` keeps this file equal to them. Pass each one\n");
    s.append("as `--param NAME=VALUE` to `scripts/launch-template`. Options for local runs only\n");
    s.append("(`authMode`, `devAuthDir`, `pubsubAcks`, `ackDelaySeconds`, `stopAfterOutcomes`,\n");
    s.append("`dryRun`) are not parameters of the template.\n");
    java.util.Map<String, List<Parameter>> groups = new java.util.LinkedHashMap<>();
    for (Parameter p : parameters()) {
      groups.computeIfAbsent(p.group(), g -> new ArrayList<>()).add(p);
    }
    groups.forEach(
        (group, ps) -> {
          s.append("\n## ").append(group).append("\n\n");
          s.append("| parameter | required | default | type | what it is |\n");
          s.append("|---|---|---|---|---|\n");
          for (Parameter p : ps) {
            s.append("| `")
                .append(p.name())
                .append("` | ")
                .append(p.optional() ? "no" : "yes")
                .append(" | ")
                .append(p.defaultValue() == null ? "" : "`" + p.defaultValue() + "`")
                .append(" | ")
                .append(type(p))
                .append(" | ")
                .append(cell(p.label() + ". " + p.helpText()))
                .append(" |\n");
          }
        });
    return s.toString();
  }

  /** The parameter's type as the console shows it: text unless Dataflow has a type for it. */
  private static String type(Parameter p) {
    String type = p.paramType().isEmpty() ? "TEXT" : p.paramType();
    return p.enumValues().isEmpty() ? type : type + ": " + String.join(", ", p.enumValues());
  }

  private static String cell(String text) {
    return text.replace("|", "\\|").replace("\n", " ");
  }

  private static void field(StringBuilder s, int depth, String name, String value, boolean comma) {
    s.append("  ".repeat(depth))
        .append(quote(name))
        .append(": ")
        .append(quote(value))
        .append(comma ? ",\n" : "\n");
  }

  private static String quote(String value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
