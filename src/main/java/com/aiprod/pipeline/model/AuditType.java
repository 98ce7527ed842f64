package com.aiprod.pipeline.model;

/** The audit event types of DESIGN §9; the name is the {@code event_type} column's value. */
public enum AuditType {
  API_CALL,
  AUTH_SUCCESS,
  AUTH_FAILURE,
  PERMISSION_DENIED,
  DATA_ACCESS,
  CONFIG_CHANGE,
  SECRET_ACCESS,
  ADMIN_ACTION,
  ERROR,
  SECURITY_ALERT
}
