package com.aiprod.pipeline.vertex;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.aiprod.pipeline.options.AiprodOptions;
import com.aiprod.pipeline.options.PipelineConfig;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.time.Duration;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Test;

class GeminiConfigTest {
  private static AiprodOptions options(String... args) {
    return PipelineOptionsFactory.fromArgs(args).as(AiprodOptions.class);
  }

  @Test
  void anEmptyModelMeansGeminiIsNotConfigured() {
    assertThat(PipelineConfig.gemini(options("--project=p")), nullValue());
    assertThat(PipelineConfig.gemini(options("--project=p", "--geminiModel= ")), nullValue());
  }

  @Test
  void optionsBuildTheConfiguration() {
    GeminiConfig c =
        PipelineConfig.gemini(
            options(
                "--project=my-proj",
                "--geminiModel=gemini-2.5-flash",
                "--vertexLocation=europe-west4",
                "--vertexEndpoint=http://127.0.0.1:9/",
                "--backendRequestTimeoutSeconds=12"));
    assertThat(
        c.generateContentUri().toString(),
        equalTo(
            "http://127.0.0.1:9/v1/projects/my-proj/locations/europe-west4/publishers/google/models/gemini-2.5-flash:generateContent"));
    assertThat(c.timeout(), equalTo(Duration.ofSeconds(12)));
    assertThat(c.maxAttempts(), equalTo(GeminiConfig.DEFAULT_MAX_ATTEMPTS));
    assertThat(c.label(), equalTo("gemini:gemini-2.5-flash"));
  }

  @Test
  void aModelWithoutProjectIsRefused() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> PipelineConfig.gemini(options("--geminiModel=gemini-2.5-flash")));
    assertThat(e.getMessage(), containsString("--project"));
  }

  @Test
  void serializesAndKeepsItsTokenOutOfToString() throws Exception {
    GeminiConfig c =
        GeminiConfig.of(null, "p", "us-central1", "m", VertexAuth.fixedToken("t0k3n"), 5);
    assertThat(c.toString(), not(containsString("t0k3n")));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(c);
    }
    GeminiConfig back;
    try (ObjectInputStream in =
        new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      back = (GeminiConfig) in.readObject();
    }
    assertThat(back.generateContentUri(), equalTo(c.generateContentUri()));
    assertThat(back.auth().authorizationHeader(), equalTo("Bearer t0k3n"));
  }
}
