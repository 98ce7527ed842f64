package com.aiprod.pipeline.catalog;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Locale;

/**
 * US-dollar arithmetic shared by pricing, admission and decision rules.
 *
 * <p>Amounts are doubles in the value types (JSON and BigQuery use FLOAT64), but every comparison
 * and every stored estimate is rounded to whole micro-dollars first, so that {@code 0.15 × 32} is
 * exactly {@code 4.80} and {@code 1.2 × 1.50} is exactly {@code 1.80}: floating-point noise never
 * flips a budget decision at its boundary. Micro-dollars are also the unit of the {@code
 * job_cost_micros} distribution (DESIGN §12).
 */
public final class Money {
  private Money() {}

  /** {@code usd} in whole micro-dollars, rounded half-up. */
  public static long micros(double usd) {
    return Math.round(usd * 1_000_000d);
  }

  /** {@code usd} rounded to whole micro-dollars. */
  public static double roundMicros(double usd) {
    return micros(usd) / 1_000_000d;
  }

  /** {@code a > b} compared in whole micro-dollars. */
  public static boolean exceeds(double a, double b) {
    return micros(a) > micros(b);
  }

  /**
   * {@code $1.50}, {@code $10,000.00}: two decimals with thousands separators, or up to six when
   * the amount is not a whole number of cents (so a message never says {@code $0.00 > $0.00}).
   */
  public static String format(double usd) {
    if (micros(usd) < 0) {
      return "-" + format(-usd);
    }
    BigDecimal d = BigDecimal.valueOf(micros(usd), 6);
    BigDecimal cents = d.setScale(2, RoundingMode.HALF_UP);
    if (cents.compareTo(d) == 0) {
      return String.format(Locale.ROOT, "$%,.2f", cents);
    }
    return "$" + d.stripTrailingZeros().toPlainString();
  }

  /** A plain decimal of at most four places, trailing zeros removed (scores, thresholds). */
  public static String decimal(double x) {
    if (Double.isNaN(x) || Double.isInfinite(x)) {
      return String.valueOf(x);
    }
    BigDecimal d = BigDecimal.valueOf(x).setScale(4, RoundingMode.HALF_UP).stripTrailingZeros();
    return d.toPlainString();
  }
}
