package com.aiprod.pipeline.options;

import com.aiprod.pipeline.auth.AuthConfig;
import com.aiprod.pipeline.catalog.PricingTable;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.beam.runners.flink.FlinkPipelineOptions;

/**
 * Checks the options before anything runs, with one message per problem: exactly one input, known
 * auth mode (dev refused on Dataflow), warehouse and secret source forms, environment, render
 * backends that the pricing table knows.
 */
public final class OptionsCheck {
  private static final Pattern WAREHOUSE =
      Pattern.compile("(bigquery:[a-z][a-z0-9-]{4,28}[a-z0-9]\\.[A-Za-z0-9_]{1,1024}|duckdb:.+)");
  private static final Pattern SECRET_SOURCE =
      Pattern.compile("(secretmanager:projects/[a-z][a-z0-9-]{4,28}[a-z0-9]|dir:.+)");

  private OptionsCheck() {}

  /** Throws IllegalArgumentException listing every problem. */
  public static void validate(AiprodOptions o, PricingTable pricing) {
    List<String> problems = new ArrayList<>();
    int inputs = 0;
    for (String s : new String[] {o.getInputSubscription(), o.getInputTopic(), o.getInputFiles()}) {
      if (s != null && !s.isBlank()) {
        inputs++;
      }
    }
    if (inputs != 1) {
      problems.add(
          "set exactly one of --inputSubscription, --inputTopic, --inputFiles (got "
              + inputs
              + ")");
    }
    if (!"firebase".equals(o.getAuthMode()) && !"dev".equals(o.getAuthMode())) {
      problems.add("--authMode must be firebase or dev");
    }
    if ("dev".equals(o.getAuthMode()) && isDataflow(o)) {
      problems.add(AuthConfig.DEV_ON_DATAFLOW);
    }
    if ("firebase".equals(o.getAuthMode()) && firebaseProject(o) == null) {
      problems.add("--authMode=firebase needs --firebaseProject (or --project)");
    }
    if (o.getWarehouse() == null || !WAREHOUSE.matcher(o.getWarehouse()).matches()) {
      problems.add("--warehouse must be bigquery:PROJECT.DATASET or duckdb:PATH");
    }
    if (o.getSecretSource() != null && !SECRET_SOURCE.matcher(o.getSecretSource()).matches()) {
      problems.add("--secretSource must be secretmanager:projects/P or dir:PATH");
    }
    if (!Set.of("auto", "outcome", "checkpoint").contains(o.getPubsubAcks())) {
      problems.add("--pubsubAcks must be auto, outcome or checkpoint");
    } else if ("outcome".equals(o.getPubsubAcks())
        && (o.getInputSubscription() == null || o.getInputSubscription().isBlank())) {
      problems.add("--pubsubAcks=outcome needs --inputSubscription");
    } else if ("outcome".equals(o.getPubsubAcks()) && isDataflow(o)) {
      problems.add(
          "--pubsubAcks=outcome is refused on Dataflow (its workers do not share one JVM;"
              + " Dataflow acknowledges after its own durable commit): use auto or checkpoint");
    }
    if (o.getAckDelaySeconds() < 0) {
      problems.add("--ackDelaySeconds must be >= 0");
    }
    if (!Set.of("dev", "staging", "prod").contains(o.getEnvironment())) {
      problems.add("--environment must be dev, staging or prod");
    }
    for (String id : renderBackends(o)) {
      if (!pricing.contains(id)) {
        problems.add("--renderBackends: unknown backend '" + id + "'; known: " + pricing.ids());
      }
    }
    if (o.getOutputLocation() == null || o.getOutputLocation().isBlank()) {
      problems.add("--outputLocation is required (gs://bucket/prefix or a local directory)");
    }
    if (isDataflow(o)) {
      problems.addAll(dataflowProblems(o));
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(
          "invalid options:\n  - " + String.join("\n  - ", problems));
    }
  }

  /**
   * The ack delay in milliseconds when messages are acknowledged after their outcome ({@code
   * --pubsubAcks}: outcome, or auto with a subscription on the DirectRunner or embedded Flink),
   * else -1 (PubsubIO acknowledges).
   */
  public static long outcomeAckDelayMillis(AiprodOptions o) {
    boolean subscription = o.getInputSubscription() != null && !o.getInputSubscription().isBlank();
    boolean outcome =
        "outcome".equals(o.getPubsubAcks())
            || ("auto".equals(o.getPubsubAcks()) && subscription && singleJvm(o));
    return outcome ? o.getAckDelaySeconds() * 1000L : -1;
  }

  /** DirectRunner, or FlinkRunner with an embedded cluster. */
  static boolean singleJvm(AiprodOptions o) {
    String runner = o.getRunner() == null ? "" : o.getRunner().getSimpleName();
    if (runner.equals("DirectRunner")) {
      return true;
    }
    if (runner.equals("FlinkRunner")) {
      String master = o.as(FlinkPipelineOptions.class).getFlinkMaster();
      return master == null
          || master.equals("[local]")
          || master.equals("[auto]")
          || master.equals("[collection]");
    }
    return false;
  }

  /**
   * What a Dataflow job must not use, whatever launched it (the Flex Template's regexes say the
   * same): a DuckDB file or a secrets directory on a worker is private to that worker (each would
   * get its own warehouse and its own new audit key), and a local output directory is lost with it.
   */
  static List<String> dataflowProblems(AiprodOptions o) {
    List<String> problems = new ArrayList<>();
    if (o.getWarehouse() != null && o.getWarehouse().startsWith("duckdb:")) {
      problems.add(
          "--warehouse=duckdb:… is refused on Dataflow (a file on one worker); use bigquery:PROJECT.DATASET");
    }
    if (o.getSecretSource() == null || !o.getSecretSource().startsWith("secretmanager:")) {
      problems.add(
          "--secretSource must be secretmanager:projects/P on Dataflow (a secrets directory on a worker"
              + " would give each worker its own audit key)");
    }
    if (o.getOutputLocation() != null && !o.getOutputLocation().startsWith("gs://")) {
      problems.add(
          "--outputLocation must be gs://bucket/prefix on Dataflow (a local directory is lost with its worker)");
    }
    return problems;
  }

  public static boolean isDataflow(AiprodOptions o) {
    return AuthConfig.isDataflowRunner(o.getRunner());
  }

  /** --firebaseProject, else --project, else demo-aiprod in dev mode. */
  public static String firebaseProject(AiprodOptions o) {
    if (o.getFirebaseProject() != null && !o.getFirebaseProject().isBlank()) {
      return o.getFirebaseProject();
    }
    if ("dev".equals(o.getAuthMode())) {
      return "demo-aiprod";
    }
    return o.getProject();
  }

  public static Set<String> renderBackends(AiprodOptions o) {
    Set<String> out = new LinkedHashSet<>();
    if (o.getRenderBackends() != null) {
      for (String s : o.getRenderBackends().split(",")) {
        if (!s.isBlank()) {
          out.add(s.trim());
        }
      }
    }
    return out;
  }
}
