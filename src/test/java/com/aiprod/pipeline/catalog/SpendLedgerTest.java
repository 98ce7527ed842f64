package com.aiprod.pipeline.catalog;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.aMapWithSize;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasEntry;
import static org.hamcrest.Matchers.hasKey;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.instanceOf;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.aiprod.pipeline.jobstore.FirestoreClients;
import com.aiprod.pipeline.testing.FirestoreEmulator;
import com.google.cloud.Timestamp;
import com.google.cloud.firestore.DocumentSnapshot;
import com.google.cloud.firestore.Firestore;
import com.google.cloud.firestore.FirestoreOptions;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class SpendLedgerTest {
  private static final String PROJECT = "demo-aiprod";
  private static final LocalDate DAY = LocalDate.of(2025, 11, 24);
  private static final double FREE_CAP = 5.0;

  @RegisterExtension static final FirestoreEmulator EMULATOR = new FirestoreEmulator();

  private SpendLedger ledger;

  @BeforeEach
  void open() throws Exception {
    EMULATOR.clear(PROJECT);
    ledger = new SpendLedger(config());
  }

  @AfterEach
  void close() {
    ledger.close();
  }

  private static FirestoreClients config() {
    return FirestoreClients.of(PROJECT, null, EMULATOR.hostPort());
  }

  /** The ledger document as another client sees it. */
  private static DocumentSnapshot document(String tenant, LocalDate day) throws Exception {
    try (Firestore db =
        FirestoreOptions.newBuilder()
            .setProjectId(PROJECT)
            .setEmulatorHost(EMULATOR.hostPort())
            .build()
            .getService()) {
      return db.document(SpendLedger.documentPath(tenant, day)).get().get();
    }
  }

  @Test
  void documentPathIsTenantSpendDay() {
    assertThat(
        SpendLedger.documentPath("acme", LocalDate.of(2025, 1, 5)),
        equalTo("tenants/acme/spend/2025-01-05"));
  }

  @Test
  void chargesUpToTheCapExactlyThenRefusesACentOver() throws Exception {
    ChargeResult first = ledger.charge("acme", DAY, "job-0000001", 1.5, FREE_CAP);
    assertThat(first, equalTo(new ChargeResult(true, false, 1.5, 0.0, 1.5, 5.0)));
    ChargeResult second = ledger.charge("acme", DAY, "job-0000002", 1.5, FREE_CAP);
    assertThat(second, equalTo(new ChargeResult(true, false, 1.5, 1.5, 3.0, 5.0)));
    // 0.1 + 0.2 style noise must not matter: 3.0 + 1.99 + 0.01 is exactly the cap.
    assertThat(ledger.charge("acme", DAY, "job-0000003", 1.99, FREE_CAP).admitted(), is(true));
    ChargeResult atCap = ledger.charge("acme", DAY, "job-0000004", 0.01, FREE_CAP);
    assertThat(atCap.admitted(), is(true));
    assertThat(atCap.spentAfterUsd(), equalTo(5.0));

    ChargeResult over = ledger.charge("acme", DAY, "job-0000005", 0.01, FREE_CAP);
    assertThat(over, equalTo(new ChargeResult(false, false, 0.01, 5.0, 5.0, 5.0)));
    // A $0 job never crosses the cap, even at it.
    assertThat(ledger.charge("acme", DAY, "job-0000006", 0.0, FREE_CAP).admitted(), is(true));

    DocumentSnapshot doc = document("acme", DAY);
    assertThat(doc.getDouble(SpendLedger.SPENT_USD), equalTo(5.0));
    @SuppressWarnings("unchecked")
    Map<String, Object> charges = (Map<String, Object>) doc.get(SpendLedger.CHARGES);
    assertThat(charges, aMapWithSize(5));
    assertThat(charges, hasEntry("job-0000003", (Object) 1.99));
    assertThat(charges, not(hasKey("job-0000005")));
    assertThat(doc.get(SpendLedger.UPDATED_AT), instanceOf(Timestamp.class));
  }

  @Test
  void aCentOverTheCapIsRefusedOnAnEmptyDay() {
    ChargeResult r = ledger.charge("acme", DAY, "job-0000001", 5.01, FREE_CAP);
    assertThat(r.admitted(), is(false));
    assertThat(ledger.charge("acme", DAY, "job-0000002", 5.0, FREE_CAP).admitted(), is(true));
  }

  @Test
  void chargingAJobAgainReturnsTheEarlierAdmissionWithoutChargingTwice() throws Exception {
    ledger.charge("acme", DAY, "job-0000001", 4.0, FREE_CAP);
    ChargeResult again = ledger.charge("acme", DAY, "job-0000001", 4.0, FREE_CAP);
    assertThat(again, equalTo(new ChargeResult(true, true, 4.0, 4.0, 4.0, 5.0)));
    // Even when the redelivery carries another estimate, or the cap is now lower, it stays
    // admitted.
    ChargeResult changed = ledger.charge("acme", DAY, "job-0000001", 9.0, 1.0);
    assertThat(changed.admitted(), is(true));
    assertThat(changed.repeated(), is(true));
    assertThat(changed.estimateUsd(), equalTo(4.0));
    assertThat(ledger.spentUsd("acme", DAY), equalTo(4.0));
    @SuppressWarnings("unchecked")
    Map<String, Object> charges =
        (Map<String, Object>) document("acme", DAY).get(SpendLedger.CHARGES);
    assertThat(charges, equalTo(Map.of("job-0000001", 4.0)));
  }

  @Test
  void aNewLedgerSeesTheEarlierSpend() {
    ledger.charge("acme", DAY, "job-0000001", 3.0, FREE_CAP);
    ledger.close();
    // A restarted worker: a new client of the same database.
    ledger =
        new SpendLedger(
            FirestoreClients.fromOptions(
                PipelineOptionsFactory.fromArgs(
                        "--project=" + PROJECT, "--emulatorHost=" + EMULATOR.hostPort())
                    .create()));
    assertThat(ledger.spentUsd("acme", DAY), equalTo(3.0));
    ChargeResult refused = ledger.charge("acme", DAY, "job-0000002", 2.5, FREE_CAP);
    assertThat(refused.admitted(), is(false));
    assertThat(refused.spentBeforeUsd(), equalTo(3.0));
    assertThat(ledger.charge("acme", DAY, "job-0000001", 3.0, FREE_CAP).repeated(), is(true));
    assertThat(
        ledger.charge("acme", DAY, "job-0000003", 2.0, FREE_CAP).spentAfterUsd(), equalTo(5.0));
  }

  @Test
  void concurrentChargesNeverExceedTheCap() throws Exception {
    double estimate = 0.35;
    long fit = Money.micros(FREE_CAP) / Money.micros(estimate); // 14: $4.90
    int threads = 8;
    int jobs = 40;
    List<SpendLedger> workers = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      for (int t = 0; t < threads; t++) {
        workers.add(new SpendLedger(config()));
      }
      List<Future<ChargeResult>> results = new ArrayList<>();
      for (int i = 0; i < jobs; i++) {
        SpendLedger worker = workers.get(i % threads);
        String jobId = String.format("job-%07d", i);
        Callable<ChargeResult> charge = () -> worker.charge("acme", DAY, jobId, estimate, FREE_CAP);
        results.add(pool.submit(charge));
      }
      int admitted = 0;
      for (Future<ChargeResult> f : results) {
        ChargeResult r = f.get(5, TimeUnit.MINUTES);
        assertThat(r.repeated(), is(false));
        assertThat(Money.micros(r.spentAfterUsd()), lessThanOrEqualTo(Money.micros(FREE_CAP)));
        if (r.admitted()) {
          admitted++;
        }
      }
      assertThat((long) admitted, equalTo(fit));
      assertThat(ledger.spentUsd("acme", DAY), equalTo(Money.roundMicros(fit * estimate)));
      @SuppressWarnings("unchecked")
      Map<String, Object> charges =
          (Map<String, Object>) document("acme", DAY).get(SpendLedger.CHARGES);
      assertThat(charges.keySet(), hasSize((int) fit));
    } finally {
      pool.shutdownNow();
      workers.forEach(SpendLedger::close);
    }
  }

  @Test
  void tenantsAndDaysHaveLedgersOfTheirOwn() throws Exception {
    assertThat(ledger.charge("acme", DAY, "job-0000001", 5.0, FREE_CAP).admitted(), is(true));
    assertThat(ledger.charge("acme", DAY, "job-0000002", 1.0, FREE_CAP).admitted(), is(false));
    assertThat(ledger.charge("globex", DAY, "job-0000002", 5.0, FREE_CAP).admitted(), is(true));
    assertThat(
        ledger.charge("acme", DAY.plusDays(1), "job-0000002", 5.0, FREE_CAP).admitted(), is(true));
    // The same job id in another tenant is another job.
    assertThat(ledger.charge("globex", DAY, "job-0000001", 0.5, 500.0).repeated(), is(false));
    assertThat(ledger.spentUsd("acme", DAY), equalTo(5.0));
    assertThat(ledger.spentUsd("acme", DAY.plusDays(1)), equalTo(5.0));
    assertThat(ledger.spentUsd("globex", DAY), equalTo(5.5));
    assertThat(ledger.spentUsd("initech", DAY), equalTo(0.0));
    assertThat(document("initech", DAY).exists(), is(false));
  }

  @Test
  void badArgumentsAreRefusedBeforeTouchingTheLedger() {
    assertThrows(
        IllegalArgumentException.class, () -> ledger.charge("a/b", DAY, "job-0000001", 1, 5));
    assertThrows(IllegalArgumentException.class, () -> ledger.charge("acme", DAY, " ", 1, 5));
    assertThrows(
        IllegalArgumentException.class, () -> ledger.charge("acme", DAY, "job-0000001", -1, 5));
    assertThrows(
        IllegalArgumentException.class,
        () -> ledger.charge("acme", DAY, "job-0000001", Double.NaN, 5));
    assertThrows(
        IllegalArgumentException.class, () -> ledger.charge("acme", null, "job-0000001", 1, 5));
  }

  @Test
  void anUnreachableLedgerThrowsInsteadOfAdmitting() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    try (SpendLedger down =
        new SpendLedger(
            FirestoreClients.of(PROJECT, null, "127.0.0.1:" + port), Duration.ofSeconds(5))) {
      SpendLedger.LedgerException e =
          assertThrows(
              SpendLedger.LedgerException.class,
              () -> down.charge("acme", DAY, "job-0000001", 1.0, FREE_CAP));
      assertThat(e.getMessage(), containsString("tenants/acme/spend/2025-11-24"));
      assertThat(e.getMessage(), containsString("neither admitted nor refused"));
      assertThat(e.getCause(), notNullValue());
    }
  }

  @Test
  void settlingReplacesTheReservationWithTheChargeOnce() throws Exception {
    ledger.charge("acme", DAY, "job-0000001", 0.75, FREE_CAP);
    ledger.charge("acme", DAY, "job-0000002", 0.75, FREE_CAP);
    assertThat(ledger.spentUsd("acme", DAY), equalTo(1.5));

    // job 1 failed: its reservation comes back.
    SpendLedger.SettleResult failed = ledger.settle("acme", DAY, "job-0000001", 0.0);
    assertThat(failed, equalTo(new SpendLedger.SettleResult(true, 0.75, 0.0, 1.5, 0.75)));
    // A retried settlement (same amount) changes nothing: no second refund.
    SpendLedger.SettleResult again = ledger.settle("acme", DAY, "job-0000001", 0.0);
    assertThat(again, equalTo(new SpendLedger.SettleResult(false, 0.75, 0.0, 0.75, 0.75)));
    assertThat(ledger.spentUsd("acme", DAY), equalTo(0.75));

    // job 2 delivered two of its three shots' worth.
    assertThat(ledger.settle("acme", DAY, "job-0000002", 0.5).spentAfterUsd(), equalTo(0.5));
    assertThat(ledger.settle("acme", DAY, "job-0000002", 0.5).changed(), is(false));
    assertThat(ledger.spentUsd("acme", DAY), equalTo(0.5));

    DocumentSnapshot doc = document("acme", DAY);
    @SuppressWarnings("unchecked")
    Map<String, Object> charges = (Map<String, Object>) doc.get(SpendLedger.CHARGES);
    assertThat(charges, equalTo(Map.of("job-0000001", 0.0, "job-0000002", 0.5)));
    @SuppressWarnings("unchecked")
    Map<String, Object> settlements = (Map<String, Object>) doc.get(SpendLedger.SETTLEMENTS);
    assertThat(
        settlements,
        equalTo(
            Map.of(
                "job-0000001",
                Map.of(SpendLedger.RESERVED_USD, 0.75, SpendLedger.SETTLED_USD, 0.0),
                "job-0000002",
                Map.of(SpendLedger.RESERVED_USD, 0.75, SpendLedger.SETTLED_USD, 0.5))));

    // The refund makes room under the cap: $5 − $0.50 fits $4.50, not a cent more.
    assertThat(ledger.charge("acme", DAY, "job-0000003", 4.51, FREE_CAP).admitted(), is(false));
    assertThat(ledger.charge("acme", DAY, "job-0000003", 4.5, FREE_CAP).admitted(), is(true));
    // A redelivered admission of a settled job is still a repeat, charged nothing.
    ChargeResult repeat = ledger.charge("acme", DAY, "job-0000001", 0.75, FREE_CAP);
    assertThat(repeat.repeated(), is(true));
    assertThat(ledger.spentUsd("acme", DAY), equalTo(5.0));
  }

  @Test
  void settlingToAnotherAmountMovesTheSpendByTheDifferenceOnly() {
    ledger.charge("acme", DAY, "job-0000001", 1.0, FREE_CAP);
    ledger.settle("acme", DAY, "job-0000001", 0.0);
    // The job ran again after a restart and was delivered this time.
    SpendLedger.SettleResult r = ledger.settle("acme", DAY, "job-0000001", 0.8);
    assertThat(r, equalTo(new SpendLedger.SettleResult(true, 1.0, 0.8, 0.0, 0.8)));
    assertThat(ledger.spentUsd("acme", DAY), equalTo(0.8));
  }

  @Test
  void settlingAJobWithNothingOnRecord() throws Exception {
    // Nothing reserved and nothing charged: nothing written.
    SpendLedger.SettleResult none = ledger.settle("acme", DAY, "job-0000009", 0.0);
    assertThat(none.changed(), is(false));
    assertThat(document("acme", DAY).exists(), is(false));
    // A charge without a reservation still counts.
    assertThat(ledger.settle("acme", DAY, "job-0000009", 0.25).spentAfterUsd(), equalTo(0.25));
    assertThat(ledger.settle("acme", DAY, "job-0000009", 0.25).changed(), is(false));
    assertThat(ledger.spentUsd("acme", DAY), equalTo(0.25));
    assertThrows(
        IllegalArgumentException.class, () -> ledger.settle("acme", DAY, "job-0000009", -1));
    assertThrows(IllegalArgumentException.class, () -> ledger.settle("a/b", DAY, "job-0000009", 0));
  }

  @Test
  void concurrentRetriedSettlementsRefundOnce() throws Exception {
    for (int i = 0; i < 4; i++) {
      ledger.charge("acme", DAY, String.format("job-%07d", i), 1.0, FREE_CAP);
    }
    ExecutorService pool = Executors.newFixedThreadPool(4);
    List<SpendLedger> workers = new ArrayList<>();
    try {
      List<Future<SpendLedger.SettleResult>> results = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        workers.add(new SpendLedger(config()));
      }
      // Every job settled three times over, from four workers at once.
      for (int k = 0; k < 12; k++) {
        SpendLedger w = workers.get(k % 4);
        String jobId = String.format("job-%07d", k % 4);
        results.add(pool.submit(() -> w.settle("acme", DAY, jobId, 0.25)));
      }
      int changed = 0;
      for (Future<SpendLedger.SettleResult> f : results) {
        if (f.get(5, TimeUnit.MINUTES).changed()) {
          changed++;
        }
      }
      assertThat(changed, equalTo(4));
      assertThat(ledger.spentUsd("acme", DAY), equalTo(1.0));
    } finally {
      pool.shutdownNow();
      workers.forEach(SpendLedger::close);
    }
  }

  @Test
  void configComesFromBeamOptions() {
    FirestoreClients c =
        FirestoreClients.fromOptions(
            PipelineOptionsFactory.fromArgs(
                    "--project=p1",
                    "--firestoreProject=p2",
                    "--firestoreDb=ledger-db",
                    "--emulatorHost=127.0.0.1:9")
                .create());
    assertThat(c, equalTo(FirestoreClients.of("p2", "ledger-db", "127.0.0.1:9")));
    FirestoreClients prod =
        FirestoreClients.fromOptions(PipelineOptionsFactory.fromArgs("--project=p1").create());
    assertThat(prod.projectId(), equalTo("p1"));
    assertThat(prod.databaseId(), equalTo("(default)"));
    assertThat(prod.emulatorHost(), equalTo(null));
    assertThrows(IllegalArgumentException.class, () -> FirestoreClients.of(" ", null, null));
    assertThrows(
        IllegalArgumentException.class, () -> FirestoreClients.of("p", null, "http://127.0.0.1:9"));
  }
}
