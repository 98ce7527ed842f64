package com.aiprod.pipeline.options;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.aiprod.pipeline.catalog.PricingTable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Test;

/**
 * On Dataflow the options refuse what the Flex Template's regexes refuse, whatever launched the
 * job: a local warehouse, secrets directory or output directory; other runners keep them.
 */
class OptionsCheckDataflowTest {
  static final PricingTable PRICING = PricingTable.load(null);
  static final Map<String, String> LOCAL =
      Map.of(
          "warehouse",
          "duckdb:/tmp/w.duckdb",
          "secretSource",
          "dir:local/secrets",
          "outputLocation",
          "/tmp/out");

  static AiprodOptions options(String runner, Map<String, String> overrides) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("runner", runner);
    m.put("project", "my-project");
    m.put("region", "europe-west1");
    m.put("inputSubscription", "projects/my-project/subscriptions/aiprod-jobs-pipeline");
    m.put("warehouse", "bigquery:my-project.aiprod");
    m.put("secretSource", "secretmanager:projects/my-project");
    m.put("outputLocation", "gs://my-project-aiprod/outputs");
    m.put("environment", "prod");
    m.putAll(overrides);
    List<String> args = new ArrayList<>();
    m.forEach((k, v) -> args.add("--" + k + "=" + v));
    PipelineOptionsFactory.register(AiprodOptions.class);
    return PipelineOptionsFactory.fromArgs(args.toArray(new String[0])).as(AiprodOptions.class);
  }

  @Test
  void productionOptionsPassOnDataflow() {
    OptionsCheck.validate(options("DataflowRunner", Map.of()), PRICING);
  }

  @Test
  void localWarehouseSecretsAndOutputsAreRefusedOnDataflow() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> OptionsCheck.validate(options("DataflowRunner", LOCAL), PRICING));
    assertThat(e.getMessage(), containsString("--warehouse=duckdb:… is refused on Dataflow"));
    assertThat(
        e.getMessage(),
        containsString("--secretSource must be secretmanager:projects/P on Dataflow"));
    assertThat(
        e.getMessage(), containsString("--outputLocation must be gs://bucket/prefix on Dataflow"));

    // Without --secretSource the options' default (dir:local/secrets) applies: refused there too.
    AiprodOptions defaults = options("DataflowRunner", Map.of());
    defaults.setSecretSource(new AiprodOptionsDefaults().secretSource());
    IllegalArgumentException d =
        assertThrows(
            IllegalArgumentException.class, () -> OptionsCheck.validate(defaults, PRICING));
    assertThat(d.getMessage(), containsString("--secretSource must be secretmanager"));
  }

  @Test
  void otherRunnersKeepLocalWarehouseSecretsAndOutputs() {
    OptionsCheck.validate(options("DirectRunner", LOCAL), PRICING);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                OptionsCheck.validate(
                    options("DirectRunner", Map.of("environment", "qa")), PRICING));
    assertThat(e.getMessage(), not(containsString("on Dataflow")));
  }

  /** The interface's default secret source, read from a fresh options object. */
  static final class AiprodOptionsDefaults {
    String secretSource() {
      PipelineOptionsFactory.register(AiprodOptions.class);
      return PipelineOptionsFactory.create().as(AiprodOptions.class).getSecretSource();
    }
  }
}
