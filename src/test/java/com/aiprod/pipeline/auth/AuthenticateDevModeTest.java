package com.aiprod.pipeline.auth;

import static com.aiprod.pipeline.testing.StageFixtures.AUDIT;
import static com.aiprod.pipeline.testing.StageFixtures.message;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.aiprod.pipeline.model.RequestMessage;
import java.util.Map;
import org.apache.beam.runners.dataflow.DataflowRunner;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollection;
import org.junit.jupiter.api.Test;

/** The Authenticate transform itself refuses to trust the dev key pair on Dataflow. */
class AuthenticateDevModeTest {
  private static PCollection<RequestMessage> input(PipelineOptions options) {
    Pipeline p = Pipeline.create(options);
    return p.apply(Create.of(message("m-1", 1, Map.of(), "{}")));
  }

  @Test
  void devModeOnDataflowFailsAtConstruction() {
    PipelineOptions options = PipelineOptionsFactory.create();
    PCollection<RequestMessage> in = input(options);
    // The runner as Dataflow's launcher sets it (set after Pipeline.create, which would otherwise
    // validate Dataflow's own options).
    options.setRunner(DataflowRunner.class);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> in.apply(new Authenticate(AuthConfig.dev(null, null), AUDIT)));
    assertThat(e.getMessage(), equalTo(AuthConfig.DEV_ON_DATAFLOW));
    assertThat(e.getMessage(), containsString("--authMode=firebase"));

    // Firebase mode builds on Dataflow.
    in.apply(new Authenticate(AuthConfig.firebase("aiprod-prod"), AUDIT));
  }

  @Test
  void dataflowRunnersAreRecognised() {
    assertThat(AuthConfig.isDataflowRunner(DataflowRunner.class), equalTo(true));
    assertThat(
        AuthConfig.isDataflowRunner(org.apache.beam.runners.dataflow.TestDataflowRunner.class),
        equalTo(true));
    assertThat(
        AuthConfig.isDataflowRunner(org.apache.beam.runners.direct.DirectRunner.class),
        equalTo(false));
    assertThat(AuthConfig.isDataflowRunner(null), equalTo(false));
  }
}
