package com.aiprod.pipeline.catalog;

import com.aiprod.pipeline.kernel.Refusal;
import com.aiprod.pipeline.model.JobRequest;
import com.aiprod.pipeline.model.Preset;
import com.aiprod.pipeline.model.ReasonCode;
import java.util.List;
import javax.annotation.Nullable;

/**
 * Who may do what (DESIGN §3): role and plan rules for submitting, the per-tenant daily spend cap,
 * and who may cancel.
 *
 * <p>Decisions where DESIGN is silent:
 *
 * <ul>
 *   <li>Roles {@code user}, {@code service} and {@code admin} may submit; {@code viewer} and any
 *       unknown role may not. Unknown plans are refused too (the authenticator only produces the
 *       three known ones, so this is a safety net, never a silent upgrade).
 *   <li>{@code free} may use preset {@code quick_social} only, in every mode. {@code mode=preview}
 *       is always allowed within that preset; {@code mode=final} and {@code mode=estimate} are
 *       allowed up to 30 s. An estimate follows the final's rules because it quotes exactly the
 *       final the user could then submit; quoting a job the plan may not run would mislead.
 *   <li>The daily cap is compared in whole micro-dollars and a job is refused only when spent +
 *       estimate is strictly greater than the cap (reaching it exactly is allowed). A job estimated
 *       at $0 (a preview) never crosses the cap, even when the tenant is already at it. Estimates
 *       spend nothing: callers do not call {@link #checkBudget} for {@code mode=estimate}.
 *   <li>Cancel: the owner (same uid and same tenant) or an {@code admin} of the job's tenant;
 *       nobody across tenants, not even an admin of another tenant.
 * </ul>
 */
public final class AdmissionRules {
  /** Roles that may submit jobs. */
  public static final List<String> SUBMIT_ROLES = List.of("user", "service", "admin");

  public static final List<String> PLANS = List.of("free", "pro", "enterprise");

  /** Longest final (or estimate) a {@code free} plan may request. */
  public static final int FREE_MAX_FINAL_SEC = 30;

  private AdmissionRules() {}

  /**
   * Role and plan rules for submitting {@code req}.
   *
   * @return null when admitted, else a {@link ReasonCode#PERMISSION_DENIED} refusal
   */
  public static @Nullable Refusal check(String role, String plan, JobRequest req) {
    if (role == null || plan == null) {
      return denied("the token carries no " + (role == null ? "role" : "plan") + "; sign in again");
    }
    if (!SUBMIT_ROLES.contains(role)) {
      return denied(
          "viewer".equals(role)
              ? "role viewer may not submit jobs; ask a tenant admin for the user role"
              : "role "
                  + role
                  + " may not submit jobs; submitting needs role user, service or admin");
    }
    if (!PLANS.contains(plan)) {
      return denied("plan " + plan + " is unknown; expected free, pro or enterprise");
    }
    if (plan.equals("free")) {
      if (!Preset.QUICK_SOCIAL.id().equals(req.getPreset())) {
        return denied(
            "plan free allows preset quick_social only, not "
                + req.getPreset()
                + "; use preset quick_social or upgrade to pro");
      }
      if (!"preview".equals(req.getMode()) && req.getDurationSec() > FREE_MAX_FINAL_SEC) {
        return denied(
            "plan free allows mode="
                + req.getMode()
                + " up to "
                + FREE_MAX_FINAL_SEC
                + " s, not "
                + req.getDurationSec()
                + " s; use duration_sec ≤ "
                + FREE_MAX_FINAL_SEC
                + ", mode=preview, or upgrade to pro");
      }
    }
    return null;
  }

  /**
   * Daily spend cap per tenant (UTC day) in US dollars: free 5, pro 500, enterprise 10,000.
   *
   * @throws IllegalArgumentException for an unknown plan
   */
  public static double dailyCapUsd(String plan) {
    switch (plan) {
      case "free":
        return 5.0;
      case "pro":
        return 500.0;
      case "enterprise":
        return 10_000.0;
      default:
        throw new IllegalArgumentException("unknown plan " + plan + "; expected " + PLANS);
    }
  }

  /**
   * The daily cap rule: refuses a job whose estimate would take the tenant's spend today past its
   * plan's cap.
   *
   * @param spentTodayUsd what the tenant's jobs already committed this UTC day
   * @param estimateUsd this job's estimate
   * @return null when within the cap, else a {@link ReasonCode#BUDGET_EXCEEDED} refusal
   * @throws IllegalArgumentException for an unknown plan or a negative or non-finite amount
   */
  public static @Nullable Refusal checkBudget(
      String plan, double spentTodayUsd, double estimateUsd) {
    double cap = dailyCapUsd(plan);
    if (!Double.isFinite(spentTodayUsd)
        || spentTodayUsd < 0
        || !Double.isFinite(estimateUsd)
        || estimateUsd < 0) {
      throw new IllegalArgumentException(
          "amounts must be finite and ≥ 0, got spent "
              + spentTodayUsd
              + ", estimate "
              + estimateUsd);
    }
    if (Money.micros(estimateUsd) == 0) {
      return null;
    }
    long total = Money.micros(spentTodayUsd) + Money.micros(estimateUsd);
    if (total <= Money.micros(cap)) {
      return null;
    }
    double left = Math.max(0, cap - spentTodayUsd);
    return new Refusal(
        ReasonCode.BUDGET_EXCEEDED,
        "this job's estimate "
            + Money.format(estimateUsd)
            + " would take today's spend to "
            + Money.format(total / 1_000_000d)
            + ", over plan "
            + plan
            + "'s daily cap of "
            + Money.format(cap)
            + " ("
            + Money.format(left)
            + " left until 00:00 UTC); shorten"
            + " duration_sec, choose a cheaper preset"
            + (plan.equals("enterprise")
                ? " or wait for the next UTC day"
                : ", wait for the next UTC day or upgrade to "
                    + (plan.equals("free") ? "pro" : "enterprise")));
  }

  /**
   * Whether a requester may cancel a job: its owner, or an admin of the job's tenant.
   *
   * @param requesterUid uid of the principal asking
   * @param requesterRole its role
   * @param requesterTenant its tenant
   * @param ownerUid uid that submitted the job
   * @param jobTenant tenant of the job
   */
  public static boolean mayCancel(
      String requesterUid,
      String requesterRole,
      String requesterTenant,
      String ownerUid,
      String jobTenant) {
    if (requesterUid == null
        || requesterTenant == null
        || jobTenant == null
        || !requesterTenant.equals(jobTenant)) {
      return false;
    }
    return requesterUid.equals(ownerUid) || "admin".equals(requesterRole);
  }

  private static Refusal denied(String message) {
    return new Refusal(ReasonCode.PERMISSION_DENIED, message);
  }
}
