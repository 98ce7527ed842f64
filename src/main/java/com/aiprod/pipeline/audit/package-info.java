/**
 * Audit stage steps: signing every audit event (HMAC, secret {@code audit-hmac-key}) before the
 * warehouse, and the burst detector of authentication failures.
 */
package com.aiprod.pipeline.audit;
