package com.aiprod.pipeline.tools;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.startsWith;

import com.aiprod.pipeline.auth.AuthConfig;
import com.aiprod.pipeline.auth.AuthResult;
import com.aiprod.pipeline.auth.DevAuthKeys;
import com.aiprod.pipeline.auth.DevTokens;
import com.aiprod.pipeline.auth.TokenVerifier;
import com.aiprod.pipeline.kernel.AuditEvents;
import com.aiprod.pipeline.kernel.Coders;
import com.aiprod.pipeline.kernel.DeadLetters;
import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.model.AuditStatus;
import com.aiprod.pipeline.model.AuditType;
import com.aiprod.pipeline.model.DeadLetter;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobState;
import com.aiprod.pipeline.model.ReasonCode;
import com.aiprod.pipeline.model.RequestMessage;
import com.aiprod.pipeline.persist.Deliver;
import com.aiprod.pipeline.persist.DuckDbWarehouse;
import com.aiprod.pipeline.persist.WarehouseRows;
import com.aiprod.pipeline.persist.WarehouseTable;
import com.aiprod.pipeline.testing.BigQueryFakes;
import com.aiprod.pipeline.testing.PubsubEmulator;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.io.gcp.testing.FakeBigQueryServices;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ReplayDeadLetters} against the Pub/Sub emulator, reading a DuckDB warehouse written by the
 * pipeline's own sinks ({@link Deliver.DeadLetterRows}, {@link Deliver.AuditRows}) from dead
 * letters built by {@link DeadLetters}, and a BigQuery export.
 */
class ReplayDeadLettersTest {
  @RegisterExtension static final PubsubEmulator PUBSUB = new PubsubEmulator();
  @TempDir static Path dir;

  static final Instant T = Instant.parse("2026-11-24T10:00:00Z");

  /** A token-shaped value as a publisher sent it; the pipeline stored it redacted. */
  static final String OLD_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLW9sZA";

  static final String EXPIRED_BODY =
      "{\"content\":\"A lighthouse at dawn. Waves crash on the rocks.\",\"preset\":\"quick_social\",\"mode\":\"preview\"}";
  static final String INTERNAL_BODY =
      "{\"content\":\"A calm sunrise over the harbour, gulls circling.\",\"mode\":\"preview\"}";
  static final byte[] RAW_BYTES = {(byte) 0xff, 0x00, 0x7b, (byte) 0xfe};

  static Path warehouse;
  static List<DeadLetter> deadLetters;
  static List<AuditEvent> auditEvents;
  static Path devAuth;
  static String aliceToken;
  static Path aliceTokenFile;
  static String duplicateId;

  @BeforeAll
  static void fillWarehouse() throws Exception {
    devAuth = dir.resolve("dev-auth");
    DevAuthKeys keys = DevAuthKeys.loadOrCreate(devAuth);
    aliceToken =
        new DevTokens(keys, "demo-aiprod")
            .mint("alice", "acme", "user", "pro", Duration.ofHours(1));
    aliceTokenFile = dir.resolve("alice.token");
    Files.writeString(aliceTokenFile, "Bearer " + aliceToken + "\n");
    Files.setPosixFilePermissions(aliceTokenFile, PosixFilePermissions.fromString("rw-------"));

    List<DeadLetter> dead = new ArrayList<>();
    // Selected: an expired token (claimed by alice, never authenticated), a job's internal error
    // (alice), an unreadable binary payload (alice, by its AUTH_SUCCESS event).
    dead.add(
        at(
            DeadLetters.of(
                message(
                    "m-expired-0001",
                    Map.of(
                        "authorization",
                        "Bearer " + OLD_TOKEN,
                        "job_id",
                        "job-expired-0001",
                        "trace",
                        "t-1"),
                    EXPIRED_BODY.getBytes(StandardCharsets.UTF_8)),
                ReasonCode.AUTH_EXPIRED,
                "The ID token expired at …: sign in again",
                "Authenticate",
                null),
            10));
    dead.add(
        at(
            DeadLetters.ofJob(
                job("acme", "alice", "job-internal-0002", INTERNAL_BODY),
                ReasonCode.INTERNAL_ERROR,
                DeadLetters.unexpected("Plan", new IllegalStateException("boom")),
                "Plan"),
            20));
    dead.add(
        at(
            DeadLetters.of(
                message("m-bytes-0003", Map.of("authorization", "Bearer " + OLD_TOKEN), RAW_BYTES),
                ReasonCode.MALFORMED_JSON,
                "The body is not UTF-8",
                "ReadRequests",
                null),
            30));
    // Selected but not replayed: someone else's expired token, a duplicate, a refused warehouse
    // row, mallory's expired message that names alice as its owner in attributes, messages whose
    // AUTH_SUCCESS events disagree or name another tenant.
    dead.add(
        at(
            DeadLetters.of(
                message(
                    "m-forged-0011",
                    Map.of(
                        "authorization",
                        "Bearer " + OLD_TOKEN,
                        "uid",
                        "alice",
                        "tenant",
                        "acme",
                        "job_id",
                        "job-forged-0011"),
                    EXPIRED_BODY.getBytes(StandardCharsets.UTF_8)),
                ReasonCode.AUTH_EXPIRED,
                "The ID token expired",
                "Authenticate",
                null),
            5));
    dead.add(
        at(
            DeadLetters.of(
                message("m-twice-0012", Map.of(), RAW_BYTES),
                ReasonCode.MALFORMED_JSON,
                "The body is not UTF-8",
                "ReadRequests",
                null),
            50));
    dead.add(
        at(
            DeadLetters.of(
                message("m-other-tenant-0013", Map.of("uid", "alice", "tenant", "acme"), RAW_BYTES),
                ReasonCode.MALFORMED_JSON,
                "The body is not UTF-8",
                "ReadRequests",
                null),
            55));
    dead.add(
        at(
            DeadLetters.of(
                message(
                    "m-expired-mallory",
                    Map.of("authorization", "Bearer " + OLD_TOKEN),
                    EXPIRED_BODY.getBytes(StandardCharsets.UTF_8)),
                ReasonCode.AUTH_EXPIRED,
                "The ID token expired",
                "Authenticate",
                null),
            11));
    DeadLetter duplicate =
        at(
            DeadLetters.ofJob(
                job("acme", "alice", "job-dup-00000005", INTERNAL_BODY),
                ReasonCode.DUPLICATE_JOB,
                "job_id job-dup-00000005 is already used",
                "Admit"),
            25);
    duplicateId = duplicate.getMessageId();
    dead.add(duplicate);
    dead.add(
        at(
            DeadLetters.of(
                message("m-nobody-0010", Map.of(), RAW_BYTES),
                ReasonCode.MALFORMED_JSON,
                "The body is not UTF-8",
                "ReadRequests",
                null),
            35)); // no token: nobody owns it
    dead.add(
        DeadLetter.builder()
            .setTimestampMillis(T.toEpochMilli() + 40 * 60_000L)
            .setPayloadString("{\"job_id\":\"job-x\"}")
            .setAttributes(Map.of("table", "job_results", "job_id", "job-internal-0002"))
            .setErrorMessage("BigQuery refused the row")
            .setReasonCode("INTERNAL_ERROR")
            .setStage("Deliver")
            .setMessageId("job_results:acme/job-internal-0002")
            .build());
    // Not selected: before --since, after --until, another reason.
    dead.add(
        at(
            DeadLetters.of(
                message("m-expired-early", Map.of(), EXPIRED_BODY.getBytes(StandardCharsets.UTF_8)),
                ReasonCode.AUTH_EXPIRED,
                "expired",
                "Authenticate",
                null),
            -60));
    dead.add(
        at(
            DeadLetters.ofJob(
                job("acme", "alice", "job-internal-late1", INTERNAL_BODY),
                ReasonCode.INTERNAL_ERROR,
                "late",
                "Plan"),
            180));
    dead.add(
        at(
            DeadLetters.of(
                message(
                    "m-schema-0009",
                    Map.of("job_id", "bad id!"),
                    EXPIRED_BODY.getBytes(StandardCharsets.UTF_8)),
                ReasonCode.SCHEMA_VIOLATION,
                "job_id is invalid",
                "Validate",
                null),
            15));

    AuditEvents audit = new AuditEvents("dev");
    List<AuditEvent> events =
        List.of(
            authFailure(audit, "m-expired-0001", "alice"),
            authFailure(audit, "m-expired-mallory", "mallory"),
            // The forger may even make the token claim alice: a claim is not authentication.
            authFailure(audit, "m-forged-0011", "alice"),
            // An unreadable body is still authenticated first: its owner is the verified user.
            authSuccess(audit, "m-bytes-0003", "acme", "alice"),
            // The job's message was authenticated before Plan dead-lettered it.
            authSuccess(audit, "msg-job-internal-0002", "acme", "alice"),
            authSuccess(audit, "msg-job-dup-00000005", "acme", "alice"),
            // Two AUTH_SUCCESS rows for one message id that disagree on the user.
            authSuccess(audit, "m-twice-0012", "acme", "alice", ""),
            authSuccess(audit, "m-twice-0012", "acme", "mallory", "other"),
            authSuccess(audit, "m-other-tenant-0013", "globex", "alice"));

    deadLetters = dead;
    auditEvents = events;
    warehouse = dir.resolve("warehouse.duckdb");
    DuckDbWarehouse w = new DuckDbWarehouse(warehouse.toString());
    Pipeline p = Pipeline.create(PipelineOptionsFactory.fromArgs("--runner=DirectRunner").create());
    p.apply("DeadLetters", Create.of(dead).withCoder(Coders.schema(DeadLetter.class)))
        .apply("DeliverDeadLetters", new Deliver.DeadLetterRows(w));
    p.apply("Audit", Create.of(events).withType(TypeDescriptor.of(AuditEvent.class)))
        .apply("DeliverAuditEvents", new Deliver.AuditRows(w));
    p.run().waitUntilFinish();
  }

  static AuditEvent authFailure(AuditEvents audit, String messageId, String claimed) {
    return audit
        .event(AuditType.AUTH_FAILURE, AuditStatus.FAILURE, "authenticate")
        .aboutMessage(messageId, null, null)
        .details(
            AuditEvents.details().put("reason_code", "AUTH_EXPIRED").put("claimed_uid", claimed))
        .at(T.toEpochMilli())
        .build();
  }

  static AuditEvent authSuccess(AuditEvents audit, String messageId, String tenant, String uid) {
    return authSuccess(audit, messageId, tenant, uid, "");
  }

  static AuditEvent authSuccess(
      AuditEvents audit, String messageId, String tenant, String uid, String discriminator) {
    return audit
        .event(AuditType.AUTH_SUCCESS, AuditStatus.SUCCESS, "authenticate")
        .aboutMessage(messageId, tenant, uid)
        .details(AuditEvents.details().put("role", "user").put("plan", "pro"))
        .at(T.toEpochMilli())
        .discriminator(discriminator)
        .build();
  }

  static RequestMessage message(String id, Map<String, String> attributes, byte[] payload) {
    return RequestMessage.builder()
        .setMessageId(id)
        .setDefaultJobId("pubsub-" + id)
        .setOrdinal(1)
        .setReceivedAtMillis(T.toEpochMilli())
        .setAttributes(attributes)
        .setPayload(payload)
        .setSource("projects/demo-aiprod/subscriptions/aiprod-jobs")
        .build();
  }

  static Job job(String tenant, String uid, String jobId, String body) {
    return Job.builder()
        .setMessageId("msg-" + jobId)
        .setJobId(jobId)
        .setTenant(tenant)
        .setUid(uid)
        .setRole("user")
        .setPlan("pro")
        .setReceivedAtMillis(T.toEpochMilli())
        .setState(JobState.RECEIVED.name())
        .setInputPayload(body)
        .build();
  }

  /** The dead letter as written {@code minutes} after T. */
  static DeadLetter at(DeadLetter d, int minutes) {
    return DeadLetter.builder()
        .setTimestampMillis(T.toEpochMilli() + minutes * 60_000L)
        .setPayloadString(d.getPayloadString())
        .setPayloadBytes(d.getPayloadBytes())
        .setAttributes(d.getAttributes())
        .setErrorMessage(d.getErrorMessage())
        .setStacktrace(d.getStacktrace())
        .setReasonCode(d.getReasonCode())
        .setStage(d.getStage())
        .setMessageId(d.getMessageId())
        .build();
  }

  record Run(int status, String out, String err) {}

  static Run replay(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status =
        ReplayDeadLetters.run(
            args,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(
        status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  static Map<String, PubsubEmulator.Received> byReplayOf(List<PubsubEmulator.Received> received) {
    Map<String, PubsubEmulator.Received> out = new TreeMap<>();
    received.forEach(r -> out.put(r.attributes().get("replay_of"), r));
    return out;
  }

  static void assertNoOldOrRedactedToken(PubsubEmulator.Received r) {
    String data = new String(r.data(), StandardCharsets.ISO_8859_1);
    assertThat(data, not(containsString(OLD_TOKEN)));
    assertThat(data, not(containsString("[REDACTED]")));
    r.attributes()
        .values()
        .forEach(
            v -> {
              assertThat(v, not(containsString(OLD_TOKEN)));
              assertThat(v, not(containsString("[REDACTED]")));
            });
  }

  @Test
  void replaysExactlyTheSelectedDeadLettersWithAFreshToken() throws Exception {
    String topic = PUBSUB.createTopic("replay-selected");
    String subscription = PUBSUB.createSubscription("replay-selected-sub", topic, 30);
    Run run =
        replay(
            "--warehouse=duckdb:" + warehouse,
            "--reason=AUTH_EXPIRED,INTERNAL_ERROR,malformed_json,DUPLICATE_JOB",
            "--since=2026-11-24T10:00:00Z",
            "--until=2026-11-24T12:00:00Z",
            "--topic=" + topic,
            "--pubsub-root-url=" + PUBSUB.rootUrl(),
            "--authorization-file=" + aliceTokenFile);

    assertThat(run.err(), run.status(), equalTo(1)); // some selected rows were skipped
    assertThat(
        run.out(),
        containsString(
            "m-expired-0001 AUTH_EXPIRED skipped: it has no authenticated owner (no single"
                + " AUTH_SUCCESS audit event for message m-expired-0001)"));
    assertThat(
        run.out(),
        containsString("m-expired-mallory AUTH_EXPIRED skipped: it has no authenticated owner"));
    assertThat(
        run.out(),
        containsString(
            "m-forged-0011 AUTH_EXPIRED skipped: it has no authenticated owner (no single"
                + " AUTH_SUCCESS audit event for message m-forged-0011): a uid attribute or a"
                + " claimed uid is chosen by the sender and proves nothing"));
    assertThat(
        run.out(),
        containsString(duplicateId + " DUPLICATE_JOB skipped: the job_id is already taken"));
    assertThat(
        run.out(),
        containsString(
            "job_results:acme/job-internal-0002 INTERNAL_ERROR skipped: a row the warehouse refused"));
    assertThat(
        run.out(),
        containsString("m-nobody-0010 MALFORMED_JSON skipped: it has no authenticated owner"));
    assertThat(
        run.out(),
        containsString("m-twice-0012 MALFORMED_JSON skipped: it has no authenticated owner"));
    assertThat(
        run.out(),
        containsString(
            "m-other-tenant-0013 MALFORMED_JSON skipped: it belongs to uid alice of tenant globex"
                + " (its AUTH_SUCCESS audit event) but the replay token is for uid alice of tenant"
                + " acme"));
    assertThat(
        run.out(), containsString("13 dead letters read, 10 selected, 2 replayed, 8 skipped"));
    assertThat(run.out() + run.err(), not(containsString(aliceToken)));

    List<PubsubEmulator.Received> received =
        PUBSUB.pullAtLeast(subscription, 2, Duration.ofSeconds(30));
    Thread.sleep(500);
    received.addAll(PUBSUB.pull(subscription, 10));
    assertThat(received, hasSize(2));
    Map<String, PubsubEmulator.Received> by = byReplayOf(received);
    assertThat(
        by.keySet(),
        equalTo(new java.util.TreeSet<>(List.of("msg-job-internal-0002", "m-bytes-0003"))));

    PubsubEmulator.Received internal = by.get("msg-job-internal-0002");
    assertThat(new String(internal.data(), StandardCharsets.UTF_8), equalTo(INTERNAL_BODY));
    assertThat(
        internal.attributes(),
        equalTo(
            Map.of(
                "authorization",
                "Bearer " + aliceToken,
                "job_id",
                "job-internal-0002",
                "replay_of",
                "msg-job-internal-0002")));

    PubsubEmulator.Received bytes = by.get("m-bytes-0003");
    assertThat(bytes.data(), equalTo(RAW_BYTES));
    assertThat(
        bytes.attributes().get("job_id"), equalTo(ReplayDeadLetters.replayJobId("m-bytes-0003")));
    assertThat(bytes.attributes().get("job_id"), startsWith("replay-"));
    assertThat(
        bytes.attributes().keySet(),
        equalTo(new java.util.TreeSet<>(List.of("authorization", "job_id", "replay_of"))));

    received.forEach(ReplayDeadLettersTest::assertNoOldOrRedactedToken);
    for (PubsubEmulator.Received r : received) {
      assertThat(r.attributes().get("authorization"), equalTo("Bearer " + aliceToken));
      assertAuthenticatesAs(r, "alice", "acme");
    }
  }

  /**
   * The pipeline's own verifier (dev mode, the same key pair) accepts the replayed message's token.
   */
  static void assertAuthenticatesAs(PubsubEmulator.Received r, String uid, String tenant)
      throws Exception {
    try (TokenVerifier verifier =
        TokenVerifier.create(AuthConfig.dev("demo-aiprod", devAuth.toString()))) {
      AuthResult result = verifier.verify(r.attributes().get("authorization"));
      assertThat(result.toString(), result.isOk(), equalTo(true));
      assertThat(result.principal().getUid(), equalTo(uid));
      assertThat(result.principal().getTenant(), equalTo(tenant));
    }
  }

  /**
   * Mallory's expired-token message names alice in its attributes (and its token claims alice):
   * refused. A message alice's AUTH_SUCCESS event owns is replayed, and authenticates, as alice.
   */
  @Test
  void aForgedUidAttributeIsRefusedAndAnAuthenticatedOwnerIsReplayedAsThatPrincipal()
      throws Exception {
    String topic = PUBSUB.createTopic("replay-forged");
    String subscription = PUBSUB.createSubscription("replay-forged-sub", topic, 30);
    String[] base = {
      "--warehouse=duckdb:" + warehouse,
      "--reason=AUTH_EXPIRED,MALFORMED_JSON",
      "--topic=" + topic,
      "--pubsub-root-url=" + PUBSUB.rootUrl(),
      "--dev-uid=alice",
      "--dev-tenant=acme",
      "--dev-role=user",
      "--dev-plan=pro",
      "--dev-auth-dir=" + devAuth
    };
    Run forged = replay(concat(base, "--message-ids=m-forged-0011"));
    assertThat(forged.err(), forged.status(), equalTo(1));
    assertThat(
        forged.out(),
        containsString("m-forged-0011 AUTH_EXPIRED skipped: it has no authenticated owner"));
    assertThat(forged.out(), containsString("(--force replays it as uid alice)"));
    assertThat(forged.out(), containsString("1 selected, 0 replayed, 1 skipped"));
    Thread.sleep(1000);
    assertThat(PUBSUB.pull(subscription, 10), empty());

    Run real = replay(concat(base, "--message-ids=m-bytes-0003,m-forged-0011"));
    assertThat(real.out(), containsString("m-bytes-0003 MALFORMED_JSON replayed as "));
    assertThat(real.out(), containsString("2 selected, 1 replayed, 1 skipped"));
    List<PubsubEmulator.Received> received =
        PUBSUB.pullAtLeast(subscription, 1, Duration.ofSeconds(30));
    Thread.sleep(500);
    received.addAll(PUBSUB.pull(subscription, 10));
    assertThat(received, hasSize(1));
    assertThat(received.get(0).attributes().get("replay_of"), equalTo("m-bytes-0003"));
    assertThat(received.get(0).data(), equalTo(RAW_BYTES));
    assertAuthenticatesAs(received.get(0), "alice", "acme");
  }

  @Test
  void dryRunListsWhatWouldBeSentAndSendsNothing() throws Exception {
    String topic = PUBSUB.createTopic("replay-dry");
    String subscription = PUBSUB.createSubscription("replay-dry-sub", topic, 30);
    Run run =
        replay(
            "--warehouse=duckdb:" + warehouse,
            "--reason=AUTH_EXPIRED,INTERNAL_ERROR,MALFORMED_JSON",
            "--since=2026-11-24",
            "--until=2026-11-24T12:00:00Z",
            "--topic=" + topic,
            "--pubsub-root-url=" + PUBSUB.rootUrl(),
            "--authorization-file=" + aliceTokenFile,
            "--dry-run");
    assertThat(
        run.out(),
        containsString(
            "msg-job-internal-0002 INTERNAL_ERROR would publish to "
                + topic
                + ": attributes {authorization=Bearer <fresh token of uid alice>, job_id=job-internal-0002, replay_of=msg-job-internal-0002}, "
                + INTERNAL_BODY.length()
                + " bytes of data"));
    assertThat(run.out(), containsString("m-bytes-0003 MALFORMED_JSON would publish"));
    // --since as a date: the whole UTC day, so the 09:00 dead letter is selected too (it has no
    // authenticated owner).
    assertThat(
        run.out(),
        containsString("m-expired-early AUTH_EXPIRED skipped: it has no authenticated owner"));
    assertThat(run.out(), containsString("10 selected, 2 would be replayed, 8 skipped"));
    assertThat(run.out() + run.err(), not(containsString(aliceToken)));
    Thread.sleep(1000);
    assertThat(PUBSUB.pull(subscription, 10), empty());
  }

  /**
   * The same dead letters and audit events, as the pipeline's rows ({@link WarehouseRows}), in a
   * BigQuery warehouse on Beam's fakes: a dry run reads it through BigQueryIO and decides exactly
   * as on the DuckDB file, contacting no Pub/Sub; a real run publishes the owner's rows.
   */
  @Test
  void readsABigQueryWarehouseLikeTheDuckDbFile() throws Exception {
    BigQueryFakes bq = new BigQueryFakes("my-project", "replay_bq");
    List<Row> rows = new ArrayList<>();
    deadLetters.forEach(d -> rows.add(WarehouseRows.deadLetter(d)));
    bq.insert(WarehouseTable.DEAD_LETTERS, rows);
    List<Row> audit = new ArrayList<>();
    auditEvents.forEach(e -> audit.add(WarehouseRows.auditEvent(e)));
    bq.insert(WarehouseTable.AUDIT_EVENTS, audit);
    FakeBigQueryServices services = bq.services;

    String topic = PubsubEmulator.topicPath("replay-bq-dry");
    String[] selection = {
      "--reason=AUTH_EXPIRED,INTERNAL_ERROR,MALFORMED_JSON",
      "--since=2026-11-24",
      "--until=2026-11-24T12:00:00Z",
      "--topic=" + topic,
      // Nothing listens there: a dry run must not publish.
      "--pubsub-root-url=http://127.0.0.1:9",
      "--authorization-file=" + aliceTokenFile,
      "--dry-run"
    };
    Run local = replay(concat(new String[] {"--warehouse=duckdb:" + warehouse}, selection));
    Path temp = dir.resolve("bq-temp");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status =
        new Cli(
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8))
            .withBigQueryServices(services)
            .execute(
                concat(
                    new String[] {
                      "replay-dead-letters",
                      "--warehouse=bigquery:my-project.replay_bq",
                      "--temp-location=" + temp
                    },
                    selection));
    String remote = out.toString(StandardCharsets.UTF_8);
    assertThat(err.toString(StandardCharsets.UTF_8), status, equalTo(local.status()));
    // The same decisions line by line; only the count read differs (BigQuery reads the range).
    List<String> localLines = local.out().lines().toList();
    List<String> remoteLines = remote.lines().toList();
    assertThat(
        remoteLines.subList(0, remoteLines.size() - 1),
        equalTo(localLines.subList(0, localLines.size() - 1)));
    assertThat(remote, containsString("m-bytes-0003 MALFORMED_JSON would publish"));
    assertThat(remote, containsString("10 selected, 2 would be replayed, 8 skipped"));
    assertThat(remote, containsString("m-forged-0011 AUTH_EXPIRED skipped"));

    // For real: the owner's two rows reach the topic, the others do not.
    String realTopic = PUBSUB.createTopic("replay-bq");
    String subscription = PUBSUB.createSubscription("replay-bq-sub", realTopic, 30);
    out.reset();
    int published =
        new Cli(
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8))
            .withBigQueryServices(services)
            .execute(
                "replay-dead-letters",
                "--warehouse=bigquery:my-project.replay_bq",
                "--temp-location=" + temp,
                "--reason=INTERNAL_ERROR,MALFORMED_JSON",
                "--message-ids=msg-job-internal-0002,m-bytes-0003",
                "--topic=" + realTopic,
                "--pubsub-root-url=" + PUBSUB.rootUrl(),
                "--authorization-file=" + aliceTokenFile);
    assertThat(err.toString(StandardCharsets.UTF_8), published, equalTo(0));
    List<PubsubEmulator.Received> received =
        PUBSUB.pullAtLeast(subscription, 2, Duration.ofSeconds(30));
    assertThat(
        byReplayOf(received).keySet(),
        equalTo(java.util.Set.of("msg-job-internal-0002", "m-bytes-0003")));
    for (PubsubEmulator.Received r : received) {
      assertAuthenticatesAs(r, "alice", "acme");
    }
  }

  @Test
  void forceReplaysRefusedReasonsAndOtherOwnersButNeverRowsThatAreNotRequests() throws Exception {
    String topic = PUBSUB.createTopic("replay-force");
    String subscription = PUBSUB.createSubscription("replay-force-sub", topic, 30);
    Run run =
        replay(
            "--warehouse=duckdb:" + warehouse,
            "--reason=DUPLICATE_JOB,AUTH_EXPIRED,INTERNAL_ERROR",
            "--since=2026-11-24T10:10:30Z",
            "--until=2026-11-24T11:00:00Z",
            "--topic=" + topic,
            "--pubsub-root-url=" + PUBSUB.rootUrl(),
            "--authorization-file=" + aliceTokenFile,
            "--force");
    // m-expired-mallory (10:11), the internal error (10:20), the duplicate (10:25), the warehouse
    // row (10:40)
    assertThat(run.out(), containsString("4 selected, 3 replayed, 1 skipped"));
    List<PubsubEmulator.Received> received =
        PUBSUB.pullAtLeast(subscription, 3, Duration.ofSeconds(30));
    assertThat(received, hasSize(3));
    assertThat(
        byReplayOf(received).keySet(),
        equalTo(
            new java.util.TreeSet<>(
                List.of("m-expired-mallory", "msg-job-internal-0002", duplicateId))));
    assertThat(
        byReplayOf(received).get(duplicateId).attributes().get("job_id"),
        equalTo("job-dup-00000005"));
  }

  @Test
  void replaysFromABigQueryExportOncePerMessageWithADevToken() throws Exception {
    String topic = PUBSUB.createTopic("replay-export");
    String subscription = PUBSUB.createSubscription("replay-export-sub", topic, 30);
    Path export = dir.resolve("dead_letters.jsonl");
    String expiredRow =
        "{\"timestamp\":\"2026-11-24 10:05:00.123 UTC\",\"payloadString\":"
            + quote(EXPIRED_BODY)
            + ",\"payloadBytes\":null,\"attributes\":[{\"key\":\"authorization\",\"value\":\"[REDACTED]\"},"
            + "{\"key\":\"job_id\",\"value\":\"job-export-0001\"}],\"errorMessage\":\"expired\",\"stacktrace\":null,"
            + "\"reason_code\":\"AUTH_EXPIRED\",\"stage\":\"Authenticate\",\"message_id\":\"17000000000001\",\"owner_uid\":\"bob\",\"owner_tenant\":\"acme\"}";
    String bytesRow =
        "{\"timestamp\":\"2026-11-24T10:06:00Z\",\"payloadBytes\":\""
            + Base64.getEncoder().encodeToString(RAW_BYTES)
            + "\",\"attributes\":[],\"errorMessage\":\"not UTF-8\",\"reason_code\":\"MALFORMED_JSON\",\"stage\":\"ReadRequests\","
            + "\"message_id\":\"17000000000002\",\"owner_uid\":\"bob\",\"owner_tenant\":\"acme\"}";
    String carolsRow =
        "{\"timestamp\":\"2026-11-24 10:08:00 UTC\",\"payloadString\":\"{}\",\"attributes\":[],"
            + "\"reason_code\":\"AUTH_EXPIRED\",\"stage\":\"Authenticate\",\"message_id\":\"17000000000004\",\"owner_uid\":\"carol\",\"owner_tenant\":\"acme\"}";
    // No AUTH_SUCCESS joined: a uid attribute and an old-style owner column prove nothing.
    String forgedRow =
        "{\"timestamp\":\"2026-11-24 10:09:00 UTC\",\"payloadString\":\"{}\","
            + "\"attributes\":[{\"key\":\"uid\",\"value\":\"bob\"},{\"key\":\"tenant\",\"value\":\"acme\"}],"
            + "\"reason_code\":\"AUTH_EXPIRED\",\"stage\":\"Authenticate\",\"message_id\":\"17000000000005\","
            + "\"owner\":\"bob\",\"owner_uid\":null}";
    String otherReason =
        "{\"timestamp\":\"2026-11-24 10:07:00 UTC\",\"payloadString\":\"{}\",\"attributes\":[],"
            + "\"reason_code\":\"SCHEMA_VIOLATION\",\"stage\":\"Validate\",\"message_id\":\"17000000000003\"}";
    // The export repeats the first row (BigQuery has no primary keys).
    Files.writeString(
        export,
        String.join("\n", expiredRow, bytesRow, otherReason, expiredRow, carolsRow, forgedRow, ""));

    Run run =
        replay(
            "--file=" + export,
            "--reason=AUTH_EXPIRED,MALFORMED_JSON",
            "--topic=" + topic,
            "--pubsub-root-url=" + PUBSUB.rootUrl(),
            "--dev-uid=bob",
            "--dev-tenant=acme",
            "--dev-auth-dir=" + devAuth);
    assertThat(run.err(), run.status(), equalTo(1));
    assertThat(
        run.out(),
        containsString(
            "17000000000004 AUTH_EXPIRED skipped: it belongs to uid carol of tenant acme (its"
                + " AUTH_SUCCESS audit event) but the replay token is for uid bob of tenant acme"));
    assertThat(
        run.out(),
        containsString("17000000000005 AUTH_EXPIRED skipped: it has no authenticated owner"));
    assertThat(run.out(), containsString("6 dead letters read, 4 selected, 2 replayed, 2 skipped"));
    List<PubsubEmulator.Received> received =
        PUBSUB.pullAtLeast(subscription, 2, Duration.ofSeconds(30));
    Thread.sleep(500);
    received.addAll(PUBSUB.pull(subscription, 10));
    assertThat(received, hasSize(2));
    Map<String, PubsubEmulator.Received> by = byReplayOf(received);
    assertThat(
        new String(by.get("17000000000001").data(), StandardCharsets.UTF_8), equalTo(EXPIRED_BODY));
    assertThat(by.get("17000000000001").attributes().get("job_id"), equalTo("job-export-0001"));
    assertThat(by.get("17000000000002").data(), equalTo(RAW_BYTES));
    for (PubsubEmulator.Received r : received) {
      assertNoOldOrRedactedToken(r);
      String token = r.attributes().get("authorization").substring("Bearer ".length());
      Map<String, String> claims = ReplayDeadLetters.claims(token);
      assertThat(claims.get("sub"), equalTo("bob"));
      assertThat(claims.get("tenant"), equalTo("acme"));
      assertThat(claims.get("aud"), equalTo("demo-aiprod"));
      assertAuthenticatesAs(r, "bob", "acme");
      assertThat(run.out(), not(containsString(token)));
    }
  }

  @Test
  void refusesBadUsageUnreadableTokensAndUnknownCodes() throws Exception {
    String topic = PubsubEmulator.topicPath("replay-usage");
    String[] base = {
      "--warehouse=duckdb:" + warehouse, "--topic=" + topic, "--pubsub-root-url=" + PUBSUB.rootUrl()
    };
    assertThat(
        replay(concat(base, "--reason=AUTH_EXPIRED")).status(), equalTo(2)); // no token source
    Run unknown =
        replay(concat(base, "--reason=DEADLINE", "--authorization-file=" + aliceTokenFile));
    assertThat(unknown.status(), equalTo(2));
    assertThat(unknown.err(), containsString("not a dead-letter reason code"));

    Path shared = dir.resolve("shared.token");
    Files.writeString(shared, aliceToken);
    Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rw-r--r--"));
    Run open = replay(concat(base, "--reason=AUTH_EXPIRED", "--authorization-file=" + shared));
    assertThat(open.status(), equalTo(2));
    assertThat(open.err(), containsString("chmod 600"));
    assertThat(open.err(), not(containsString(aliceToken)));

    Path expired = dir.resolve("expired.token");
    Files.writeString(
        expired,
        new DevTokens(
                DevAuthKeys.load(devAuth),
                "demo-aiprod",
                java.time.Clock.fixed(
                    Instant.now().minus(Duration.ofHours(2)), java.time.ZoneOffset.UTC))
            .mint("alice"));
    Files.setPosixFilePermissions(expired, PosixFilePermissions.fromString("rw-------"));
    Run old = replay(concat(base, "--reason=AUTH_EXPIRED", "--authorization-file=" + expired));
    assertThat(old.status(), equalTo(2));
    assertThat(old.err(), containsString("mint a fresh one"));

    Run range =
        replay(
            concat(
                base,
                "--reason=AUTH_EXPIRED",
                "--authorization-file=" + aliceTokenFile,
                "--since=2026-11-24T12:00:00Z",
                "--until=2026-11-24T10:00:00Z"));
    assertThat(range.status(), equalTo(2));
    Run bigquery =
        replay(
            "--warehouse=bigquery:Not_A_Project.aiprod",
            "--reason=AUTH_EXPIRED",
            "--topic=" + topic,
            "--authorization-file=" + aliceTokenFile);
    assertThat(bigquery.status(), equalTo(2));
    assertThat(bigquery.err(), containsString("bad project id"));
  }

  static String[] concat(String[] a, String... b) {
    List<String> l = new ArrayList<>(List.of(a));
    l.addAll(List.of(b));
    return l.toArray(new String[0]);
  }

  static String quote(String s) throws Exception {
    return new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(s);
  }
}
