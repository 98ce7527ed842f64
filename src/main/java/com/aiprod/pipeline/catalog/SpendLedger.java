package com.aiprod.pipeline.catalog;

import com.aiprod.pipeline.jobstore.FirestoreClients;
import com.google.cloud.firestore.DocumentReference;
import com.google.cloud.firestore.DocumentSnapshot;
import com.google.cloud.firestore.FieldPath;
import com.google.cloud.firestore.FieldValue;
import com.google.cloud.firestore.Firestore;
import com.google.cloud.firestore.SetOptions;
import com.google.cloud.firestore.TransactionOptions;
import java.time.Duration;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;

/**
 * The per-tenant daily spend ledger of DESIGN §3, in Firestore, so that the cap holds across
 * workers, bundles, pipeline runs and restarts.
 *
 * <p>One document per tenant and UTC day, {@code tenants/{tenant}/spend/{yyyy-MM-dd}}, with {@code
 * spent_usd} (number: the estimates charged so far), {@code charges} (map job_id → estimate
 * charged) and {@code updated_at} (server timestamp of the last charge). {@link #charge} reads and
 * writes it in one Firestore transaction, so concurrent charges of the same tenant-day (several
 * workers, several threads) serialize and the cap is never overshot.
 *
 * <p>Rules: a charge is refused when spent + estimate is strictly greater than the cap, compared in
 * whole micro-dollars ({@link Money}); a $0 charge is always admitted (as in {@link
 * AdmissionRules#checkBudget}). A job_id already in {@code charges} is a redelivery: the earlier
 * admission is returned and nothing is charged again. Refusals are not recorded (the spend never
 * decreases on admission, so a redelivered refusal is refused again unless the cap was raised
 * meanwhile).
 *
 * <p>Settlement ({@link #settle}, DESIGN §5 "Charging"): when a job ends, its reservation is
 * replaced by its charge. {@code charges.<job_id>} becomes the charge, {@code spent_usd} moves by
 * (charge − amount on record) and {@code settlements.<job_id>} records {@code reserved_usd} (the
 * amount reserved at admission) and {@code settled_usd}. Settling again to the same amount changes
 * nothing, so a retried or redelivered settlement never refunds twice; settling to another amount
 * (a job run again after a restart) moves the spend by the difference only.
 *
 * <p>Errors (Firestore unreachable, transaction given up after {@link #TRANSACTION_ATTEMPTS}
 * attempts, timeout) are thrown as {@link LedgerException}: a job is never admitted without its
 * charge on record. Thread-safe: one instance may serve several threads.
 */
public final class SpendLedger implements AutoCloseable {
  /** Attempts of one charge's transaction before giving up (contention on a hot tenant-day). */
  public static final int TRANSACTION_ATTEMPTS = 30;

  public static final String SPENT_USD = "spent_usd";
  public static final String CHARGES = "charges";
  public static final String UPDATED_AT = "updated_at";
  public static final String SETTLEMENTS = "settlements";
  public static final String RESERVED_USD = "reserved_usd";
  public static final String SETTLED_USD = "settled_usd";

  /** How long one charge (all its transaction attempts) may take by default. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(2);

  private static final Pattern TENANT = Pattern.compile("[A-Za-z0-9_-]{1,64}");

  private final FirestoreClients config;
  private final Firestore db;
  private final Duration timeout;
  private final TransactionOptions transactionOptions =
      TransactionOptions.createReadWriteOptionsBuilder()
          .setNumberOfAttempts(TRANSACTION_ATTEMPTS)
          .build();

  /** {@link #SpendLedger(FirestoreClients, Duration)} with {@link #DEFAULT_TIMEOUT}. */
  public SpendLedger(FirestoreClients config) {
    this(config, DEFAULT_TIMEOUT);
  }

  /**
   * Opens a Firestore client for {@code config}: plaintext with the client's fixed emulator
   * credentials against an emulator, application default credentials otherwise.
   *
   * <p>Against the emulator no credentials are set: the client then uses its own {@code
   * EmulatorCredentials} (a constant {@code owner} token, no lookup of default credentials and no
   * metadata server). Setting {@code NoCredentials} as well makes client 3.33.3 ignore the emulator
   * host and dial {@code firestore.googleapis.com:443} (measured).
   *
   * @param timeout how long one call (a charge with all its transaction attempts) may take before
   *     it fails with {@link LedgerException}
   */
  public SpendLedger(FirestoreClients config, Duration timeout) {
    if (timeout == null || timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("the ledger timeout must be positive: " + timeout);
    }
    this.config = config;
    this.timeout = timeout;
    this.db = config.open();
  }

  /** {@code tenants/{tenant}/spend/{yyyy-MM-dd}}. */
  public static String documentPath(String tenant, LocalDate utcDay) {
    return "tenants/" + tenant + "/spend/" + utcDay.format(DateTimeFormatter.ISO_LOCAL_DATE);
  }

  /**
   * Charges {@code estimateUsd} for {@code jobId} to {@code tenant}'s spend on {@code utcDay},
   * unless that would take the spend strictly over {@code capUsd}; idempotent per job_id.
   *
   * @throws IllegalArgumentException for a tenant that is not {@code [A-Za-z0-9_-]{1,64}}, a blank
   *     job id, or an amount that is negative or not finite
   * @throws LedgerException when the ledger could not be read or written: the job is neither
   *     admitted nor refused and the caller should retry
   */
  public ChargeResult charge(
      String tenant, LocalDate utcDay, String jobId, double estimateUsd, double capUsd) {
    if (tenant == null || !TENANT.matcher(tenant).matches()) {
      throw new IllegalArgumentException("tenant must match [A-Za-z0-9_-]{1,64}, got " + tenant);
    }
    if (utcDay == null || jobId == null || jobId.isBlank()) {
      throw new IllegalArgumentException("a UTC day and a non-blank job id are required");
    }
    if (!Double.isFinite(estimateUsd)
        || estimateUsd < 0
        || !Double.isFinite(capUsd)
        || capUsd < 0) {
      throw new IllegalArgumentException(
          "amounts must be finite and ≥ 0, got estimate " + estimateUsd + ", cap " + capUsd);
    }
    long estimate = Money.micros(estimateUsd);
    long cap = Money.micros(capUsd);
    DocumentReference ref = db.document(documentPath(tenant, utcDay));
    try {
      return db.runTransaction(
              tx -> {
                DocumentSnapshot snap = tx.get(ref).get();
                long spent = snap.exists() ? micros(snap.get(SPENT_USD)) : 0;
                Object earlier = snap.exists() ? snap.get(FieldPath.of(CHARGES, jobId)) : null;
                if (earlier != null) {
                  return new ChargeResult(
                      true, true, usd(micros(earlier)), usd(spent), usd(spent), usd(cap));
                }
                if (estimate > 0 && spent + estimate > cap) {
                  return new ChargeResult(
                      false, false, usd(estimate), usd(spent), usd(spent), usd(cap));
                }
                long after = spent + estimate;
                tx.set(
                    ref,
                    Map.of(
                        SPENT_USD, usd(after),
                        CHARGES, Map.of(jobId, usd(estimate)),
                        UPDATED_AT, FieldValue.serverTimestamp()),
                    SetOptions.merge());
                return new ChargeResult(
                    true, false, usd(estimate), usd(spent), usd(after), usd(cap));
              },
              transactionOptions)
          .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LedgerException(failure(tenant, utcDay, jobId, "interrupted"), e);
    } catch (ExecutionException e) {
      throw new LedgerException(
          failure(tenant, utcDay, jobId, String.valueOf(e.getCause())), e.getCause());
    } catch (TimeoutException e) {
      throw new LedgerException(
          failure(tenant, utcDay, jobId, "no answer within " + timeout.toSeconds() + " s"), e);
    }
  }

  /** The UTC day a job received at {@code receivedAtMillis} is reserved and settled on. */
  public static LocalDate utcDay(long receivedAtMillis) {
    return java.time.Instant.ofEpochMilli(receivedAtMillis)
        .atZone(java.time.ZoneOffset.UTC)
        .toLocalDate();
  }

  /**
   * Settles {@code jobId}'s reservation on {@code tenant}'s {@code utcDay} to {@code chargeUsd}
   * (what the ended job is charged); idempotent per job_id and amount. A job with nothing on record
   * and a $0 charge writes nothing.
   *
   * @throws IllegalArgumentException for a bad tenant, a blank job id or a bad amount
   * @throws LedgerException when the ledger could not be read or written (nothing was settled)
   */
  public SettleResult settle(String tenant, LocalDate utcDay, String jobId, double chargeUsd) {
    if (tenant == null || !TENANT.matcher(tenant).matches()) {
      throw new IllegalArgumentException("tenant must match [A-Za-z0-9_-]{1,64}, got " + tenant);
    }
    if (utcDay == null || jobId == null || jobId.isBlank()) {
      throw new IllegalArgumentException("a UTC day and a non-blank job id are required");
    }
    if (!Double.isFinite(chargeUsd) || chargeUsd < 0) {
      throw new IllegalArgumentException("a charge must be finite and ≥ 0, got " + chargeUsd);
    }
    long charge = Money.micros(chargeUsd);
    DocumentReference ref = db.document(documentPath(tenant, utcDay));
    try {
      return db.runTransaction(
              tx -> {
                DocumentSnapshot snap = tx.get(ref).get();
                long spent = snap.exists() ? micros(snap.get(SPENT_USD)) : 0;
                Object onRecord = snap.exists() ? snap.get(FieldPath.of(CHARGES, jobId)) : null;
                Object reservedBefore =
                    snap.exists() ? snap.get(FieldPath.of(SETTLEMENTS, jobId, RESERVED_USD)) : null;
                Object settledBefore =
                    snap.exists() ? snap.get(FieldPath.of(SETTLEMENTS, jobId, SETTLED_USD)) : null;
                long recorded = onRecord == null ? 0 : micros(onRecord);
                long reserved = reservedBefore != null ? micros(reservedBefore) : recorded;
                if ((onRecord == null && charge == 0)
                    || (settledBefore != null && onRecord != null && recorded == charge)) {
                  return new SettleResult(
                      false, usd(reserved), usd(charge), usd(spent), usd(spent));
                }
                long after = Math.max(0, spent - recorded + charge);
                tx.set(
                    ref,
                    Map.of(
                        SPENT_USD, usd(after),
                        CHARGES, Map.of(jobId, usd(charge)),
                        SETTLEMENTS,
                            Map.of(
                                jobId,
                                Map.of(RESERVED_USD, usd(reserved), SETTLED_USD, usd(charge))),
                        UPDATED_AT, FieldValue.serverTimestamp()),
                    SetOptions.merge());
                return new SettleResult(true, usd(reserved), usd(charge), usd(spent), usd(after));
              },
              transactionOptions)
          .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LedgerException(settleFailure(tenant, utcDay, jobId, "interrupted"), e);
    } catch (ExecutionException e) {
      throw new LedgerException(
          settleFailure(tenant, utcDay, jobId, String.valueOf(e.getCause())), e.getCause());
    } catch (TimeoutException e) {
      throw new LedgerException(
          settleFailure(tenant, utcDay, jobId, "no answer within " + timeout.toSeconds() + " s"),
          e);
    }
  }

  /**
   * What {@link #settle} did.
   *
   * @param changed whether the ledger was written (false: settled before to this amount, or nothing
   *     on record for a $0 charge)
   * @param reservedUsd what admission reserved for the job ($0 when nothing was on record)
   * @param chargedUsd the charge the job is settled to
   * @param spentBeforeUsd the tenant's spend that day before this call
   * @param spentAfterUsd the spend after it
   */
  public record SettleResult(
      boolean changed,
      double reservedUsd,
      double chargedUsd,
      double spentBeforeUsd,
      double spentAfterUsd) {}

  /**
   * The tenant's spend on {@code utcDay} as recorded now ($0 when nothing was charged).
   *
   * @throws LedgerException when the ledger could not be read
   */
  public double spentUsd(String tenant, LocalDate utcDay) {
    try {
      DocumentSnapshot snap =
          db.document(documentPath(tenant, utcDay))
              .get()
              .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return snap.exists() ? usd(micros(snap.get(SPENT_USD))) : 0;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LedgerException("reading " + documentPath(tenant, utcDay) + " was interrupted", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new LedgerException(
          "reading " + documentPath(tenant, utcDay) + " in " + config + " failed: " + e, e);
    }
  }

  public FirestoreClients config() {
    return config;
  }

  /** Closes the Firestore client. */
  @Override
  public void close() {
    try {
      db.close();
    } catch (Exception e) {
      throw new LedgerException("closing the Firestore client of " + config + " failed", e);
    }
  }

  private String failure(String tenant, LocalDate day, String jobId, String why) {
    return "charging job "
        + jobId
        + " to "
        + documentPath(tenant, day)
        + " in "
        + config
        + " failed ("
        + why
        + "); the job was neither admitted nor refused";
  }

  private String settleFailure(String tenant, LocalDate day, String jobId, String why) {
    return "settling job "
        + jobId
        + " in "
        + documentPath(tenant, day)
        + " of "
        + config
        + " failed ("
        + why
        + "); its reservation stands until a later settlement";
  }

  private static long micros(Object number) {
    if (!(number instanceof Number)) {
      throw new IllegalStateException("the ledger holds a non-number amount: " + number);
    }
    return Money.micros(((Number) number).doubleValue());
  }

  private static double usd(long micros) {
    return micros / 1_000_000d;
  }

  /** The ledger could not be read or written; nothing is known about the charge. */
  public static final class LedgerException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public LedgerException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
