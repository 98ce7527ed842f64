package com.aiprod.pipeline.options;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.startsWith;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code scripts/build-template} and {@code scripts/launch-template} with {@code --dry-run}:
 * offline, they print the exact gcloud commands, pass every template parameter through, and refuse
 * what the template would refuse.
 */
class TemplateScriptsTest {
  record Result(int status, String out, String err) {}

  static Result run(List<String> command) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().put("PATH", "/usr/bin:/bin"); // no gcloud, docker or mvn needed for a dry run
    Path out = Files.createTempFile("script", ".out");
    Path err = Files.createTempFile("script", ".err");
    Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException("timed out: " + command);
    }
    Result r = new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    Files.delete(out);
    Files.delete(err);
    return r;
  }

  /** The first example of every parameter in templates/metadata.json. */
  static Map<String, String> examples() throws IOException {
    JsonNode m =
        new ObjectMapper()
            .readTree(Files.readString(TemplateMetadataTest.METADATA, StandardCharsets.UTF_8));
    Map<String, String> out = new LinkedHashMap<>();
    for (JsonNode p : m.path("parameters")) {
      out.put(p.path("name").asText(), TemplateMetadataTest.examples(p).get(0));
    }
    return out;
  }

  static List<String> launch(Map<String, String> params, String... flags) {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "bash",
                "scripts/launch-template",
                "--project",
                "my-project",
                "--region",
                "europe-west1",
                "--job-name",
                "aiprod-pipeline",
                "--dry-run"));
    cmd.addAll(List.of(flags));
    params.forEach((k, v) -> cmd.addAll(List.of("--param", k + "=" + v)));
    return cmd;
  }

  @Test
  void launchPassesEveryParameterThroughInOneGcloudCommand() throws Exception {
    Map<String, String> params = examples();
    params.remove("inputTopic");
    params.remove("inputFiles");
    Result r =
        run(
            launch(
                params, "--service-account", "aiprod-worker@my-project.iam.gserviceaccount.com"));
    assertThat(r.err(), r.status(), equalTo(0));
    String line = r.out().strip();
    assertThat(
        line,
        startsWith(
            "gcloud dataflow flex-template run aiprod-pipeline --project=my-project"
                + " --region=europe-west1 --template-file-gcs-location=gs://my-project-aiprod/templates/aiprod-pipeline.json"));
    StringBuilder joined = new StringBuilder();
    params.forEach(
        (k, v) -> joined.append(joined.length() == 0 ? "" : "|").append(k).append('=').append(v));
    assertThat(line, containsString("'--parameters=^|^" + joined + "'"));
    assertThat(
        line,
        containsString("--service-account-email=aiprod-worker@my-project.iam.gserviceaccount.com"));
    assertThat(line, containsString("--enable-streaming-engine"));
    assertThat(
        line,
        containsString(
            " --temp-location=gs://my-project-aiprod/tmp --staging-location=gs://my-project-aiprod/staging"));
    assertThat(line, not(containsString("--update")));
    assertThat(r.out().lines().count(), equalTo(1L));
  }

  @Test
  void updateOfAStreamingJobAndABatchLaunch() throws Exception {
    Map<String, String> params = examples();
    params.remove("inputTopic");
    params.remove("inputFiles");
    Result update =
        run(launch(params, "--update", "--transform-name-mappings", "OldStage=NewStage"));
    assertThat(update.err(), update.status(), equalTo(0));
    assertThat(
        update.out(), containsString(" --update --transform-name-mappings=OldStage=NewStage"));

    Map<String, String> batch = examples();
    batch.remove("inputTopic");
    batch.remove("inputSubscription");
    Result b = run(launch(batch));
    assertThat(b.err(), b.status(), equalTo(0));
    assertThat(b.out(), not(containsString("--enable-streaming-engine")));
    assertThat(b.out(), containsString("mode=batch"));
    Result batchUpdate = run(launch(batch, "--update"));
    assertThat(batchUpdate.status(), equalTo(2));
  }

  @Test
  void launchRefusesWhatTheTemplateRefuses() throws Exception {
    Map<String, String> base = examples();
    base.remove("inputTopic");
    base.remove("inputFiles");

    Map<String, String> unknown = new LinkedHashMap<>(base);
    unknown.put("inputSubscriptions", "projects/my-project/subscriptions/aiprod-jobs");
    Result r1 = run(launch(unknown));
    assertThat(r1.status(), equalTo(2));
    assertThat(r1.err(), containsString("--param inputSubscriptions: not a parameter"));

    Map<String, String> noWarehouse = new LinkedHashMap<>(base);
    noWarehouse.remove("warehouse");
    Result r2 = run(launch(noWarehouse));
    assertThat(r2.status(), equalTo(2));
    assertThat(r2.err(), containsString("--param warehouse=… is required"));

    Map<String, String> twoInputs = new LinkedHashMap<>(base);
    twoInputs.put("inputFiles", "gs://my-project-aiprod/requests/*.jsonl");
    Result r3 = run(launch(twoInputs));
    assertThat(r3.status(), equalTo(2));
    assertThat(r3.err(), containsString("exactly one of"));

    Map<String, String> dev = new LinkedHashMap<>(base);
    dev.put("authMode", "dev");
    assertThat(run(launch(dev)).status(), equalTo(2));
  }

  /**
   * The exact command the dry run prints, run by the real gcloud against a loopback stand-in for
   * the Dataflow API: the launch request carries every parameter unchanged (commas included), the
   * environment, {@code update} and the transform name mappings.
   */
  @Test
  void gcloudSendsThePrintedLaunchAsIntended(@TempDir Path config) throws Exception {
    Map<String, String> params = examples();
    params.remove("inputTopic");
    params.remove("inputFiles");
    params.put("renderBackends", "veo3,veo3_fast,runway_gen4_turbo");
    Result dry =
        run(
            launch(
                params,
                "--update",
                "--transform-name-mappings",
                "Old=New,Older=Newer",
                "--service-account",
                "aiprod-worker@my-project.iam.gserviceaccount.com"));
    assertThat(dry.err(), dry.status(), equalTo(0));

    List<String> bodies = new java.util.concurrent.CopyOnWriteArrayList<>();
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/",
        exchange -> {
          bodies.add(
              exchange.getRequestMethod()
                  + " "
                  + exchange.getRequestURI().getPath()
                  + "\n"
                  + new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
          byte[] answer =
              "{\"job\": {\"id\": \"2026-11-24_04_00_00-1\", \"name\": \"aiprod-pipeline\"}}"
                  .getBytes(StandardCharsets.UTF_8);
          exchange.getResponseHeaders().add("Content-Type", "application/json");
          exchange.sendResponseHeaders(200, answer.length);
          exchange.getResponseBody().write(answer);
          exchange.close();
        });
    server.start();
    try {
      ProcessBuilder pb = new ProcessBuilder("bash", "-c", dry.out().strip());
      pb.environment().put("CLOUDSDK_CONFIG", config.toString());
      pb.environment()
          .put(
              "CLOUDSDK_API_ENDPOINT_OVERRIDES_DATAFLOW",
              "http://127.0.0.1:" + server.getAddress().getPort() + "/");
      pb.environment().put("CLOUDSDK_AUTH_ACCESS_TOKEN", "test-access-token");
      pb.environment().put("CLOUDSDK_CORE_DISABLE_PROMPTS", "1");
      Path out = Files.createTempFile("gcloud", ".out");
      Process p = pb.redirectErrorStream(true).redirectOutput(out.toFile()).start();
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("gcloud timed out");
      }
      String text = Files.readString(out);
      Files.delete(out);
      assertThat(text, p.exitValue(), equalTo(0));
    } finally {
      server.stop(0);
    }
    assertThat(bodies.size(), equalTo(1));
    String request = bodies.get(0);
    assertThat(
        request,
        startsWith("POST /v1b3/projects/my-project/locations/europe-west1/flexTemplates:launch\n"));
    JsonNode launch =
        new ObjectMapper()
            .readTree(request.substring(request.indexOf('\n') + 1))
            .path("launchParameter");
    assertThat(launch.path("jobName").asText(), equalTo("aiprod-pipeline"));
    assertThat(
        launch.path("containerSpecGcsPath").asText(),
        equalTo("gs://my-project-aiprod/templates/aiprod-pipeline.json"));
    Map<String, String> sent = new LinkedHashMap<>();
    launch
        .path("parameters")
        .fields()
        .forEachRemaining(e -> sent.put(e.getKey(), e.getValue().asText()));
    assertThat(sent, equalTo(params));
    assertThat(launch.path("update").asBoolean(), equalTo(true));
    assertThat(
        launch.path("transformNameMappings").toString(),
        equalTo("{\"Old\":\"New\",\"Older\":\"Newer\"}"));
    JsonNode env = launch.path("environment");
    assertThat(env.path("enableStreamingEngine").asBoolean(), equalTo(true));
    assertThat(
        env.path("serviceAccountEmail").asText(),
        equalTo("aiprod-worker@my-project.iam.gserviceaccount.com"));
    assertThat(env.path("tempLocation").asText(), equalTo("gs://my-project-aiprod/tmp"));
    assertThat(env.path("stagingLocation").asText(), equalTo("gs://my-project-aiprod/staging"));
  }

  /**
   * gcloud's own template builder parses and validates metadata.json offline ({@code
   * --print-only}).
   */
  @Test
  void gcloudAcceptsTheMetadataFile(@TempDir Path config) throws Exception {
    ProcessBuilder pb =
        new ProcessBuilder(
            "gcloud",
            "dataflow",
            "flex-template",
            "build",
            "gs://my-project-aiprod/templates/aiprod-pipeline.json",
            "--project=my-project",
            "--image=europe-west1-docker.pkg.dev/my-project/aiprod/aiprod-pipeline:v1",
            "--sdk-language=JAVA",
            "--metadata-file=templates/metadata.json",
            "--print-only",
            "--quiet");
    pb.environment().put("CLOUDSDK_CONFIG", config.toString());
    Path out = Files.createTempFile("gcloud", ".out");
    Process p = pb.redirectErrorStream(true).redirectOutput(out.toFile()).start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException("gcloud timed out");
    }
    String text = Files.readString(out);
    Files.delete(out);
    assertThat(text, p.exitValue(), equalTo(0));
    JsonNode spec =
        new ObjectMapper().readTree(text.substring(text.indexOf('{'), text.lastIndexOf('}') + 1));
    assertThat(
        spec.path("image").asText(),
        equalTo("europe-west1-docker.pkg.dev/my-project/aiprod/aiprod-pipeline:v1"));
    assertThat(spec.path("sdkInfo").path("language").asText(), equalTo("JAVA"));
    List<String> names = new ArrayList<>();
    spec.path("metadata").path("parameters").forEach(n -> names.add(n.path("name").asText()));
    assertThat(names, equalTo(new ArrayList<>(examples().keySet())));
  }

  @Test
  void buildPrintsThePackageImageAndTemplateCommands() throws Exception {
    Result r =
        run(
            List.of(
                "bash",
                "scripts/build-template",
                "--project",
                "my-project",
                "--region",
                "europe-west1",
                "--tag",
                "v1",
                "--dry-run"));
    assertThat(r.err(), r.status(), equalTo(0));
    String image = "europe-west1-docker.pkg.dev/my-project/aiprod/aiprod-pipeline:v1";
    assertThat(
        r.out(),
        equalTo(
            String.join(
                "\n",
                "mvn -B -q -DskipTests package",
                "docker build -f templates/Dockerfile -t " + image + " .",
                "docker push " + image,
                "gcloud dataflow flex-template build gs://my-project-aiprod/templates/aiprod-pipeline.json"
                    + " --project=my-project --image="
                    + image
                    + " --sdk-language=JAVA --metadata-file=templates/metadata.json",
                "")));
    Result cb =
        run(
            List.of(
                "bash",
                "scripts/build-template",
                "--project",
                "my-project",
                "--builder",
                "cloudbuild",
                "--tag",
                "v1",
                "--skip-package",
                "--dry-run"));
    assertThat(cb.err(), cb.status(), equalTo(0));
    assertThat(
        cb.out(),
        startsWith(
            "gcloud builds submit --project=my-project --region=us-central1"
                + " --config=templates/cloudbuild.yaml --substitutions=_IMAGE=us-central1-docker.pkg.dev/my-project/aiprod/aiprod-pipeline:v1 ."));
    assertThat(run(List.of("bash", "scripts/build-template", "--dry-run")).status(), equalTo(2));
  }
}
