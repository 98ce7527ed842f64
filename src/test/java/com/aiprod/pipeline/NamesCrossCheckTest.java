package com.aiprod.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.in;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;

import com.aiprod.pipeline.audit.AuditSignatures;
import com.aiprod.pipeline.model.JobState;
import com.aiprod.pipeline.model.ReasonCode;
import com.aiprod.pipeline.options.AiprodOptions;
import com.aiprod.pipeline.persist.WarehouseTable;
import com.aiprod.pipeline.tools.AnalystViews;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.beans.Introspector;
import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Names shared by terraform/, the code, sql/, scripts/ and DESIGN.md (where names are contracts):
 * tables and their schema files, Pub/Sub topics and subscriptions, secrets, Flex Template
 * parameters, metric names of the alerts and the dashboard, and the codes, types, states, presets
 * and deadlines the views use. Parsing is textual (the terraform files are plain HCL, the views
 * plain SQL); any drift fails a test naming what drifted.
 */
class NamesCrossCheckTest {
  private static final Path TERRAFORM = Paths.get("terraform");
  private static final Path SQL = Paths.get("sql");

  /**
   * The specification: {@code ../shared/DESIGN.md} next to the project when it is there, else the
   * copy the repository keeps in {@code docs/DESIGN.md} (a clean checkout elsewhere, e.g. CI);
   * {@link #theRepositoryCopyOfDesignIsCurrent} keeps the copy equal to the original.
   */
  private static final Path SHARED_DESIGN = Paths.get("../shared/DESIGN.md");

  private static final Path DESIGN_COPY = Paths.get("docs/DESIGN.md");

  private static final Path DESIGN =
      Files.isRegularFile(SHARED_DESIGN) ? SHARED_DESIGN : DESIGN_COPY;

  static String design;
  static String locals;
  static String allTerraform;

  @BeforeAll
  static void read() throws IOException {
    assertThat(
        "DESIGN.md is expected at " + DESIGN.toAbsolutePath().normalize(),
        Files.isRegularFile(DESIGN),
        is(true));
    design = Files.readString(DESIGN, StandardCharsets.UTF_8);
    locals = Files.readString(TERRAFORM.resolve("locals.tf"), StandardCharsets.UTF_8);
    StringBuilder all = new StringBuilder();
    try (Stream<Path> files = Files.list(TERRAFORM)) {
      for (Path f :
          files
              .filter(p -> p.toString().endsWith(".tf") || p.toString().endsWith(".tftpl"))
              .sorted()
              .toList()) {
        all.append(Files.readString(f, StandardCharsets.UTF_8)).append('\n');
      }
    }
    allTerraform = all.toString();
  }

  // --- helpers --------------------------------------------------------------------------------

  @Test
  void theRepositoryCopyOfDesignIsCurrent() throws IOException {
    assertThat(
        "docs/DESIGN.md is kept in the repository", Files.isRegularFile(DESIGN_COPY), is(true));
    if (Files.isRegularFile(SHARED_DESIGN)) {
      assertThat(
          "docs/DESIGN.md differs from ../shared/DESIGN.md: copy it again (cp ../shared/DESIGN.md docs/)",
          Files.readString(DESIGN_COPY, StandardCharsets.UTF_8),
          equalTo(Files.readString(SHARED_DESIGN, StandardCharsets.UTF_8)));
    }
  }

  /** The text of DESIGN's section {@code n} ("## n. ..." up to the next "## "). */
  static String designSection(int n) {
    Matcher m = Pattern.compile("(?ms)^## " + n + "\\. .*?(?=^## |\\z)").matcher(design);
    assertThat("DESIGN.md has a section " + n, m.find(), is(true));
    return m.group();
  }

  /** Words of the backtick-quoted spans of {@code text} matching {@code word}. */
  static Set<String> quotedWords(String text, String word) {
    Set<String> out = new TreeSet<>();
    Matcher q = Pattern.compile("`([^`]+)`").matcher(text);
    while (q.find()) {
      Matcher w = Pattern.compile(word).matcher(q.group(1));
      while (w.find()) {
        out.add(w.group());
      }
    }
    return out;
  }

  static String local(String name) {
    Matcher m = Pattern.compile("(?m)^\\s*" + name + "\\s*=\\s*\"([^\"]+)\"").matcher(locals);
    assertThat("terraform/locals.tf defines local." + name, m.find(), is(true));
    return m.group(1);
  }

  /** The HCL block that starts at the first match of {@code start} (an opening bracket ends it). */
  static String block(String text, String start) {
    int i = text.indexOf(start);
    assertThat("terraform has `" + start + "`", i >= 0, is(true));
    int open = i + start.length() - 1;
    char o = text.charAt(open);
    char c = o == '{' ? '}' : o == '(' ? ')' : ']';
    int depth = 0;
    for (int j = open; j < text.length(); j++) {
      if (text.charAt(j) == o) {
        depth++;
      } else if (text.charAt(j) == c && --depth == 0) {
        return text.substring(open + 1, j);
      }
    }
    throw new AssertionError("unbalanced block after " + start);
  }

  static Set<String> schemaFiles() throws IOException {
    try (Stream<Path> files = Files.list(Paths.get("src/main/resources/schemas"))) {
      return files
          .map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(".json"))
          .map(n -> n.substring(0, n.length() - ".json".length()))
          .collect(Collectors.toCollection(TreeSet::new));
    }
  }

  // --- tables ---------------------------------------------------------------------------------

  @Test
  void theFourTablesAreTheSameInDesignCodeSchemasAndTerraform() throws IOException {
    Set<String> inDesign = new TreeSet<>();
    Matcher m = Pattern.compile("(?m)^- `([a-z_]+)`:").matcher(designSection(8));
    while (m.find()) {
      inDesign.add(m.group(1));
    }
    Set<String> inCode =
        Arrays.stream(WarehouseTable.values())
            .map(WarehouseTable::tableName)
            .collect(Collectors.toCollection(TreeSet::new));
    Set<String> inTerraform = new TreeSet<>();
    Matcher t = Pattern.compile("(?m)^    ([a-z_]+) = \\{").matcher(block(locals, "tables = {"));
    while (t.find()) {
      inTerraform.add(t.group(1));
    }
    assertThat(inDesign.size(), equalTo(4));
    assertThat("code (WarehouseTable) vs DESIGN §8", inCode, equalTo(inDesign));
    assertThat("schema files vs DESIGN §8", schemaFiles(), equalTo(inDesign));
    assertThat("terraform local.tables vs DESIGN §8", inTerraform, equalTo(inDesign));
  }

  @Test
  void terraformReadsTheSchemasFromTheFilesTheCodeReads() {
    assertThat(local("schema_dir"), equalTo("${path.module}/../src/main/resources/schemas"));
    assertThat(
        allTerraform,
        org.hamcrest.Matchers.containsString(
            "schema     = file(\"${local.schema_dir}/${each.key}.json\")"));
  }

  @Test
  void partitioningAndClusteringFollowDesign() {
    String tables = block(locals, "tables = {");
    assertThat(
        block(tables, "job_results = {"),
        org.hamcrest.Matchers.matchesPattern(
            "(?s).*partition_field = \"finished_at\".*clustering\\s*= \\[\"tenant\", \"state\"\\].*"));
    assertThat(
        block(tables, "audit_events = {"),
        org.hamcrest.Matchers.matchesPattern(
            "(?s).*partition_field = \"event_time\".*clustering\\s*= \\[\"event_type\", \"tenant\"\\].*"));
  }

  // --- Pub/Sub --------------------------------------------------------------------------------

  @Test
  void topicsAndSubscriptionsMatchTheLocalStreamingRun() throws IOException {
    String runLocal = Files.readString(Paths.get("scripts/run-local"), StandardCharsets.UTF_8);
    Map<String, String> expected = new LinkedHashMap<>();
    expected.put("jobs_topic", "topics/");
    expected.put("pipeline_subscription", "subscriptions/");
    expected.put("dead_letter_topic", "topics/");
    expected.put("dead_letter_subscription", "subscriptions/");
    for (Map.Entry<String, String> e : expected.entrySet()) {
      String name = local(e.getKey());
      assertThat(
          "scripts/run-local --streaming uses " + e.getValue() + name,
          runLocal.contains(e.getValue() + name + "\""),
          is(true));
    }
    assertThat(local("jobs_topic"), org.hamcrest.Matchers.startsWith("aiprod-"));
    assertThat(local("pipeline_subscription"), equalTo(local("jobs_topic") + "-pipeline"));
    assertThat(local("dead_letter_subscription"), equalTo(local("dead_letter_topic") + "-inspect"));
  }

  // --- secrets --------------------------------------------------------------------------------

  @Test
  void secretsAreThoseOfDesignAndEveryOneTheCodeReads() throws IOException {
    Matcher m = Pattern.compile("secrets = toset\\(\\[([^\\]]*)\\]\\)").matcher(locals);
    assertThat("terraform local.secrets", m.find(), is(true));
    Set<String> inTerraform = new TreeSet<>();
    Matcher s = Pattern.compile("\"([^\"]+)\"").matcher(m.group(1));
    while (s.find()) {
      inTerraform.add(s.group(1));
    }
    Set<String> inDesign = new TreeSet<>();
    Matcher d =
        Pattern.compile("secrets?\\s+`([a-z0-9-]+)`(?:,\\s*`([a-z0-9-]+)`)?").matcher(design);
    while (d.find()) {
      inDesign.add(d.group(1));
      if (d.group(2) != null) {
        inDesign.add(d.group(2));
      }
    }
    assertThat(
        "secrets named in DESIGN (§5, §9)",
        inDesign,
        equalTo(new TreeSet<>(List.of("audit-hmac-key", "replicate-api-token", "runway-api-key"))));
    assertThat("terraform secrets vs DESIGN", inTerraform, equalTo(inDesign));
    // Every secret name the code reads is a container: literals of constants named *SECRET*, or
    // given to a resolver directly.
    Set<String> inCode = new TreeSet<>();
    Pattern literal =
        Pattern.compile(
            "(?:[A-Z_]*SECRET[A-Z_]*\\s*=\\s*|resolve\\(\\s*|secret\\(\\s*)\"([a-z][a-z0-9]*(?:-[a-z0-9]+)+)\"");
    try (Stream<Path> files = Files.walk(Paths.get("src/main/java"))) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        Matcher l = literal.matcher(Files.readString(f, StandardCharsets.UTF_8));
        while (l.find()) {
          inCode.add(l.group(1));
        }
      }
    }
    assertThat(inCode, hasItem(AuditSignatures.KEY_SECRET));
    assertThat(inTerraform, hasItem(com.aiprod.pipeline.render.backends.RunwayBackend.SECRET));
    assertThat(inTerraform, hasItem(com.aiprod.pipeline.render.backends.ReplicateBackend.SECRET));
    assertThat(
        "secret names in src/main missing from terraform", inCode, everyItem(is(in(inTerraform))));
    // Accessor bindings: the worker only.
    String binding =
        block(
            allTerraform,
            "resource \"google_secret_manager_secret_iam_member\" \"worker_accessor\" {");
    assertThat(
        binding, org.hamcrest.Matchers.containsString("google_service_account.worker.email"));
    assertThat(
        "one secret IAM resource",
        allTerraform.split("resource \"google_secret_manager_secret_iam_").length - 1,
        equalTo(1));
    assertThat(
        "one grant of a Secret Manager role",
        allTerraform.split("roles/secretmanager\\.").length - 1,
        equalTo(1));
  }

  // --- Flex Template parameters ---------------------------------------------------------------

  static Set<String> optionNames() {
    Set<String> out = new TreeSet<>();
    for (Method m : AiprodOptions.class.getMethods()) {
      String n = m.getName();
      if (m.getParameterCount() == 0
          && (n.startsWith("get") || n.startsWith("is"))
          && !n.equals("getClass")) {
        out.add(Introspector.decapitalize(n.substring(n.startsWith("get") ? 3 : 2)));
      }
    }
    return out;
  }

  /** Options of AiprodOptions that DESIGN §11 does not list (render backends, Gemini issues). */
  static final Set<String> OPTIONS_AFTER_DESIGN =
      Set.of(
          "geminiModel",
          "vertexLocation",
          "vertexEndpoint",
          "runwayEndpoint",
          "replicateEndpoint",
          "backendRequestTimeoutSeconds");

  @Test
  void flexTemplateParametersAreOptionsOfDesignAndOfTheCode() {
    String params = block(allTerraform, "parameters = merge(");
    Set<String> keys = new TreeSet<>();
    Matcher k =
        Pattern.compile("(?m)(?:^\\s*|\\{\\s*)([A-Za-z][A-Za-z0-9]*)\\s*=\\s(?!=)").matcher(params);
    while (k.find()) {
      keys.add(k.group(1));
    }
    assertThat(keys, hasItem("inputSubscription"));
    assertThat(keys, hasItem("warehouse"));
    Set<String> designOptions = quotedWords(designSection(11), "\\b[a-z][A-Za-z]+\\b");
    Set<String> options = optionNames();
    List<String> bad = new ArrayList<>();
    for (String key : keys) {
      if (!options.contains(key)) {
        bad.add(key + " is not an option of AiprodOptions (nor of the Beam options it extends)");
      }
      if (!designOptions.contains(key) && !OPTIONS_AFTER_DESIGN.contains(key)) {
        bad.add(
            key
                + " is not an option name of DESIGN §11 (nor one of the later options "
                + OPTIONS_AFTER_DESIGN
                + ")");
      }
    }
    assertThat(bad, empty());
    // Exactly one input, and production settings.
    assertThat(
        keys.stream().filter(x -> x.startsWith("input")).toList(),
        equalTo(List.of("inputSubscription")));
    // authMode is not a template parameter: a Dataflow job verifies Firebase tokens (the default).
    assertThat(keys, not(hasItem("authMode")));
    assertThat(
        allTerraform, org.hamcrest.Matchers.containsString("on_delete               = \"drain\""));
  }

  /**
   * The Flex Template must declare every parameter the terraform job passes. templates/ is written
   * on another branch: until it exists here, this check is skipped (reported so), never passed.
   */
  @Test
  void flexTemplateMetadataDeclaresEveryParameterTerraformPasses() throws IOException {
    Path metadata = Paths.get("templates/metadata.json");
    org.junit.jupiter.api.Assumptions.assumeTrue(
        Files.isRegularFile(metadata), "templates/metadata.json not on this branch");
    Set<String> declared = new TreeSet<>();
    new ObjectMapper()
        .readTree(metadata.toFile())
        .path("parameters")
        .forEach(p -> declared.add(p.path("name").asText()));
    String params = block(allTerraform, "parameters = merge(");
    Matcher k =
        Pattern.compile("(?m)(?:^\\s*|\\{\\s*)([A-Za-z][A-Za-z0-9]*)\\s*=\\s(?!=)").matcher(params);
    List<String> undeclared = new ArrayList<>();
    while (k.find()) {
      if (!declared.contains(k.group(1))) {
        undeclared.add(k.group(1));
      }
    }
    assertThat(
        "Flex parameters of terraform/dataflow.tf missing from templates/metadata.json",
        undeclared,
        empty());
  }

  // --- metrics --------------------------------------------------------------------------------

  /** Counter and distribution names of namespace aiprod the code emits (dynamic parts expanded). */
  static Set<String> emittedMetrics() throws IOException {
    Map<String, List<String>> suffixes = new LinkedHashMap<>();
    List<String> states =
        Arrays.stream(JobState.values()).map(s -> s.name().toLowerCase(Locale.ROOT)).toList();
    List<String> reasons = Arrays.stream(ReasonCode.values()).map(Enum::name).toList();
    List<String> backends = new ArrayList<>();
    JsonNode pricing =
        new ObjectMapper().readTree(Paths.get("src/main/resources/pricing.json").toFile());
    pricing.findValues("id").forEach(id -> backends.add(id.asText()));
    List<String> tables =
        Arrays.stream(WarehouseTable.values()).map(WarehouseTable::tableName).toList();
    suffixes.put("jobs_", states);
    suffixes.put("dead_letters_", reasons);
    suffixes.put("shots_submitted_", backends);
    suffixes.put("shots_succeeded_", backends);
    suffixes.put("shots_failed_", backends);
    suffixes.put("warehouse_rows_inserted_", tables);
    suffixes.put("warehouse_rows_duplicate_", tables);
    suffixes.put("warehouse_rows_refused_", tables);
    Set<String> out = new TreeSet<>();
    List<String> unknown = new ArrayList<>();
    Pattern metric =
        Pattern.compile(
            "Metrics\\.(?:counter|distribution)\\(\\s*\"aiprod\",\\s*\"([a-z0-9_]+)\"\\s*([+)])");
    // (cond ? "a_" : "b_") + x
    Pattern choice =
        Pattern.compile(
            "Metrics\\.(?:counter|distribution)\\(\\s*\"aiprod\",\\s*\\([^?;]*\\?\\s*\"([a-z0-9_]+)\"\\s*:\\s*\"([a-z0-9_]+)\"\\s*\\)\\s*\\+");
    try (Stream<Path> files = Files.walk(Paths.get("src/main/java"))) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        String source = Files.readString(f, StandardCharsets.UTF_8);
        List<String> prefixes = new ArrayList<>();
        Matcher m = metric.matcher(source);
        while (m.find()) {
          if (m.group(2).equals(")")) {
            out.add(m.group(1));
          } else {
            prefixes.add(m.group(1));
          }
        }
        Matcher c = choice.matcher(source);
        while (c.find()) {
          prefixes.add(c.group(1));
          prefixes.add(c.group(2));
        }
        for (String prefix : prefixes) {
          if (suffixes.containsKey(prefix)) {
            suffixes.get(prefix).forEach(x -> out.add(prefix + x));
          } else {
            unknown.add(f + ": \"" + prefix + "\" + ...");
          }
        }
      }
    }
    assertThat(
        "dynamic metric names this test cannot expand (teach it their suffixes)", unknown, empty());
    return out;
  }

  @Test
  void everyMetricOfTheAlertsAndTheDashboardIsEmittedByTheCode() throws IOException {
    Set<String> used = new TreeSet<>();
    Matcher m = Pattern.compile("metric_name=\\\\*\"([A-Za-z0-9_]+)\\\\*\"").matcher(allTerraform);
    while (m.find()) {
      used.add(m.group(1));
    }
    assertThat(used, hasItem("dead_letters"));
    assertThat(used, hasItem("auth_failure"));
    assertThat(used, hasItem("security_alerts"));
    assertThat(used, hasItem("jobs_failed"));
    Set<String> emitted = emittedMetrics();
    List<String> missing = used.stream().filter(u -> !emitted.contains(u)).toList();
    assertThat("metric names used in terraform that the code never emits", missing, empty());
    // The user counters are read from the job the alerts are about.
    assertThat(
        allTerraform,
        org.hamcrest.Matchers.containsString(
            "dataflow_googleapis_com:job_user_counter{monitored_resource=\\\"dataflow_job\\\",job_name=\\\"${var.job_name}\\\""));
  }

  @Test
  void theDashboardIsJsonWithTilesForTheJobAndTheSubscription() throws IOException {
    String template =
        Files.readString(TERRAFORM.resolve("dashboard.json.tftpl"), StandardCharsets.UTF_8);
    assertThat(template, not(org.hamcrest.Matchers.containsString("%{")));
    String rendered =
        template
            .replace("${job_name}", "aiprod-pipeline")
            .replace("${subscription}", "aiprod-jobs-pipeline");
    assertThat(
        "only ${job_name} and ${subscription} are template variables",
        rendered,
        not(org.hamcrest.Matchers.containsString("${")));
    JsonNode dashboard = new ObjectMapper().readTree(rendered);
    assertThat(dashboard.path("mosaicLayout").path("tiles").size(), greaterThan(6));
    assertThat(
        allTerraform,
        org.hamcrest.Matchers.containsString(
            "templatefile(\"${path.module}/dashboard.json.tftpl\""));
  }

  @Test
  void metricsOfDesignThatAreEmittedKeepTheirNames() throws IOException {
    Set<String> emitted = emittedMetrics();
    for (String name :
        List.of(
            "requests_received",
            "auth_success",
            "auth_failure",
            "permission_denied",
            "validation_failed",
            "duplicates",
            "jobs_planned",
            "dead_letters",
            "job_cost_micros",
            "render_latency_ms",
            "end_to_end_latency_ms")) {
      assertThat(
          "DESIGN §12 names " + name + " and the code emits it",
          design.contains(name) && emitted.contains(name),
          is(true));
    }
  }

  // --- views and queries ----------------------------------------------------------------------

  static Map<String, String> sqlFiles() {
    Map<String, String> all = new LinkedHashMap<>();
    AnalystViews.read(SQL.resolve("views")).forEach((k, v) -> all.put("views/" + k, v));
    AnalystViews.read(SQL.resolve("queries")).forEach((k, v) -> all.put("queries/" + k, v));
    return all;
  }

  static Set<String> literals(String sql, String column) {
    Set<String> out = new TreeSet<>();
    Matcher m = Pattern.compile("\\b" + column + "\\s*(?:=|<>|!=)\\s*'([^']*)'").matcher(sql);
    while (m.find()) {
      out.add(m.group(1));
    }
    Matcher in = Pattern.compile("\\b" + column + "\\s+IN\\s*\\(([^)]*)\\)").matcher(sql);
    while (in.find()) {
      Matcher v = Pattern.compile("'([^']*)'").matcher(in.group(1));
      while (v.find()) {
        out.add(v.group(1));
      }
    }
    return out;
  }

  @Test
  void viewsReferenceOnlyTablesAndViewsThroughTheDatasetPlaceholder() throws IOException {
    Map<String, String> views = AnalystViews.read(SQL.resolve("views"));
    Set<String> tables = schemaFiles();
    for (String t : tables) {
      assertThat("a dedup view for " + t, views.containsKey(t + "_dedup"), is(true));
    }
    List<String> bad = new ArrayList<>();
    sqlFiles()
        .forEach(
            (file, sql) -> {
              String code = sql.replaceAll("(?m)--.*$", "");
              Matcher from = Pattern.compile("(?i)\\b(?:FROM|JOIN)\\s+(?!\\()(\\S+)").matcher(code);
              while (from.find()) {
                if (!from.group(1).startsWith(AnalystViews.PLACEHOLDER)) {
                  bad.add(
                      file
                          + ": "
                          + from.group(1)
                          + " lacks the dataset placeholder "
                          + AnalystViews.PLACEHOLDER);
                }
              }
              for (String ref : AnalystViews.references(code)) {
                boolean isTable = tables.contains(ref);
                if (!isTable && !views.containsKey(ref)) {
                  bad.add(file + ": " + ref + " is neither a table nor a view of sql/views");
                }
                if (isTable && !file.endsWith("_dedup")) {
                  bad.add(file + ": reads table " + ref + " directly; read " + ref + "_dedup");
                }
              }
            });
    assertThat(bad, empty());
  }

  /** "PARTITION BY a, b ORDER BY c" of a dedup view, without qualifiers, quotes or spacing. */
  static String dedupWindow(String sql) {
    Matcher m =
        Pattern.compile("PARTITION BY (.*?) ORDER BY (.*?)\\) = 1")
            .matcher(sql.replaceAll("\\s+", " "));
    assertThat("a ROW_NUMBER() dedup window in:\n" + sql, m.find(), is(true));
    return ("PARTITION BY " + m.group(1) + " ORDER BY " + m.group(2))
        .replaceAll("\\bd\\.|`", "")
        .replaceAll("\\s+", " ");
  }

  @Test
  void dedupViewsKeyRowsLikeTheWarehouseDoes() {
    Map<String, String> views = AnalystViews.read(SQL.resolve("views"));
    com.aiprod.pipeline.persist.BigQueryWarehouse bq =
        new com.aiprod.pipeline.persist.BigQueryWarehouse("demo-aiprod", "aiprod");
    for (WarehouseTable t : WarehouseTable.values()) {
      String file = views.get(t.tableName() + "_dedup");
      assertThat(t.tableName() + "_dedup.sql", file != null, is(true));
      assertThat(t.tableName(), dedupWindow(file), equalTo(dedupWindow(bq.dedupViewSql(t))));
      assertThat(
          t.tableName(),
          dedupWindow(file),
          org.hamcrest.Matchers.startsWith(
              "PARTITION BY CAST("
                  + t.partitionColumn()
                  + " AS DATE), "
                  + String.join(", ", t.primaryKey())
                  + " ORDER BY"));
    }
  }

  @Test
  void codesTypesAndStatesInTheViewsExistInDesign() {
    Set<String> types =
        quotedWords(
            designSection(9).split("\n\n")[0].replaceAll("(?s).*Types: ", "Types: "),
            "\\b[A-Z_]{3,}\\b");
    assertThat(types, hasItem("SECURITY_ALERT"));
    assertThat(types, hasItem("AUTH_FAILURE"));
    Set<String> reasons = quotedWords(designSection(10), "\\b[A-Z_]{3,}\\b");
    assertThat(reasons, hasItem("DUPLICATE_JOB"));
    Set<String> states =
        quotedWords(
            designSection(7).split("\n")[1] + designSection(7).split("\n")[2], "\\b[A-Z_]{2,}\\b");
    assertThat(states, hasItem("ESTIMATED"));
    assertThat(states, hasItem("CANCELLED"));
    List<String> bad = new ArrayList<>();
    Set<String> usedTypes = new TreeSet<>();
    sqlFiles()
        .forEach(
            (file, sql) -> {
              for (String t : literals(sql, "event_type")) {
                usedTypes.add(t);
                if (!types.contains(t)) {
                  bad.add(file + ": event_type '" + t + "' is not a DESIGN §9 type");
                }
              }
              for (String r : literals(sql, "reason_code")) {
                if (!reasons.contains(r)) {
                  bad.add(file + ": reason_code '" + r + "' is not a DESIGN §10 code");
                }
              }
              for (String s : literals(sql, "state")) {
                if (!states.contains(s)) {
                  bad.add(file + ": state '" + s + "' is not a DESIGN §7 state");
                }
              }
            });
    assertThat(bad, empty());
    assertThat(usedTypes, hasItem("AUTH_FAILURE"));
    assertThat(usedTypes, hasItem("SECURITY_ALERT"));
  }

  @Test
  void presetDeadlinesInTheLatencyViewAreThoseOfDesign() {
    Map<String, Long> designDeadlines = new LinkedHashMap<>();
    Matcher row =
        Pattern.compile("(?m)^\\| ([a-z_]+) \\|[^|]*\\|[^|]*\\|[^|]*\\|[^|]*\\| (\\d+) s \\|")
            .matcher(designSection(4));
    while (row.find()) {
      designDeadlines.put(row.group(1), Long.parseLong(row.group(2)) * 1000);
    }
    assertThat(
        designDeadlines.keySet(),
        equalTo(Set.of("quick_social", "brand_campaign", "premium_spot")));
    String view = AnalystViews.read(SQL.resolve("views")).get("job_latency_vs_deadline");
    Map<String, Set<Long>> inView = new LinkedHashMap<>();
    Matcher when = Pattern.compile("WHEN '([a-z_]+)' THEN (\\d+)").matcher(view);
    while (when.find()) {
      inView
          .computeIfAbsent(when.group(1), x -> new TreeSet<>())
          .add(Long.parseLong(when.group(2)));
    }
    assertThat(inView.keySet(), equalTo(designDeadlines.keySet()));
    designDeadlines.forEach(
        (preset, ms) -> assertThat(preset, inView.get(preset), equalTo(Set.of(ms))));
  }

  @Test
  void terraformCreatesEveryViewFileAndTheCostCheckReadsAView() {
    assertThat(local("dataset_placeholder"), equalTo("$$" + AnalystViews.PLACEHOLDER.substring(1)));
    assertThat(
        locals,
        org.hamcrest.Matchers.containsString(
            "fileset(\"${local.sql_dir}/views\", \"*_dedup.sql\")"));
    assertThat(
        locals,
        org.hamcrest.Matchers.containsString("fileset(\"${local.sql_dir}/views\", \"*.sql\")"));
    Matcher m =
        Pattern.compile("\\$\\{local\\.dataset_qualifier\\}([a-z_]+)").matcher(allTerraform);
    List<String> read = new ArrayList<>();
    while (m.find()) {
      read.add(m.group(1));
    }
    assertThat(read, not(empty()));
    assertThat(read, everyItem(is(in(AnalystViews.read(SQL.resolve("views")).keySet()))));
  }
}
