package com.aiprod.pipeline.options;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.aiprod.pipeline.catalog.PricingTable;
import com.aiprod.pipeline.persist.Warehouse;
import com.aiprod.pipeline.secrets.SecretSource;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.beans.Introspector;
import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.options.Validation;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Holds {@code templates/metadata.json} (the Flex Template parameters) and {@link AiprodOptions}
 * together (DESIGN §11: the parameters are the options, same names), and {@code
 * templates/Dockerfile} to the main class and the jar the pom builds.
 */
class TemplateMetadataTest {
  static final Path METADATA = Path.of("templates/metadata.json");
  static final Path DOCKERFILE = Path.of("templates/Dockerfile");

  /**
   * Beam options that a template user sets: template parameters under Beam's name, with the Beam
   * interface that declares each ({@code useStorageWriteApiAtLeastOnce} instead of a twin of ours).
   */
  static final Map<String, Class<?>> BEAM_REUSED_PARAMETERS =
      Map.of(
          "firestoreDb",
          org.apache.beam.sdk.io.gcp.firestore.FirestoreOptions.class,
          "useStorageWriteApiAtLeastOnce",
          org.apache.beam.sdk.io.gcp.bigquery.BigQueryOptions.class);

  /** Options of AiprodOptions for local runs only, absent from the template, and why. */
  static final Map<String, String> LOCAL_ONLY =
      Map.of(
          "authMode", "dev mode is refused on Dataflow; the default firebase is the only value",
          "devAuthDir", "the dev key pair of authMode=dev",
          "pubsubAcks", "on Dataflow every accepted value means Dataflow's own acknowledgement",
          "ackDelaySeconds", "used only with outcome acknowledgement, refused on Dataflow",
          "stopAfterOutcomes", "a Dataflow job runs until drained or cancelled",
          "dryRun", "checks options and the graph without running: a launch always runs");

  /**
   * Beam options DESIGN §11 reuses that are deliberately not template parameters, and why (also in
   * docs/ARCHITECTURE.md "Flex Template").
   */
  static final Map<String, String> BEAM_REUSED_NOT_PARAMETERS =
      Map.of(
          "project", "set by the launch (gcloud --project), the job's project",
          "tempLocation",
              "set by the launch environment (gcloud --temp-location / --staging-location)",
          "streaming",
              "decided by the pipeline from the input (a subscription or topic means streaming)",
          "emulatorHost", "Firestore emulator: tests and local runs only, never a production job",
          "pubsubRootUrl", "Pub/Sub emulator: tests and local runs only, never a production job");

  /**
   * Options with an interface default (for local runs) that the template requires, since the
   * default is wrong on Dataflow.
   */
  static final Map<String, String> REQUIRED_IN_TEMPLATE_ONLY =
      Map.of(
          "secretSource", "default dir:local/secrets would give each worker its own new audit key",
          "environment", "default dev would record a production job's audit events as dev");

  static final String EXACTLY_ONE_INPUT =
      "Exactly one of inputSubscription, inputTopic, inputFiles.";
  static final List<String> INPUTS = List.of("inputSubscription", "inputTopic", "inputFiles");

  /** Values each parameter's regexes must refuse (beside the accepted examples of its helpText). */
  static Stream<Arguments> badValues() {
    return Stream.of(
        Arguments.of("warehouse", "mysql:x"),
        Arguments.of("warehouse", "duckdb:/tmp/w.duckdb"),
        Arguments.of("warehouse", "bigquery:my-project"),
        Arguments.of("warehouse", "bigquery:p.d"),
        Arguments.of("warehouse", "bigquery:my-project.bad-dataset"),
        Arguments.of("secretSource", "foo"),
        Arguments.of("secretSource", "dir:local/secrets"),
        Arguments.of("secretSource", "secretmanager:my-project"),
        Arguments.of("secretSource", "secretmanager:projects/P"),
        Arguments.of("environment", "qa"),
        Arguments.of("environment", "Prod"),
        Arguments.of("environment", ""),
        Arguments.of("inputSubscription", "aiprod-jobs"),
        Arguments.of("inputSubscription", "projects/my-project/topics/aiprod-jobs"),
        Arguments.of("inputSubscription", "projects/my-project/subscriptions/"),
        Arguments.of("inputSubscription", "projects/My-Project/subscriptions/aiprod-jobs"),
        Arguments.of("inputSubscription", "projects/my-project/subscriptions/ab"),
        Arguments.of("inputTopic", "projects/my-project/subscriptions/aiprod-jobs"),
        Arguments.of("inputTopic", "aiprod-jobs"),
        Arguments.of("deadLetterTopic", "projects/my-project/topics/x"),
        Arguments.of("deadLetterTopic", "topics/aiprod-dead-letters"),
        Arguments.of("inputFiles", "/data/requests.jsonl"),
        Arguments.of("inputFiles", "gs://bucket-only"),
        Arguments.of("outputLocation", "/tmp/out"),
        Arguments.of("outputLocation", "local/out"),
        Arguments.of("outputLocation", "s3://bucket/out"),
        Arguments.of("pricingFile", "pricing.json"),
        Arguments.of("firebaseProject", "ab"),
        Arguments.of("firebaseProject", "My_Project"),
        Arguments.of("renderBackends", "veo3, veo3_fast"),
        Arguments.of("renderBackends", ""),
        Arguments.of("renderBackends", "veo3,,preview"),
        Arguments.of("useStorageWriteApiAtLeastOnce", "yes"),
        Arguments.of("backendRequestTimeoutSeconds", "0"),
        Arguments.of("backendRequestTimeoutSeconds", "-5"),
        Arguments.of("backendRequestTimeoutSeconds", "30s"),
        Arguments.of("runwayEndpoint", "http://api.dev.runwayml.com"),
        Arguments.of("vertexEndpoint", "https://"),
        Arguments.of("vertexLocation", "us central1"),
        Arguments.of("geminiModel", "Gemini 2.5"),
        Arguments.of("firestoreDb", "Default"),
        Arguments.of("firestoreDb", "ab"));
  }

  static JsonNode metadata;
  static Map<String, JsonNode> parameters;

  @BeforeAll
  static void load() throws IOException {
    metadata = new ObjectMapper().readTree(Files.readString(METADATA, StandardCharsets.UTF_8));
    parameters = new LinkedHashMap<>();
    for (JsonNode p : metadata.path("parameters")) {
      JsonNode previous = parameters.put(p.path("name").asText(), p);
      assertThat("duplicate parameter " + p.path("name").asText(), previous, is((JsonNode) null));
    }
  }

  /** Option names declared by AiprodOptions itself (getX / isX), with their getters. */
  static Map<String, Method> declaredOptions() {
    Map<String, Method> out = new TreeMap<>();
    for (Method m : AiprodOptions.class.getDeclaredMethods()) {
      String n = m.getName();
      if (m.getParameterCount() == 0 && !Modifier.isStatic(m.getModifiers())) {
        if (n.startsWith("get") && n.length() > 3) {
          out.put(Introspector.decapitalize(n.substring(3)), m);
        } else if (n.startsWith("is") && n.length() > 2) {
          out.put(Introspector.decapitalize(n.substring(2)), m);
        }
      }
    }
    return out;
  }

  /**
   * The getter of an option anywhere in AiprodOptions' interfaces, else in the Beam interface that
   * declares a reused parameter, or null.
   */
  static Method getter(String option) {
    String cap = Character.toUpperCase(option.charAt(0)) + option.substring(1);
    List<Class<?>> in = new ArrayList<>(List.of(AiprodOptions.class));
    if (BEAM_REUSED_PARAMETERS.containsKey(option)) {
      in.add(BEAM_REUSED_PARAMETERS.get(option));
    }
    for (Class<?> c : in) {
      for (String prefix : List.of("get", "is")) {
        try {
          return c.getMethod(prefix + cap);
        } catch (NoSuchMethodException e) {
          // try the next prefix
        }
      }
    }
    return null;
  }

  /** A parameter's type: its paramType, TEXT when it has none. */
  static String type(JsonNode p) {
    return p.has("paramType") ? p.path("paramType").asText() : "TEXT";
  }

  /** The values an ENUM parameter offers. */
  static List<String> enumValues(JsonNode p) {
    List<String> out = new ArrayList<>();
    p.path("enumOptions").forEach(o -> out.add(o.path("value").asText()));
    return out;
  }

  /** Whether a value is one a parameter accepts: its type's values and every regex. */
  static boolean accepts(JsonNode p, String value) {
    boolean ok =
        switch (type(p)) {
          case "BOOLEAN" -> value.equals("true") || value.equals("false");
          case "ENUM" -> enumValues(p).contains(value);
          case "NUMBER" -> value.matches("-?[0-9]+(\\.[0-9]+)?");
          default -> true;
        };
    for (JsonNode r : p.path("regexes")) {
      ok &= value.matches(r.asText());
    }
    return ok;
  }

  @Test
  void topLevelFields() {
    assertThat(metadata.path("name").asText(), equalTo("AIPROD Pipeline"));
    assertThat(metadata.path("description").asText().isBlank(), is(false));
    assertThat(metadata.path("streaming").asBoolean(), is(true));
    // Exactly-once streaming only: the pipeline's idempotence is tested with the runner
    // deduplicating redeliveries; at-least-once mode is untested (docs/ARCHITECTURE.md).
    assertThat(metadata.path("supportsExactlyOnce").asBoolean(), is(true));
    assertThat(metadata.path("supportsAtLeastOnce").asBoolean(), is(false));
  }

  /**
   * Fields of Dataflow's TemplateMetadata / ParameterMetadata (v1b3): a misspelt key would be
   * ignored silently.
   */
  static final Set<String> TEMPLATE_FIELDS =
      Set.of(
          "name",
          "description",
          "streaming",
          "supportsAtLeastOnce",
          "supportsExactlyOnce",
          "defaultStreamingMode",
          "parameters");

  static final Set<String> PARAMETER_FIELDS =
      Set.of(
          "name",
          "label",
          "helpText",
          "isOptional",
          "regexes",
          "paramType",
          "groupName",
          "defaultValue",
          "hiddenUi",
          "customMetadata",
          "enumOptions",
          "parentName",
          "parentTriggerValues");
  static final Set<String> PARAM_TYPES =
      Set.of(
          "TEXT",
          "GCS_READ_BUCKET",
          "GCS_WRITE_BUCKET",
          "GCS_READ_FILE",
          "GCS_WRITE_FILE",
          "GCS_READ_FOLDER",
          "GCS_WRITE_FOLDER",
          "PUBSUB_TOPIC",
          "PUBSUB_SUBSCRIPTION",
          "BIGQUERY_TABLE",
          "BOOLEAN",
          "ENUM",
          "NUMBER");

  @Test
  void onlyFieldsDataflowKnows() {
    metadata
        .fieldNames()
        .forEachRemaining(
            f -> assertThat("top-level field " + f, TEMPLATE_FIELDS.contains(f), is(true)));
    for (JsonNode p : parameters.values()) {
      p.fieldNames()
          .forEachRemaining(
              f ->
                  assertThat(
                      p.path("name").asText() + " field " + f,
                      PARAMETER_FIELDS.contains(f),
                      is(true)));
      if (p.has("paramType")) {
        assertThat(
            p.path("name").asText() + " paramType",
            PARAM_TYPES.contains(p.path("paramType").asText()),
            is(true));
      }
    }
  }

  @Test
  void everyOptionOfTheInterfaceIsAParameterUnlessLocalOnlyAndViceVersa() {
    Set<String> options = declaredOptions().keySet();
    assertThat(options.containsAll(LOCAL_ONLY.keySet()), is(true));
    Set<String> missing = new TreeSet<>(options);
    missing.removeAll(parameters.keySet());
    missing.removeAll(LOCAL_ONLY.keySet());
    assertThat("options of AiprodOptions without a template parameter", missing, empty());
    for (String local : LOCAL_ONLY.keySet()) {
      assertThat(
          local + " is not a template parameter: " + LOCAL_ONLY.get(local),
          parameters.keySet(),
          not(hasItem(local)));
    }

    Set<String> extra = new TreeSet<>(parameters.keySet());
    extra.removeAll(options);
    extra.removeAll(BEAM_REUSED_PARAMETERS.keySet());
    assertThat("template parameters that are not options of AiprodOptions", extra, empty());

    for (String beam : BEAM_REUSED_PARAMETERS.keySet()) {
      Method g = getter(beam);
      assertThat("Beam option " + beam + " is found", g, notNullValue());
      assertThat(
          beam + " is Beam's, not ours",
          g.getDeclaringClass().getName(),
          not(containsString("aiprod")));
      assertThat(parameters.keySet(), hasItem(beam));
    }
    for (String beam : BEAM_REUSED_NOT_PARAMETERS.keySet()) {
      assertThat(
          "Beam option " + beam + " is reachable through AiprodOptions",
          getter(beam),
          notNullValue());
      assertThat(
          beam + " is not a template parameter: " + BEAM_REUSED_NOT_PARAMETERS.get(beam),
          parameters.keySet(),
          not(hasItem(beam)));
    }
  }

  @Test
  void everyParameterHasLabelHelpTextOptionalityAndAnchoredRe2Regexes() {
    for (JsonNode p : parameters.values()) {
      String name = p.path("name").asText();
      assertThat(name + " label", p.path("label").asText().isBlank(), is(false));
      assertThat(name + " helpText", p.path("helpText").asText().isBlank(), is(false));
      assertThat(name + " isOptional is a boolean", p.path("isOptional").isBoolean(), is(true));
      boolean typed = type(p).equals("BOOLEAN") || type(p).equals("ENUM");
      assertThat(
          name + ": regexes unless BOOLEAN or ENUM (whose type says the values)",
          p.path("regexes").isArray() && p.path("regexes").size() > 0,
          is(!typed));
      for (JsonNode r : p.path("regexes")) {
        String regex = r.asText();
        assertThat(
            name + " regex anchored: " + regex,
            regex.startsWith("^") && regex.endsWith("$"),
            is(true));
        // Dataflow checks parameters with RE2: no lookaround, no backreferences.
        for (String unsupported : List.of("(?=", "(?!", "(?<=", "(?<!", "\\1", "\\2")) {
          assertThat(name + " regex uses " + unsupported, regex, not(containsString(unsupported)));
        }
        Pattern.compile(regex);
      }
      assertThat(
          name + " documents at least one example in its helpText", examples(p), not(empty()));
    }
  }

  @Test
  void requiredOptionsAreRequiredParametersAndTheOthersOptional() {
    Map<String, Method> options = declaredOptions();
    options.keySet().removeAll(LOCAL_ONLY.keySet());
    for (Map.Entry<String, Method> e : options.entrySet()) {
      String name = e.getKey();
      boolean required = e.getValue().isAnnotationPresent(Validation.Required.class);
      boolean optional = parameters.get(name).path("isOptional").asBoolean();
      if (REQUIRED_IN_TEMPLATE_ONLY.containsKey(name)) {
        assertThat(
            name + " is required in the template: " + REQUIRED_IN_TEMPLATE_ONLY.get(name),
            optional,
            is(false));
        assertThat(
            name + " keeps its local default in the interface", hasDefault(e.getValue()), is(true));
        assertThat(
            name + " has no template default (the local one is wrong on Dataflow)",
            parameters.get(name).has("defaultValue"),
            is(false));
      } else {
        assertThat(
            name + ": @Validation.Required <=> isOptional false", optional, equalTo(!required));
      }
    }
    for (String beam : BEAM_REUSED_PARAMETERS.keySet()) {
      assertThat(
          beam + " (Beam's, with a default) is optional",
          parameters.get(beam).path("isOptional").asBoolean(),
          is(true));
    }
  }

  @Test
  void templateDefaultsAreTheOptionDefaults() {
    for (JsonNode p : parameters.values()) {
      String name = p.path("name").asText();
      Method g = getter(name);
      String declared = defaultValue(g);
      if (p.has("defaultValue")) {
        assertThat(
            name + " defaultValue equals the option's @Default",
            p.path("defaultValue").asText(),
            equalTo(declared));
        assertThat(name + " default " + declared + " is accepted", accepts(p, declared), is(true));
      } else if (!REQUIRED_IN_TEMPLATE_ONLY.containsKey(name)) {
        assertThat(
            name + " has an @Default but no defaultValue in the template",
            declared,
            is((String) null));
      }
    }
  }

  @Test
  void exactlyOneInputIsDocumentedOnEachInputAndEnforced() {
    for (String input : INPUTS) {
      JsonNode p = parameters.get(input);
      assertThat(input + " is optional on its own", p.path("isOptional").asBoolean(), is(true));
      assertThat(
          input + " states the rule",
          p.path("helpText").asText(),
          containsString(EXACTLY_ONE_INPUT));
      assertThat(
          input + " option description states the rule",
          getter(input).getAnnotation(org.apache.beam.sdk.options.Description.class).value(),
          containsString("Exactly one of inputSubscription, inputTopic, inputFiles"));
    }
    PricingTable pricing = PricingTable.load(null);
    Map<String, String> base = exampleArguments();
    IllegalArgumentException none =
        assertThrows(
            IllegalArgumentException.class, () -> OptionsCheck.validate(options(base), pricing));
    assertThat(
        none.getMessage(),
        containsString(
            "set exactly one of --inputSubscription, --inputTopic, --inputFiles (got 0)"));
    Map<String, String> two = new LinkedHashMap<>(base);
    two.put("inputSubscription", firstExample("inputSubscription"));
    two.put("inputFiles", firstExample("inputFiles"));
    IllegalArgumentException both =
        assertThrows(
            IllegalArgumentException.class, () -> OptionsCheck.validate(options(two), pricing));
    assertThat(both.getMessage(), containsString("(got 2)"));
    for (String input : INPUTS) {
      Map<String, String> one = new LinkedHashMap<>(base);
      one.put(input, firstExample(input));
      OptionsCheck.validate(options(one), pricing); // accepted
    }
  }

  @Test
  void everyDocumentedExampleMatchesItsTypeAndRegexes() {
    for (JsonNode p : parameters.values()) {
      for (String example : examples(p)) {
        assertThat(
            p.path("name").asText() + " example '" + example + "' is accepted",
            accepts(p, example),
            is(true));
      }
    }
  }

  /**
   * Typed where Dataflow has a type: a boolean option is a BOOLEAN parameter, an integer one a
   * NUMBER, and a closed list of values an ENUM (never text with an alternation regex).
   */
  @Test
  void parametersAreTypedWhereTheTemplateSpecHasTypes() {
    for (JsonNode p : parameters.values()) {
      String name = p.path("name").asText();
      Class<?> t = getter(name).getReturnType();
      if (t == boolean.class || t == Boolean.class) {
        assertThat(name + " is a boolean option", type(p), equalTo("BOOLEAN"));
      } else if (t == int.class || t == long.class || t == Integer.class || t == Long.class) {
        assertThat(name + " is a number option", type(p), equalTo("NUMBER"));
      }
      if (type(p).equals("ENUM")) {
        assertThat(name + " lists its values", enumValues(p), not(empty()));
      } else {
        assertThat(name + " has enumOptions only as an ENUM", p.has("enumOptions"), is(false));
      }
      for (JsonNode r : p.path("regexes")) {
        assertThat(
            name + ": a closed list of values is an ENUM, not a regex: " + r.asText(),
            r.asText().matches("\\^\\(?[A-Za-z0-9_-]+(\\|[A-Za-z0-9_-]+)*\\)?\\$"),
            is(false));
      }
    }
    assertThat(type(parameters.get("environment")), equalTo("ENUM"));
    assertThat(
        enumValues(parameters.get("environment")), equalTo(List.of("prod", "staging", "dev")));
    assertThat(type(parameters.get("useStorageWriteApiAtLeastOnce")), equalTo("BOOLEAN"));
  }

  @Test
  void examplesAreAcceptedByThePipelineItself() {
    PricingTable pricing = PricingTable.load(null);
    for (String w : examples(parameters.get("warehouse"))) {
      assertThat(Warehouse.fromSpec(w).spec(), equalTo(w));
    }
    for (String s : examples(parameters.get("secretSource"))) {
      SecretSource.parse(s); // throws on a form the pipeline does not know
    }
    for (String b : examples(parameters.get("renderBackends"))) {
      assertThat(pricing.ids().containsAll(List.of(b.split(","))), is(true));
    }
    // Every backend id of the bundled pricing table passes the regex.
    String all = String.join(",", pricing.ids());
    assertThat(
        all.matches(parameters.get("renderBackends").path("regexes").get(0).asText()), is(true));
    // All the examples together (with one input) are a valid configuration.
    Map<String, String> args = exampleArguments();
    args.put("inputSubscription", firstExample("inputSubscription"));
    OptionsCheck.validate(options(args), pricing);
  }

  @ParameterizedTest(name = "{0} refuses \"{1}\"")
  @MethodSource("badValues")
  void typesAndRegexesRejectBadValues(String name, String value) {
    JsonNode p = parameters.get(name);
    assertThat("no parameter " + name, p, notNullValue());
    assertThat(name + "=" + value + " must be refused", accepts(p, value), is(false));
  }

  @Test
  void dockerfileRunsTheRealMainClassFromTheJarThePomBuilds() throws Exception {
    String docker = Files.readString(DOCKERFILE, StandardCharsets.UTF_8);
    Matcher base = Pattern.compile("(?m)^ARG BASE_IMAGE=(\\S+)$").matcher(docker);
    assertThat("base image ARG", base.find(), is(true));
    assertThat(
        base.group(1),
        equalTo(
            "gcr.io/dataflow-templates-base/java17-template-launcher-base:" + tag(base.group(1))));
    assertThat(docker, containsString("FROM ${BASE_IMAGE}"));

    String mainClass = env(docker, "FLEX_TEMPLATE_JAVA_MAIN_CLASS");
    Method main = Class.forName(mainClass).getMethod("main", String[].class);
    assertThat(Modifier.isStatic(main.getModifiers()), is(true));

    String pom = Files.readString(Path.of("pom.xml"), StandardCharsets.UTF_8);
    // The Dataflow artifact (the second shade execution), not the local bundled jar.
    Matcher output =
        Pattern.compile("<outputFile>\\$\\{project.build.directory}/([^<]+)</outputFile>")
            .matcher(pom);
    assertThat(output.find(), is(true));
    String jar = "target/" + output.group(1);
    assertThat(jar, equalTo("target/aiprod-pipeline-dataflow.jar"));
    Matcher shadeMain = Pattern.compile("<mainClass>([^<]+)</mainClass>").matcher(pom);
    assertThat(shadeMain.find(), is(true));
    assertThat("the jar's manifest main class", shadeMain.group(1), equalTo(mainClass));

    String classpath = env(docker, "FLEX_TEMPLATE_JAVA_CLASSPATH");
    Matcher copy = Pattern.compile("(?m)^COPY (\\S+) (\\S+)$").matcher(docker);
    assertThat("a COPY line", copy.find(), is(true));
    assertThat("copies the Dataflow jar the pom builds", copy.group(1), equalTo(jar));
    assertThat("the classpath is the copied jar", classpath, equalTo(copy.group(2)));

    String ignore =
        Files.readString(Path.of("templates/Dockerfile.dockerignore"), StandardCharsets.UTF_8);
    assertThat("the build context admits the jar", ignore, containsString("!" + jar));
  }

  private static String tag(String image) {
    return image.substring(image.lastIndexOf(':') + 1);
  }

  private static String env(String docker, String name) {
    Matcher m = Pattern.compile("(?m)^ENV " + name + "=\"?([^\"\\s]+)\"?$").matcher(docker);
    assertThat("ENV " + name, m.find(), is(true));
    return m.group(1);
  }

  /** The values of {@code Example: `a`.} / {@code Examples: `a`, `b`.} in a helpText. */
  static List<String> examples(JsonNode p) {
    String help = p.path("helpText").asText();
    List<String> out = new ArrayList<>();
    Matcher m = Pattern.compile("Examples?: ((?:`[^`]*`(?:, )?)+)").matcher(help);
    while (m.find()) {
      Matcher v = Pattern.compile("`([^`]*)`").matcher(m.group(1));
      while (v.find()) {
        out.add(v.group(1));
      }
    }
    return out;
  }

  static String firstExample(String name) {
    return examples(parameters.get(name)).get(0);
  }

  /** Every parameter's first example except the inputs, as option arguments. */
  static Map<String, String> exampleArguments() {
    Map<String, String> args = new LinkedHashMap<>();
    for (String name : parameters.keySet()) {
      if (!INPUTS.contains(name)) {
        args.put(name, firstExample(name));
      }
    }
    return args;
  }

  static AiprodOptions options(Map<String, String> args) {
    List<String> list = new ArrayList<>();
    args.forEach((k, v) -> list.add("--" + k + "=" + v));
    PipelineOptionsFactory.register(AiprodOptions.class);
    return PipelineOptionsFactory.fromArgs(list.toArray(new String[0])).as(AiprodOptions.class);
  }

  private static boolean hasDefault(Method m) {
    return defaultValue(m) != null;
  }

  /** The @Default value of a getter as text, or null. */
  private static String defaultValue(Method m) {
    if (m.isAnnotationPresent(Default.String.class)) {
      return m.getAnnotation(Default.String.class).value();
    }
    if (m.isAnnotationPresent(Default.Boolean.class)) {
      return String.valueOf(m.getAnnotation(Default.Boolean.class).value());
    }
    if (m.isAnnotationPresent(Default.Integer.class)) {
      return String.valueOf(m.getAnnotation(Default.Integer.class).value());
    }
    if (m.isAnnotationPresent(Default.Long.class)) {
      return String.valueOf(m.getAnnotation(Default.Long.class).value());
    }
    return null;
  }
}
