package com.aiprod.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;

import com.aiprod.pipeline.audit.LocalSecrets;
import com.aiprod.pipeline.media.Mp4Inspector;
import com.aiprod.pipeline.media.VideoInfo;
import com.aiprod.pipeline.testing.FirestoreEmulator;
import com.aiprod.pipeline.testing.PipelineRuns;
import com.aiprod.pipeline.testing.RunPictures;
import com.aiprod.pipeline.tools.ExportJobs;
import com.aiprod.pipeline.tools.Summary;
import com.aiprod.pipeline.tools.VerifyAudit;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole batch pipeline, for real: the bundled jar (as a platform team runs it) on the
 * DirectRunner, against a Firestore emulator on a free loopback port, over the mixed sample input
 * (every line of {@code samples/requests.jsonl} names its expected outcome). Checks one terminal
 * outcome per input, the outcome of each line, job documents, warehouse rows, audit counts, the
 * MP4s, and that no token is stored anywhere.
 */
class BatchPipelineIT {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String PROJECT = "demo-aiprod";

  @RegisterExtension static final FirestoreEmulator EMULATOR = new FirestoreEmulator();

  @TempDir static Path dir;

  static Path signed;
  static Path signedHostile;
  static Path warehouse;
  static Path out;

  /** Expected outcome per message id ({@code <signed file>:<line>}), from the samples' "expect". */
  static Map<String, String> expectations = new LinkedHashMap<>();

  static String pipelineOutput;

  @BeforeAll
  static void runPipeline() throws Exception {
    Path auth = dir.resolve("dev-auth");
    Files.createDirectories(dir.resolve("in"));
    signed = dir.resolve("in/requests.jsonl");
    signedHostile = dir.resolve("in/hostile.jsonl");
    sign(Paths.get("samples/requests.jsonl"), signed, auth);
    sign(Paths.get("src/test/resources/it/hostile.jsonl"), signedHostile, auth);
    warehouse = dir.resolve("warehouse.duckdb");
    out = dir.resolve("out");
    Path secrets = dir.resolve("secrets");
    LocalSecrets.ensureAuditKey(secrets);
    PipelineRuns.Run run =
        PipelineRuns.runJar(
            List.of(
                "--inputFiles=" + dir.resolve("in") + "/*.jsonl",
                "--authMode=dev",
                "--devAuthDir=" + auth,
                "--project=" + PROJECT,
                "--emulatorHost=" + EMULATOR.hostPort(),
                "--credentialFactoryClass=org.apache.beam.sdk.extensions.gcp.auth.NoopCredentialFactory",
                "--warehouse=duckdb:" + warehouse,
                "--outputLocation=" + out,
                "--tempLocation=" + dir.resolve("tmp"),
                "--secretSource=dir:" + secrets),
            Duration.ofMinutes(10));
    pipelineOutput = run.output();
    assertThat("pipeline ended in time", run.exitStatus(), not(equalTo(-1)));
    assertThat("pipeline exit status; output:\n" + run.tail(), run.exitStatus(), equalTo(0));
  }

  /** Signs a sample file and records each line's expected outcome. */
  private static void sign(Path samples, Path target, Path auth) throws Exception {
    expectations.putAll(PipelineRuns.sign(samples, target, auth, PROJECT));
  }

  private static long expected(java.util.function.Predicate<String> p) {
    return expectations.values().stream().filter(p).count();
  }

  private static Connection warehouse() throws Exception {
    return PipelineRuns.readWarehouse(warehouse);
  }

  private static List<Map<String, Object>> rows(String sql) throws Exception {
    return PipelineRuns.rows(warehouse, sql);
  }

  private static String messageId(int line) {
    return signed + ":" + line;
  }

  @Test
  void everyInputHasExactlyOneTerminalOutcome() throws Exception {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    int status =
        Summary.run(
            warehouse.toString(),
            List.of(signed.toString(), signedHostile.toString()),
            new PrintStream(buf, true, StandardCharsets.UTF_8));
    assertThat(buf.toString(StandardCharsets.UTF_8), status, equalTo(0));
  }

  @Test
  void everyLineGetsItsExpectedOutcome() throws Exception {
    assertThat(PipelineRuns.mismatches(expectations, PipelineRuns.outcomes(warehouse)), empty());
  }

  @Test
  void jobDocumentsMatchTheWarehouseAndNeverTheDeadLetters() throws Exception {
    Path export = dir.resolve("jobs.json");
    ExportJobs.run(
        "--emulatorHost=" + EMULATOR.hostPort(), "--project=" + PROJECT, "--output=" + export);
    JsonNode docs = MAPPER.readTree(export.toFile());
    List<Map<String, Object>> results =
        rows("SELECT tenant, job_id, state, reason_code FROM job_results ORDER BY tenant, job_id");
    assertThat(docs.size(), equalTo(results.size()));
    Map<String, JsonNode> byPath = new HashMap<>();
    docs.forEach(d -> byPath.put(d.get("path").asText(), d));
    for (Map<String, Object> r : results) {
      JsonNode d = byPath.get("tenants/" + r.get("tenant") + "/jobs/" + r.get("job_id"));
      assertThat("document for " + r, d, notNullValue());
      assertThat(d.get("state").asText(), equalTo(r.get("state")));
      assertThat(d.get("tenant").asText(), equalTo(r.get("tenant")));
      assertThat(d.get("history").size(), greaterThan(1));
      assertThat(d.get("history").get(0).get("state").asText(), equalTo("RECEIVED"));
      assertThat(
          d.get("history").get(d.get("history").size() - 1).get("state").asText(),
          equalTo(r.get("state")));
      if ("REJECTED".equals(r.get("state"))) {
        assertThat(d.get("reason").asText(), not(equalTo("")));
        assertThat(d.get("reason_code").asText(), equalTo(r.get("reason_code")));
      }
    }
    // A delivered job: the whole lifecycle and its outputs.
    JsonNode teaser = byPath.get("tenants/acme/jobs/acme-teaser-0001");
    List<String> states = new ArrayList<>();
    teaser.get("history").forEach(h -> states.add(h.get("state").asText()));
    assertThat(states, contains("RECEIVED", "PLANNED", "RENDERING", "QA", "DELIVERED"));
    assertThat(teaser.get("uid").asText(), equalTo("alice"));
    assertThat(teaser.get("preset").asText(), equalTo("quick_social"));
    assertThat(teaser.get("shots_total").asInt(), equalTo(3));
    assertThat(teaser.get("shots_done").asInt(), equalTo(3));
    assertThat(teaser.get("qa").get("technical").asDouble(), closeTo(1.0, 1e-9));
    assertThat(
        teaser.get("qa").get("semantic_scorer").asText(), equalTo("local-coverage-heuristic"));
    assertThat(Files.exists(Paths.get(teaser.get("output").get("video_uri").asText())), is(true));
    assertThat(
        Files.exists(Paths.get(teaser.get("output").get("manifest_uri").asText())), is(true));
    // The duplicate (line 12, same job_id as line 1) did not touch the first job's document.
    assertThat(teaser.get("message_id").asText(), equalTo(messageId(1)));
    // Dead-lettered inputs never create documents.
    for (Map<String, Object> dl : rows("SELECT message_id FROM dead_letters")) {
      for (JsonNode d : docs) {
        assertThat(d.get("message_id").asText(), not(equalTo(dl.get("message_id"))));
      }
    }
  }

  @Test
  void auditTrailCountsEveryStep() throws Exception {
    List<Map<String, Object>> perMessage =
        rows(
            "SELECT message_id, count(*) AS n FROM audit_events WHERE event_type IN ('AUTH_SUCCESS','AUTH_FAILURE') GROUP BY 1");
    assertThat(perMessage.size(), equalTo(expectations.size()));
    for (Map<String, Object> r : perMessage) {
      assertThat(
          "auth events of " + r.get("message_id"), ((Number) r.get("n")).intValue(), equalTo(1));
    }
    // Forged: the four of the samples (alg none, tampered, wrong key, HS256). The hostile file's
    // AUTH_INVALID tokens are well-signed but wrong (project, iat, claims) or not JWTs at all.
    assertThat(
        count(
            "SELECT count(*) FROM audit_events WHERE event_type = 'SECURITY_ALERT' AND action = 'forged_token'"),
        equalTo(4L));
    long refusals = expected(e -> e.startsWith("REJECTED:"));
    assertThat(
        count("SELECT count(*) FROM audit_events WHERE event_type = 'PERMISSION_DENIED'"),
        equalTo(refusals));
    assertThat(
        count(
            "SELECT count(*) FROM audit_events WHERE event_type = 'DATA_ACCESS' AND status = 'success'"),
        equalTo(count("SELECT count(*) FROM job_results")));
    assertThat(
        count(
            "SELECT count(*) FROM audit_events WHERE event_type = 'DATA_ACCESS' AND status = 'duplicate'"),
        equalTo(count("SELECT count(*) FROM dead_letters WHERE reason_code = 'DUPLICATE_JOB'")));
    assertThat(
        count("SELECT count(*) FROM audit_events WHERE event_type = 'API_CALL'"),
        equalTo(count("SELECT count(*) FROM shot_renders")));
    assertThat(
        count("SELECT count(*) FROM audit_events WHERE event_type = 'CONFIG_CHANGE'"), equalTo(1L));
    assertThat(count("SELECT count(*) - count(DISTINCT event_id) FROM audit_events"), equalTo(0L));
  }

  @Test
  void everyAuditRowIsSignedAndVerifies() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status =
        VerifyAudit.run(
            new String[] {
              "--warehouse=duckdb:" + warehouse, "--secret-source=dir:" + dir.resolve("secrets")
            },
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(
        out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8),
        status,
        equalTo(0));
    assertThat(
        count("SELECT count(*) FROM audit_events WHERE signature IS NULL OR signature = ''"),
        equalTo(0L));
    assertThat(
        count("SELECT count(*) FROM audit_events WHERE event_type = 'SECRET_ACCESS'"),
        greaterThan(0L));
  }

  @Test
  void shotRendersHaveOneSuccessfulAttemptPerShot() throws Exception {
    assertThat(count("SELECT count(*) FROM shot_renders WHERE status <> 'succeeded'"), equalTo(0L));
    assertThat(
        count("SELECT sum(shots_done) FROM job_results WHERE state = 'DELIVERED'"),
        equalTo(count("SELECT count(*) FROM shot_renders")));
  }

  @Test
  void everyFinalMp4ParsesWithThePlannedDurationAndResolution() throws Exception {
    List<Map<String, Object>> delivered =
        rows("SELECT output_uri, duration_sec FROM job_results WHERE state = 'DELIVERED'");
    assertThat((long) delivered.size(), equalTo(expected("DELIVERED"::equals)));
    for (Map<String, Object> r : delivered) {
      VideoInfo info = Mp4Inspector.inspect(Paths.get((String) r.get("output_uri")));
      assertThat(info.isH264(), is(true));
      assertThat(info.getWidth(), equalTo(640));
      assertThat(info.getHeight(), equalTo(360));
      assertThat(
          info.getDurationSec(), closeTo(((Number) r.get("duration_sec")).doubleValue(), 0.1));
      assertThat(
          Files.exists(Paths.get((String) r.get("output_uri")).resolveSibling("manifest.json")),
          is(true));
    }
  }

  @Test
  void noTokenIsStoredOrLoggedAnywhere() throws Exception {
    List<String> secrets = new ArrayList<>();
    List<String> lines = new ArrayList<>(Files.readAllLines(signed, StandardCharsets.UTF_8));
    lines.addAll(Files.readAllLines(signedHostile, StandardCharsets.UTF_8));
    for (String line : lines) {
      JsonNode n;
      try {
        n = MAPPER.readTree(line);
      } catch (IOException e) {
        continue;
      }
      JsonNode a = n.path("attributes").path("authorization");
      if (a.isTextual()) {
        String token = a.asText().replaceFirst("^Bearer ", "");
        String[] parts = token.split("\\.");
        secrets.add(token);
        if (parts.length > 1) {
          secrets.add(parts[1]); // the claims
        }
        if (parts.length > 2 && parts[2].length() > 8) {
          secrets.add(parts[2]); // the signature
        }
      }
    }
    assertThat(secrets.size(), greaterThan(10));
    StringBuilder stored = new StringBuilder(pipelineOutput);
    try (Connection c = warehouse();
        Statement st = c.createStatement()) {
      for (String table : List.of("job_results", "shot_renders", "audit_events", "dead_letters")) {
        try (ResultSet rs = st.executeQuery("SELECT * FROM " + table)) {
          int n = rs.getMetaData().getColumnCount();
          while (rs.next()) {
            for (int i = 1; i <= n; i++) {
              stored.append(rs.getString(i)).append('\n');
            }
          }
        }
      }
    }
    Path export = dir.resolve("jobs-for-secrets.json");
    ExportJobs.run(
        "--emulatorHost=" + EMULATOR.hostPort(), "--project=" + PROJECT, "--output=" + export);
    stored.append(Files.readString(export));
    try (Stream<Path> files = Files.walk(out)) {
      for (Path f :
          files
              .filter(Files::isRegularFile)
              .filter(p -> p.toString().endsWith(".json"))
              .collect(Collectors.toList())) {
        stored.append(Files.readString(f));
      }
    }
    String all = stored.toString();
    List<String> leaked = secrets.stream().filter(all::contains).collect(Collectors.toList());
    assertThat(leaked, empty());
  }

  private static long count(String sql) throws Exception {
    return PipelineRuns.count(warehouse, sql);
  }

  @Test
  void everyFinalMp4HasItsContactSheet() throws Exception {
    RunPictures.assertContactSheets(warehouse);
  }

  @Test
  void theRunReportLoadsInChromiumWithMarksOnEveryChartAndItsGalleryImages() throws Exception {
    String chromium = RunPictures.chromium();
    Assumptions.assumeTrue(
        chromium != null,
        "SKIPPED: no chromium on PATH (apt-get install -y chromium; .ci/run installs it)");
    RunPictures.assertReportInBrowser(chromium, warehouse, out, dir);
  }
}
