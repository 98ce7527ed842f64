package com.aiprod.pipeline.model;

/** Dead-letter and refusal reason codes (DESIGN §10). */
public enum ReasonCode {
  MALFORMED_JSON,
  SCHEMA_VIOLATION,
  PAYLOAD_TOO_LARGE,
  AUTH_MISSING,
  AUTH_INVALID,
  AUTH_EXPIRED,
  PERMISSION_DENIED,
  BUDGET_EXCEEDED,
  NO_BACKEND_AVAILABLE,
  DUPLICATE_JOB,
  INTERNAL_ERROR,
  /** Not a dead-letter code: the reason of a FAILED job whose shots missed the preset deadline. */
  DEADLINE,
  /** Not a dead-letter code: the reason of a FAILED job some of whose shots no backend rendered. */
  RENDER_FAILED
}
