package com.aiprod.pipeline.assemble;

import static com.aiprod.pipeline.testing.StageFixtures.AUDIT;
import static com.aiprod.pipeline.testing.StageFixtures.T0;
import static com.aiprod.pipeline.testing.StageFixtures.received;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import com.aiprod.pipeline.catalog.PricingTable;
import com.aiprod.pipeline.catalog.SpendLedger;
import com.aiprod.pipeline.decide.Decide;
import com.aiprod.pipeline.jobstore.FirestoreClients;
import com.aiprod.pipeline.jobstore.JobStore;
import com.aiprod.pipeline.jobstore.WriteJobDocuments;
import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.media.ContactSheet;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobState;
import com.aiprod.pipeline.model.ShotResult;
import com.aiprod.pipeline.model.ShotSpec;
import com.aiprod.pipeline.persist.Deliver;
import com.aiprod.pipeline.persist.SettleSpend;
import com.aiprod.pipeline.persist.Warehouse;
import com.aiprod.pipeline.plan.Plan;
import com.aiprod.pipeline.qa.SemanticQa;
import com.aiprod.pipeline.qa.TechnicalQa;
import com.aiprod.pipeline.render.CircuitBreakers;
import com.aiprod.pipeline.render.RenderPolicy;
import com.aiprod.pipeline.render.RenderShots;
import com.aiprod.pipeline.render.backends.Loopback;
import com.aiprod.pipeline.testing.FakeProviders;
import com.aiprod.pipeline.testing.FirestoreEmulator;
import com.google.cloud.firestore.DocumentSnapshot;
import com.google.cloud.firestore.Firestore;
import com.google.cloud.firestore.FirestoreOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * DESIGN §5 "Charging", one test per terminal state: the job document and {@code job_results} row
 * ({@code cost_usd} = what the tenant is charged, {@code provider_cost_usd} = what providers
 * billed), the {@code shot_renders} rows (each attempt's cost), and the spend ledger after the
 * admission reservation was settled. Rendered through the Runway and Replicate loopback APIs; job
 * documents and the ledger in the Firestore emulator, rows in DuckDB.
 *
 * <p>Every job is a 10 s quick_social final routed to runway_gen4_turbo ($0.05/s, 5 s clips: two
 * $0.25 shots; replicate_wan $0.02/s: $0.10 a shot), reserved $0.50 at admission. The prompt of
 * shot 1 tells the storm.
 */
class ChargingTest {
  private static final String PROJECT = "demo-aiprod";
  private static final PricingTable PRICING = PricingTable.builtIn();
  private static final TupleTag<Job> CANCELS = new TupleTag<Job>() {};

  /** Jobs are received now: batch renders give up at the preset deadline after receipt. */
  private static final long RECEIVED = System.currentTimeMillis();

  private static final LocalDate DAY = SpendLedger.utcDay(RECEIVED);
  private static final double RESERVED = 0.5;
  private static final String GONE = "/gone/output.mp4";

  @RegisterExtension static final FirestoreEmulator EMULATOR = new FirestoreEmulator();

  @TempDir static Path shared;
  private static byte[] goodVideo;

  @TempDir Path tmp;
  private FakeProviders providers;
  private SpendLedger ledger;
  private Path warehouseFile;
  private String out;

  @BeforeAll
  static void encodeGoodVideo() throws Exception {
    goodVideo = FakeProviders.qaPassingClip(shared);
  }

  @BeforeEach
  void start() throws Exception {
    EMULATOR.clear(PROJECT);
    providers = new FakeProviders(tmp);
    providers.mp4 = goodVideo;
    ledger = new SpendLedger(ledgerConfig());
    warehouseFile = tmp.resolve("wh/aiprod.duckdb");
    out = Files.createDirectories(tmp.resolve("out")).toString();
  }

  @AfterEach
  void stop() {
    providers.close();
    ledger.close();
  }

  @Test
  void deliveredIsChargedItsShotsNotTheAttemptsAFallbackReplaced() throws Exception {
    // Runway's storm clip "succeeds" (billed $0.25) but cannot be fetched; Replicate takes over.
    providers.runway.outputPath = body -> storm(body) ? GONE : null;
    Job job = admitted("job-charge-delivered", 0.4, List.of("replicate_wan"));

    renderAndDeliver(job);

    // Provider cost $0.60 would be > 1.2 × $0.40 = $0.48; the charge $0.35 is not.
    assertJob(job, "DELIVERED", 0.35, 0.6);
    assertShotRenders(
        job,
        "0|1|runway_gen4_turbo|succeeded|0.25",
        "1|1|runway_gen4_turbo|failed|0.25",
        "1|2|replicate_wan|succeeded|0.1");
    assertLedger(job, 0.35);
    // The contact sheet shows both shots under a DELIVERED header; the manifest says who rendered.
    assertContactSheet(job, "DELIVERED", false, false);
  }

  @Test
  void needsReviewIsChargedItsShotsAndTheChargeDecidesTheBudgetRule() throws Exception {
    Job job = admitted("job-charge-review", 0.4, List.of());

    renderAndDeliver(job);

    Map<String, Object> doc = assertJob(job, "NEEDS_REVIEW", 0.5, 0.5);
    assertThat((String) doc.get("reason"), containsString("cost $0.50 > 1.2 × budget $0.40"));
    assertShotRenders(
        job, "0|1|runway_gen4_turbo|succeeded|0.25", "1|1|runway_gen4_turbo|succeeded|0.25");
    assertLedger(job, 0.5);
  }

  @Test
  void failedIsChargedNothingAlthoughTheProviderBilled() throws Exception {
    providers.runway.outputPath = body -> storm(body) ? GONE : null;
    Job job = admitted("job-charge-failed", 3.0, List.of());

    renderAndDeliver(job);

    Map<String, Object> doc = assertJob(job, "FAILED", 0.0, 0.5);
    assertThat(doc.get("reason_code"), equalTo("RENDER_FAILED"));
    assertShotRenders(
        job, "0|1|runway_gen4_turbo|succeeded|0.25", "1|1|runway_gen4_turbo|failed|0.25");
    assertLedger(job, 0.0);
  }

  @Test
  void rejectedIsChargedNothing() throws Exception {
    // 128×72, 1 s clips: technical QA fails
    providers.mp4 = Loopback.sampleMp4(Files.createDirectories(tmp.resolve("tiny")));
    Job job = admitted("job-charge-rejected", 3.0, List.of());

    renderAndDeliver(job);

    Map<String, Object> doc = assertJob(job, "REJECTED", 0.0, 0.5);
    assertThat((String) doc.get("reason"), containsString("technical score"));
    assertShotRenders(
        job, "0|1|runway_gen4_turbo|succeeded|0.25", "1|1|runway_gen4_turbo|succeeded|0.25");
    assertLedger(job, 0.0);
  }

  @Test
  void cancelledIsChargedTheShotsAlreadyRendered() throws Exception {
    Job job = rendering("job-charge-cancelled");
    List<ShotResult> results =
        List.of(
            shot(job, 0, 1, "runway_gen4_turbo", "succeeded", 0.25),
            // billed, its output unusable; the fallback was still rendering at the cancel
            shot(job, 1, 1, "runway_gen4_turbo", "failed", 0.25));
    Job cancel =
        job.toBuilder().setMessageId("m-cancel-1").setAction("cancel").setUid("uid-acme").build();

    Job cancelled = AssembleJobs.AssembleFn.cancelled(job, cancel, results, PRICING);
    deliver(cancelled, results);
    deliver(cancelled, results); // a redelivery settles nothing twice

    Map<String, Object> doc = assertJob(job, "CANCELLED", 0.25, 0.5);
    assertThat(doc.get("cancel_message_id"), equalTo("m-cancel-1"));
    assertShotRenders(
        job, "0|1|runway_gen4_turbo|succeeded|0.25", "1|1|runway_gen4_turbo|failed|0.25");
    assertLedger(job, 0.25);
  }

  @Test
  void failedAtTheDeadlineIsChargedNothingForWhatItAssembled() throws Exception {
    Job job = rendering("job-charge-deadline");
    List<ShotResult> results = List.of(shot(job, 0, 1, "runway_gen4_turbo", "succeeded", 0.25));

    Job failed =
        new AssembleJobs.AssembleFn(out, PRICING, true, null).deadlineExceeded(job, results);
    deliver(failed, results);

    Map<String, Object> doc = assertJob(job, "FAILED", 0.0, 0.25);
    assertThat(doc.get("reason_code"), equalTo("DEADLINE"));
    assertThat(Files.exists(Path.of(failed.getVideoUri())), is(true)); // what was rendered
    assertThat(
        new com.fasterxml.jackson.databind.ObjectMapper()
            .readTree(Path.of(failed.getManifestUri()).toFile())
            .path("cost_usd")
            .asDouble(-1),
        equalTo(0.0));
    assertShotRenders(job, "0|1|runway_gen4_turbo|succeeded|0.25");
    assertLedger(job, 0.0);
    // The shot not rendered before the deadline is a placeholder tile.
    assertContactSheet(job, "FAILED", false, true);
  }

  @Test
  void aJobEndedBeforeItsSettlementIsSettledWhenItsMessageComesAgain() throws Exception {
    Job job = rendering("job-charge-restart");
    List<ShotResult> results = List.of(shot(job, 0, 1, "runway_gen4_turbo", "succeeded", 0.25));
    Job cancelled =
        AssembleJobs.AssembleFn.cancelled(
            job, job.toBuilder().setMessageId("m-cancel-2").build(), results, PRICING);
    // The run stopped after the terminal document, before the settlement.
    Pipeline first = Pipeline.create(options());
    first
        .apply(Create.of(cancelled))
        .apply(
            new Deliver.Jobs(
                AUDIT,
                Warehouse.fromSpec("duckdb:" + warehouseFile),
                WriteJobDocuments.to(JobStore.fromOptions(options())).withTags()));
    first.run().waitUntilFinish();
    assertThat(ledger.spentUsd("acme", DAY), equalTo(RESERVED));

    // Admit finds the ended document and passes the message on as REDELIVERED, twice.
    for (int i = 0; i < 2; i++) {
      Pipeline again = Pipeline.create(options());
      again
          .apply(Create.of(job))
          .apply(
              new Deliver.EndedJobRows(
                  AUDIT,
                  Warehouse.fromSpec("duckdb:" + warehouseFile),
                  JobStore.fromOptions(options()),
                  ledgerConfig(),
                  ledgerConfig()));
      again.run().waitUntilFinish();
    }

    assertJob(job, "CANCELLED", 0.25, 0.25);
    assertLedger(job, 0.25);
  }

  // ---------------------------------------------------------------------------------------------

  private static boolean storm(com.fasterxml.jackson.databind.JsonNode body) {
    return body.toString().contains("storm");
  }

  private static FirestoreClients ledgerConfig() {
    return FirestoreClients.of(PROJECT, null, EMULATOR.hostPort());
  }

  private static PipelineOptions options() {
    return PipelineOptionsFactory.fromArgs(
            "--runner=DirectRunner",
            "--targetParallelism=2",
            "--emulatorHost=" + EMULATOR.hostPort(),
            "--project=" + PROJECT,
            "--credentialFactoryClass=org.apache.beam.sdk.extensions.gcp.auth.NoopCredentialFactory")
        .create();
  }

  /** A routed final as PriceAndRoute passes it on, its estimate reserved in the ledger. */
  private Job admitted(String jobId, double budgetUsd, List<String> fallbacks) {
    String body =
        "{\"content\": \"A lighthouse keeper wakes at dawn. A storm rolls in over the sea.\","
            + " \"mode\": \"final\", \"duration_sec\": 10, \"preset\": \"quick_social\","
            + " \"budget_usd\": "
            + budgetUsd
            + "}";
    Job job =
        received("m-" + jobId, "acme", jobId, 1, body).toBuilder()
            .setReceivedAtMillis(RECEIVED)
            .setInputPayload(null)
            .setBackend("runway_gen4_turbo")
            .setFallbackBackends(fallbacks)
            .setClipSeconds(5)
            .setEstimateUsd(RESERVED)
            .build();
    assertThat(ledger.charge("acme", DAY, jobId, RESERVED, 500).admitted(), is(true));
    return job;
  }

  /** {@link #admitted}, planned by hand into its two shots and rendering. */
  private Job rendering(String jobId) {
    return admitted(jobId, 3.0, List.of("replicate_wan")).toBuilder()
        .setShots(
            List.of(
                ShotSpec.create(0, 5, "A lighthouse keeper wakes at dawn.", 1),
                ShotSpec.create(1, 5, "A storm rolls in over the sea.", 2)))
        .build()
        .transition(JobState.PLANNED, T0 + 10, "planned")
        .transition(JobState.RENDERING, T0 + 20, "rendering");
  }

  /** A render attempt; a succeeded one has its clip (the good video) on disk. */
  private ShotResult shot(
      Job job, int index, int attempt, String backend, String status, double cost)
      throws Exception {
    String uri = null;
    if (status.equals("succeeded")) {
      Path f =
          Files.createDirectories(tmp.resolve("shots")).resolve(index + "-" + attempt + ".mp4");
      Files.write(f, goodVideo);
      uri = f.toString();
    }
    return ShotResult.builder()
        .setTenant(job.getTenant())
        .setJobId(job.getJobId())
        .setShotIndex(index)
        .setAttempt(attempt)
        .setBackend(backend)
        .setStatus(status)
        .setError(status.equals("failed") ? "the output could not be fetched: HTTP 404" : null)
        .setCostUsd(cost)
        .setLatencyMs(100)
        .setStartedAtMillis(T0 + 30)
        .setFinishedAtMillis(T0 + 130)
        .setUri(uri)
        .build();
  }

  /** Plan → RenderShots → AssembleJobs → TechnicalQa → SemanticQa → Decide → Deliver, settle. */
  private void renderAndDeliver(Job job) {
    Pipeline p = Pipeline.create(options());
    PCollection<Job> rendering =
        p.apply("Jobs", Create.of(job)).apply(new Plan()).get(StageTags.JOBS);
    PCollectionTuple rendered =
        rendering.apply(
            RenderShots.forBatch(
                AUDIT,
                out,
                null,
                providers.config(out),
                PRICING,
                RenderPolicy.fast(),
                CircuitBreakers.perWorker("charging-" + UUID.randomUUID())));
    PCollectionTuple assembled =
        PCollectionTuple.of(StageTags.JOBS, rendering)
            .and(RenderShots.RESULTS, rendered.get(RenderShots.RESULTS))
            .and(CANCELS, p.apply("NoCancels", Create.empty(TypeDescriptor.of(Job.class))))
            .apply(
                AssembleJobs.forBatch(StageTags.JOBS, RenderShots.RESULTS, CANCELS, out, PRICING));
    PCollectionTuple checked = assembled.get(StageTags.JOBS).apply(new TechnicalQa());
    PCollectionTuple scored = checked.get(StageTags.JOBS).apply(new SemanticQa());
    PCollectionTuple decided = scored.get(StageTags.JOBS).apply(new Decide());
    List<PCollection<Job>> finished = new ArrayList<>();
    for (PCollectionTuple t : List.of(assembled, checked, scored, decided)) {
      if (t.has(StageTags.FINISHED)) {
        finished.add(t.get(StageTags.FINISHED));
      }
    }
    deliver(
        PCollectionList.of(finished).apply("Finished", Flatten.pCollections()),
        rendered.get(RenderShots.RESULTS));
    p.run().waitUntilFinish();
  }

  /** Deliver (job document, job_results, shot_renders) and settle, as the graph does. */
  private void deliver(Job finished, List<ShotResult> results) {
    Pipeline p = Pipeline.create(options());
    deliver(p.apply("Finished", Create.of(finished)), p.apply("Results", Create.of(results)));
    p.run().waitUntilFinish();
  }

  private void deliver(PCollection<Job> finished, PCollection<ShotResult> results) {
    Warehouse warehouse = Warehouse.fromSpec("duckdb:" + warehouseFile);
    finished.apply(
        "DeliverJobs",
        new Deliver.Jobs(
            AUDIT, warehouse, WriteJobDocuments.to(JobStore.fromOptions(options())).withTags()));
    finished.apply("SettleSpend", new SettleSpend(AUDIT, ledgerConfig()));
    results.apply("DeliverShotRenders", new Deliver.ShotRenders(warehouse));
  }

  /**
   * The job's document and job_results row agree on state, charge and provider cost; returns the
   * document's fields.
   */
  private Map<String, Object> assertJob(Job job, String state, double cost, double providerCost)
      throws Exception {
    Map<String, Object> doc = firestore("tenants/acme/jobs/" + job.getJobId()).getData();
    assertThat(doc.get("state"), equalTo(state));
    assertThat(doc.get("cost_usd"), equalTo(cost));
    assertThat(doc.get("provider_cost_usd"), equalTo(providerCost));
    assertThat(
        query(
            "SELECT state, cost_usd, provider_cost_usd FROM job_results WHERE job_id = '"
                + job.getJobId()
                + "'"),
        equalTo(List.of(state + "|" + cost + "|" + providerCost)));
    return doc;
  }

  /**
   * {@code contact_sheet.png} beside final.mp4, named by the manifest, the document's {@code
   * output.contact_sheet_uri} and the job_results row: two tiles (placeholders where said) under a
   * header in the state's colour.
   */
  @SuppressWarnings("unchecked")
  private void assertContactSheet(Job job, String state, boolean... placeholder) throws Exception {
    String uri = out + "/acme/" + job.getJobId() + "/contact_sheet.png";
    Map<String, Object> doc = firestore("tenants/acme/jobs/" + job.getJobId()).getData();
    assertThat(((Map<String, Object>) doc.get("output")).get("contact_sheet_uri"), equalTo(uri));
    assertThat(
        query("SELECT contact_sheet_uri FROM job_results WHERE job_id = '" + job.getJobId() + "'"),
        equalTo(List.of(uri)));
    assertThat(
        new com.fasterxml.jackson.databind.ObjectMapper()
            .readTree(Path.of(out, "acme", job.getJobId(), "manifest.json").toFile())
            .path("contact_sheet")
            .asText(),
        equalTo(uri));
    java.awt.image.BufferedImage sheet = javax.imageio.ImageIO.read(Path.of(uri).toFile());
    ContactSheet.Layout layout = ContactSheet.Layout.of(placeholder.length, 1);
    assertThat(sheet.getWidth(), equalTo(layout.width()));
    assertThat(sheet.getHeight(), equalTo(layout.height()));
    assertThat(
        sheet.getRGB(2, 10) & 0xFFFFFF,
        equalTo(ContactSheet.stateColor(state).getRGB() & 0xFFFFFF));
    for (int i = 0; i < placeholder.length; i++) {
      java.awt.Rectangle f = layout.frame(i);
      int hits = 0;
      for (int y = f.y; y < f.y + f.height; y++) {
        for (int x = f.x; x < f.x + f.width; x++) {
          int rgb = sheet.getRGB(x, y) & 0xFFFFFF;
          if (rgb == (ContactSheet.PLACEHOLDER.getRGB() & 0xFFFFFF)
              || rgb == (ContactSheet.PLACEHOLDER_HATCH.getRGB() & 0xFFFFFF)) {
            hits++;
          }
        }
      }
      boolean isPlaceholder = hits > f.width * f.height / 2;
      assertThat("tile " + i + " placeholder", isPlaceholder, equalTo(placeholder[i]));
    }
  }

  private void assertShotRenders(Job job, String... rows) throws Exception {
    assertThat(
        query(
            "SELECT shot_index, attempt, backend, status, cost_usd FROM shot_renders WHERE job_id"
                + " = '"
                + job.getJobId()
                + "'"),
        containsInAnyOrder(rows));
  }

  /** The day's spend is the charge, and the settlement records what was reserved. */
  private void assertLedger(Job job, double charge) throws Exception {
    assertThat(ledger.spentUsd("acme", DAY), equalTo(charge));
    DocumentSnapshot day = firestore(SpendLedger.documentPath("acme", DAY));
    assertThat(
        day.get(com.google.cloud.firestore.FieldPath.of(SpendLedger.CHARGES, job.getJobId())),
        equalTo(charge));
    assertThat(
        day.get(com.google.cloud.firestore.FieldPath.of(SpendLedger.SETTLEMENTS, job.getJobId())),
        equalTo(Map.of(SpendLedger.RESERVED_USD, RESERVED, SpendLedger.SETTLED_USD, charge)));
  }

  private static DocumentSnapshot firestore(String path) throws Exception {
    try (Firestore db =
        FirestoreOptions.newBuilder()
            .setProjectId(PROJECT)
            .setEmulatorHost(EMULATOR.hostPort())
            .build()
            .getService()) {
      return db.document(path).get().get();
    }
  }

  private List<String> query(String sql) throws Exception {
    Properties readOnly = new Properties();
    readOnly.setProperty("duckdb.read_only", "true");
    List<String> rows = new ArrayList<>();
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:" + warehouseFile, readOnly);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      int n = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        StringBuilder b = new StringBuilder();
        for (int i = 1; i <= n; i++) {
          b.append(i > 1 ? "|" : "").append(rs.getString(i));
        }
        rows.add(b.toString());
      }
    }
    return rows;
  }
}
