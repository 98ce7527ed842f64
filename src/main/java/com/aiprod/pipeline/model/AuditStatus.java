package com.aiprod.pipeline.model;

import java.util.Locale;

/** The {@code status} of an audit event (DESIGN §9), written in lower case. */
public enum AuditStatus {
  SUCCESS,
  FAILURE,
  DENIED,
  ALERT,
  ERROR,
  /** A DATA_ACCESS check found another message's job_id (a DUPLICATE_JOB). */
  DUPLICATE,
  /** A DATA_ACCESS check found the message's own job already ended. */
  REDELIVERED;

  /** The column's value: {@code success}, {@code failure}, ... */
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }
}
