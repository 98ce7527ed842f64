package com.aiprod.pipeline.render;

import java.io.Serializable;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Timing rules of asynchronous rendering (DESIGN §5, §6): how soon and how often a generation is
 * polled, how failed calls are retried, how long one attempt may run, and the circuit breaker's
 * thresholds.
 *
 * @param firstPollMillis delay between a submit and its first poll
 * @param maxPollMillis polls slow down by {@code pollGrowth} up to this interval
 * @param pollGrowth factor between consecutive poll intervals (≥ 1)
 * @param retryBaseMillis base of the exponential backoff of a retryable failure
 * @param retryMaxMillis cap of one backoff (Retry-After may ask for longer; it is honoured up to
 *     {@code attemptTimeoutMillis})
 * @param maxRetries retryable failures in a row one attempt survives before it falls back
 * @param attemptTimeoutMillis how long one attempt (submit to output) may take before it is
 *     cancelled and the shot falls back
 * @param breakerFailures failures of one backend within {@code breakerWindowMillis} that open its
 *     circuit
 * @param breakerWindowMillis the breaker's counting window
 * @param breakerOpenMillis how long an open circuit skips its backend
 */
public record RenderPolicy(
    long firstPollMillis,
    long maxPollMillis,
    double pollGrowth,
    long retryBaseMillis,
    long retryMaxMillis,
    int maxRetries,
    long attemptTimeoutMillis,
    int breakerFailures,
    long breakerWindowMillis,
    long breakerOpenMillis)
    implements Serializable {
  private static final long serialVersionUID = 1L;

  /**
   * Production timings: first poll after 5 s, then ×1.5 up to 30 s; backoff 2 s × 2^n with full
   * jitter up to 60 s, 4 retries; 20 minutes per attempt; breaker: 5 failures in 60 s open the
   * circuit for 60 s (DESIGN §5).
   */
  public static RenderPolicy standard() {
    return new RenderPolicy(5_000, 30_000, 1.5, 2_000, 60_000, 4, 20 * 60_000L, 5, 60_000, 60_000);
  }

  /** The same rules on a faster clock (tests against loopback providers). */
  public static RenderPolicy fast() {
    return new RenderPolicy(50, 400, 1.5, 20, 200, 3, 20_000, 5, 60_000, 60_000);
  }

  public RenderPolicy withBreakerOpenMillis(long millis) {
    return new RenderPolicy(
        firstPollMillis,
        maxPollMillis,
        pollGrowth,
        retryBaseMillis,
        retryMaxMillis,
        maxRetries,
        attemptTimeoutMillis,
        breakerFailures,
        breakerWindowMillis,
        millis);
  }

  public RenderPolicy withAttemptTimeoutMillis(long millis) {
    return new RenderPolicy(
        firstPollMillis,
        maxPollMillis,
        pollGrowth,
        retryBaseMillis,
        retryMaxMillis,
        maxRetries,
        millis,
        breakerFailures,
        breakerWindowMillis,
        breakerOpenMillis);
  }

  /** The poll interval after {@code previous} (0: the first poll). */
  public long nextPollDelay(long previous) {
    if (previous <= 0) {
      return firstPollMillis;
    }
    return Math.min(maxPollMillis, (long) Math.ceil(previous * pollGrowth));
  }

  /**
   * Backoff before retry number {@code retry} (1-based): full jitter over {@code base ×
   * 2^(retry-1)} capped at {@code retryMaxMillis}, and never less than the provider's Retry-After.
   */
  public long backoff(int retry, Long retryAfterMillis) {
    long ceiling =
        Math.min(retryMaxMillis, retryBaseMillis << Math.min(20, Math.max(0, retry - 1)));
    long jittered = ThreadLocalRandom.current().nextLong(ceiling / 2, ceiling + 1);
    return retryAfterMillis == null ? jittered : Math.max(jittered, retryAfterMillis);
  }
}
