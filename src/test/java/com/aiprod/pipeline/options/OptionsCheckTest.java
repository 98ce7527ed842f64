package com.aiprod.pipeline.options;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.aiprod.pipeline.AiprodPipeline;
import com.aiprod.pipeline.catalog.PricingTable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The start-up option checks, here those of authentication (DESIGN §3, §11). */
class OptionsCheckTest {
  @TempDir Path dir;

  private AiprodOptions options(String... extra) {
    List<String> args = new ArrayList<>();
    args.add("--inputFiles=" + dir.resolve("in.jsonl"));
    List<String> given = List.of(extra);
    if (given.stream().noneMatch(a -> a.startsWith("--warehouse="))) {
      args.add("--warehouse=duckdb:" + dir.resolve("w.duckdb"));
    }
    if (given.stream().noneMatch(a -> a.startsWith("--outputLocation="))) {
      args.add("--outputLocation=" + dir.resolve("out"));
    }
    args.addAll(given);
    return PipelineOptionsFactory.fromArgs(args.toArray(new String[0])).as(AiprodOptions.class);
  }

  private static void assertValid(AiprodOptions o) {
    assertDoesNotThrow(() -> OptionsCheck.validate(o, PricingTable.builtIn()));
  }

  private static IllegalArgumentException assertInvalid(AiprodOptions o) {
    return assertThrows(
        IllegalArgumentException.class, () -> OptionsCheck.validate(o, PricingTable.builtIn()));
  }

  @Test
  void devModeIsRefusedOnDataflow() {
    for (String runner : new String[] {"DataflowRunner", "TestDataflowRunner"}) {
      IllegalArgumentException e = assertInvalid(options("--authMode=dev", "--runner=" + runner));
      assertThat(runner, e.getMessage(), containsString("--authMode=dev"));
      assertThat(e.getMessage(), containsString("refused on Dataflow"));
    }
  }

  @Test
  void theWholePipelineRefusesToStartInDevModeOnDataflow() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> AiprodPipeline.create(options("--authMode=dev", "--runner=DataflowRunner")));
    assertThat(e.getMessage(), containsString("refused on Dataflow"));
  }

  @Test
  void devModeRunsElsewhereAndFirebaseModeRunsOnDataflow() {
    assertValid(options("--authMode=dev"));
    assertValid(options("--authMode=dev", "--runner=DirectRunner"));
    assertValid(
        options(
            "--authMode=firebase",
            "--firebaseProject=aiprod-prod",
            "--runner=DataflowRunner",
            // Dataflow also needs shared stores (OptionsCheckDataflowTest)
            "--warehouse=bigquery:aiprod-prod.aiprod",
            "--secretSource=secretmanager:projects/aiprod-prod",
            "--outputLocation=gs://aiprod-prod-outputs/out"));
    IllegalArgumentException e = assertInvalid(options("--authMode=firebase"));
    assertThat(e.getMessage(), containsString("--authMode=firebase needs --firebaseProject"));
    assertThat(e.getMessage(), not(containsString("refused on Dataflow")));
    assertThat(
        assertInvalid(options("--authMode=none")).getMessage(),
        containsString("--authMode must be firebase or dev"));
  }
}
