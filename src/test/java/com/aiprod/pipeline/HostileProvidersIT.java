package com.aiprod.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.anyOf;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;

import com.aiprod.pipeline.audit.LocalSecrets;
import com.aiprod.pipeline.catalog.PricingTable;
import com.aiprod.pipeline.media.HostileMp4;
import com.aiprod.pipeline.render.backends.Loopback.Resp;
import com.aiprod.pipeline.testing.FakeProviders;
import com.aiprod.pipeline.testing.FirestoreEmulator;
import com.aiprod.pipeline.testing.PipelineRuns;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11's pipeline-level proof: the bundled jar in batch, in a JVM with a 512 MiB heap, renders
 * one good job beside one job per MP4 bomb of {@link HostileMp4}. Runway (ranked first) serves each
 * bomb job its bomb as every shot's output file; Replicate serves good files. The good job is
 * DELIVERED, every bomb job ends FAILED or falls back to Replicate, the run ends with exit 0, no
 * job is charged for a Runway shot it did not deliver, and no Runway task is left orphaned.
 */
class HostileProvidersIT {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String PROJECT = "demo-aiprod";
  private static final Pattern BOMB = Pattern.compile("bomb number (\\d+)");
  private static final String GOOD = "hostile-good-0001";

  @RegisterExtension static final FirestoreEmulator EMULATOR = new FirestoreEmulator();

  @TempDir static Path dir;

  static FakeProviders providers;
  static List<byte[]> bombs;
  static List<String> bombNames;
  static Path warehouse;
  static PipelineRuns.Run run;

  @BeforeAll
  static void runPipeline() throws Exception {
    Map<String, byte[]> all = HostileMp4.bombs();
    bombs = new ArrayList<>(all.values());
    bombNames = new ArrayList<>(all.keySet());
    providers = new FakeProviders(dir);
    providers.mp4 = FakeProviders.qaPassingClip(dir.resolve("clips"));
    // A Runway task made for "bomb number N" answers with /bombs/N.mp4 as its output.
    providers.runway.outputPath =
        body -> {
          Matcher m = BOMB.matcher(body.toString());
          return m.find() ? "/bombs/" + m.group(1) + ".mp4" : null;
        };
    providers.runway.server.route(
        "GET",
        "/bombs/(\\d+)\\.mp4",
        req -> Resp.bytes(200, "video/mp4", bombs.get(Integer.parseInt(req.match().group(1)))));

    Path samples = dir.resolve("samples.jsonl");
    StringBuilder lines = new StringBuilder(line(GOOD, "u0", "A calm harbour at dawn."));
    for (int i = 0; i < bombs.size(); i++) {
      lines.append(
          line(
              "hostile-bomb-" + i,
              "u" + (i + 1),
              "A harbour scene that is bomb number " + i + " of the provider."));
    }
    Files.writeString(samples, lines.toString(), StandardCharsets.UTF_8);
    Path auth = dir.resolve("dev-auth");
    Files.createDirectories(dir.resolve("in"));
    PipelineRuns.sign(samples, dir.resolve("in/requests.jsonl"), auth, PROJECT);
    LocalSecrets.ensureAuditKey(providers.secrets);
    warehouse = dir.resolve("warehouse.duckdb");
    run =
        PipelineRuns.runJar(
            List.of("-Xmx512m", "-XX:+ExitOnOutOfMemoryError"),
            List.of(
                "--inputFiles=" + dir.resolve("in") + "/*.jsonl",
                "--authMode=dev",
                "--devAuthDir=" + auth,
                "--project=" + PROJECT,
                "--emulatorHost=" + EMULATOR.hostPort(),
                "--credentialFactoryClass=org.apache.beam.sdk.extensions.gcp.auth.NoopCredentialFactory",
                "--warehouse=duckdb:" + warehouse,
                "--outputLocation=" + dir.resolve("out"),
                "--tempLocation=" + dir.resolve("tmp"),
                "--renderBackends=runway_gen4_turbo,replicate_wan,preview",
                "--runwayEndpoint=" + providers.runway.server.base(),
                "--replicateEndpoint=" + providers.replicate.server.base(),
                "--secretSource=dir:" + providers.secrets),
            Duration.ofMinutes(8));
  }

  @AfterAll
  static void stopProviders() {
    if (providers != null) {
      providers.close();
    }
  }

  private static String line(String jobId, String uid, String content) throws Exception {
    ObjectNode n = PipelineRuns.sampleRequest(jobId, uid, "hostile", content);
    n.put("expect", GOOD.equals(jobId) ? "DELIVERED" : "DELIVERED or FAILED");
    return MAPPER.writeValueAsString(n) + "\n";
  }

  private static List<Map<String, Object>> rows(String sql) throws Exception {
    return PipelineRuns.rows(warehouse, sql);
  }

  @Test
  void theRunEndsNormallyInASmallHeap() {
    assertThat("ended in time; output:\n" + run.tail(), run.exitStatus(), not(equalTo(-1)));
    assertThat("exit status; output:\n" + run.tail(), run.exitStatus(), equalTo(0));
    assertThat(run.output(), not(containsString("OutOfMemoryError")));
    assertThat(run.output(), not(containsString(FakeProviders.RUNWAY_KEY)));
    assertThat(run.output(), not(containsString(FakeProviders.REPLICATE_TOKEN)));
  }

  @Test
  void theGoodJobIsDeliveredAndEveryBombJobFailsOrFallsBack() throws Exception {
    List<Map<String, Object>> jobs =
        rows("SELECT job_id, state, reason_code, reason FROM job_results");
    assertThat(jobs.toString(), jobs.size(), equalTo(bombs.size() + 1));
    System.out.printf(
        "HostileProvidersIT: run took %d s; %d Runway creates; jobs: %s%n",
        run.took().toSeconds(), providers.runway.creates.get(), jobs);
    for (Map<String, Object> job : jobs) {
      String id = (String) job.get("job_id");
      if (GOOD.equals(id)) {
        assertThat(job.toString(), job.get("state"), equalTo("DELIVERED"));
      } else {
        assertThat(job.toString(), job.get("state"), anyOf(is("DELIVERED"), is("FAILED")));
        assertThat(job.toString(), job.get("reason_code"), not(equalTo("INTERNAL_ERROR")));
      }
    }
    assertThat(rows("SELECT * FROM dead_letters"), empty());
    assertThat(providers.runway.creates.get(), greaterThan(bombs.size()));
  }

  @Test
  void noBombIsAcceptedAsAShotAndEveryRefusalSaysWhy() throws Exception {
    List<Map<String, Object>> runway =
        rows(
            "SELECT job_id, status, error FROM shot_renders"
                + " WHERE backend = 'runway_gen4_turbo' AND job_id LIKE 'hostile-bomb-%'");
    assertThat(runway, not(empty()));
    for (Map<String, Object> attempt : runway) {
      assertThat(attempt.toString(), attempt.get("status"), not(equalTo("succeeded")));
      assertThat(attempt.toString(), String.valueOf(attempt.get("error")), not(equalTo("null")));
      assertThat(
          attempt.toString(), (String) attempt.get("error"), not(containsString(dir.toString())));
    }
  }

  @Test
  void jobsArePaidOnlyForDeliveredShotsAndNoTaskIsOrphaned() throws Exception {
    for (Map<String, Object> job :
        rows(
            "SELECT j.job_id, j.state, j.cost_usd,"
                + " (SELECT count(*) FROM shot_renders s WHERE s.job_id = j.job_id"
                + "  AND s.backend = 'runway_gen4_turbo' AND s.status = 'succeeded') AS runway_ok"
                + " FROM job_results j")) {
      double cost = ((Number) job.get("cost_usd")).doubleValue();
      if ("FAILED".equals(job.get("state"))) {
        assertThat(job.toString(), cost, closeTo(0.0, 1e-9));
      } else {
        assertThat(job.toString(), cost, greaterThan(0.0));
      }
      if (!GOOD.equals(job.get("job_id"))) {
        assertThat(job.toString(), ((Number) job.get("runway_ok")).longValue(), equalTo(0L));
        if ("DELIVERED".equals(job.get("state"))) {
          // One 5 s shot, delivered by Replicate: its list price, not Runway's refused file.
          double replicate =
              PricingTable.builtIn().find("replicate_wan").orElseThrow().usdPerSecond() * 5;
          assertThat(job.toString(), cost, closeTo(replicate, 1e-6));
        }
      }
    }
    assertThat(providers.runway.orphans(), empty());
    assertThat(providers.replicate.orphans(), empty());
  }
}
