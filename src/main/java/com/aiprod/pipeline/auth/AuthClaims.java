package com.aiprod.pipeline.auth;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The custom claims of a Firebase ID token that AIPROD reads (DESIGN §3) and their allowed values.
 */
public final class AuthClaims {
  /** Custom claim naming the tenant; defaults to the uid. */
  public static final String TENANT = "tenant";

  /** Custom claim naming the role; defaults to {@value #DEFAULT_ROLE}. */
  public static final String ROLE = "role";

  /** Custom claim naming the plan; defaults to {@value #DEFAULT_PLAN}. */
  public static final String PLAN = "plan";

  /** Tenants name storage paths, so they are restricted to this pattern. */
  public static final Pattern TENANT_PATTERN = Pattern.compile("[A-Za-z0-9_-]{1,64}");

  /** Allowed roles, least privileged first. */
  public static final List<String> ROLES = List.of("viewer", "user", "service", "admin");

  /** Allowed plans. */
  public static final List<String> PLANS = List.of("free", "pro", "enterprise");

  public static final String DEFAULT_ROLE = "viewer";
  public static final String DEFAULT_PLAN = "free";

  /** Longest accepted {@code sub} (Firebase uids are at most 128 characters). */
  public static final int MAX_UID_LENGTH = 128;

  private AuthClaims() {}

  public static boolean isValidTenant(String tenant) {
    return tenant != null && TENANT_PATTERN.matcher(tenant).matches();
  }

  public static boolean isValidRole(String role) {
    return ROLES.contains(role);
  }

  public static boolean isValidPlan(String plan) {
    return PLANS.contains(plan);
  }

  public static boolean isValidUid(String uid) {
    return uid != null && !uid.isEmpty() && uid.length() <= MAX_UID_LENGTH;
  }
}
