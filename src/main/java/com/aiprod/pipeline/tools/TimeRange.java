package com.aiprod.pipeline.tools;

import java.io.Serializable;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import javax.annotation.Nullable;

/**
 * {@code [--since, --until)} of the warehouse-reading tools, in epoch millis; either end open.
 *
 * @param since inclusive start, or null
 * @param until exclusive end, or null
 */
record TimeRange(@Nullable Long since, @Nullable Long until) implements Serializable {
  static final TimeRange ALL = new TimeRange(null, null);

  /**
   * The range of {@code --since}/{@code --until} (ISO-8601 instants such as {@code
   * 2026-11-24T10:00:00Z}, or dates, meaning their start in UTC).
   *
   * @throws IllegalArgumentException saying which value is wrong and what is expected
   */
  static TimeRange parse(@Nullable String since, @Nullable String until) {
    Long from = since == null ? null : millis("--since", since);
    Long to = until == null ? null : millis("--until", until);
    if (from != null && to != null && from >= to) {
      throw new IllegalArgumentException("--since must be before --until");
    }
    return new TimeRange(from, to);
  }

  boolean contains(long millis) {
    return (since == null || millis >= since) && (until == null || millis < until);
  }

  boolean isAll() {
    return since == null && until == null;
  }

  /** This range widened by {@code beforeMillis} at its start (an open start stays open). */
  TimeRange widenedBefore(long beforeMillis) {
    return new TimeRange(since == null ? null : since - beforeMillis, until);
  }

  /** Epoch millis of an ISO-8601 instant, offset date-time, or date (its start in UTC). */
  static long instant(String text) {
    String s = text.trim();
    if (s.matches("\\d{4}-\\d{2}-\\d{2}")) {
      return LocalDate.parse(s).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
    }
    try {
      return OffsetDateTime.parse(s).toInstant().toEpochMilli();
    } catch (DateTimeParseException e) {
      return Instant.parse(s).toEpochMilli();
    }
  }

  private static long millis(String option, String text) {
    try {
      return instant(text);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(
          option
              + ": '"
              + text
              + "' is not an ISO-8601 instant or date (e.g. 2026-11-24T10:00:00Z, 2026-11-24)");
    }
  }
}
