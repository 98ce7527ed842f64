package com.aiprod.pipeline.catalog;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.aiprod.pipeline.kernel.Refusal;
import com.aiprod.pipeline.model.JobRequest;
import com.aiprod.pipeline.model.ReasonCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class AdmissionRulesTest {
  private static JobRequest req(String preset, String mode, int duration) {
    return JobRequest.builder()
        .setContent("A red kite flies over the hills.")
        .setPreset(preset)
        .setMode(mode)
        .setPriority("low")
        .setDurationSec(duration)
        .setBudgetUsd(1.5)
        .build();
  }

  private static void assertDenied(Refusal r, String... fragments) {
    assertThat(r, notNullValue());
    assertThat(r.code(), equalTo(ReasonCode.PERMISSION_DENIED));
    for (String f : fragments) {
      assertThat(r.message(), containsString(f));
    }
  }

  @Test
  void viewerMayNotSubmit() {
    assertDenied(
        AdmissionRules.check("viewer", "enterprise", req("quick_social", "preview", 10)),
        "role viewer may not submit",
        "user role");
  }

  @Test
  void unknownRoleOrPlanIsDenied() {
    assertDenied(
        AdmissionRules.check("owner", "pro", req("quick_social", "final", 10)), "role owner");
    assertDenied(
        AdmissionRules.check("user", "gold", req("quick_social", "final", 10)),
        "plan gold is unknown");
  }

  @Test
  void missingRoleOrPlanIsDenied() {
    assertDenied(AdmissionRules.check(null, "pro", req("quick_social", "final", 10)), "role");
    assertDenied(AdmissionRules.check("user", null, req("quick_social", "final", 10)), "plan");
  }

  @ParameterizedTest
  @ValueSource(strings = {"user", "service", "admin"})
  void submittingRolesAreAdmitted(String role) {
    assertThat(AdmissionRules.check(role, "pro", req("premium_spot", "final", 180)), nullValue());
    assertThat(AdmissionRules.check(role, "free", req("quick_social", "final", 30)), nullValue());
  }

  @ParameterizedTest
  @CsvSource({"brand_campaign,final", "premium_spot,preview", "brand_campaign,estimate"})
  void freePlanIsQuickSocialOnly(String preset, String mode) {
    assertDenied(
        AdmissionRules.check("user", "free", req(preset, mode, 20)),
        "plan free allows preset quick_social only",
        "upgrade to pro");
  }

  @Test
  void freePlanFinalsAndEstimatesUpTo30Seconds() {
    // quick_social's own maximum is 30 s, so this guards the rule should presets change.
    assertThat(AdmissionRules.check("user", "free", req("quick_social", "final", 30)), nullValue());
    assertThat(
        AdmissionRules.check("user", "free", req("quick_social", "estimate", 30)), nullValue());
    assertDenied(
        AdmissionRules.check("user", "free", req("quick_social", "final", 31)),
        "up to 30 s",
        "mode=preview");
    assertDenied(
        AdmissionRules.check("user", "free", req("quick_social", "estimate", 31)),
        "mode=estimate up to 30 s");
    assertThat(
        AdmissionRules.check("user", "free", req("quick_social", "preview", 31)), nullValue());
  }

  @ParameterizedTest
  @ValueSource(strings = {"pro", "enterprise"})
  void paidPlansUseEveryPreset(String plan) {
    assertThat(
        AdmissionRules.check("user", plan, req("brand_campaign", "final", 120)), nullValue());
    assertThat(
        AdmissionRules.check("service", plan, req("premium_spot", "estimate", 180)), nullValue());
  }

  @Test
  void dailyCaps() {
    assertThat(AdmissionRules.dailyCapUsd("free"), equalTo(5.0));
    assertThat(AdmissionRules.dailyCapUsd("pro"), equalTo(500.0));
    assertThat(AdmissionRules.dailyCapUsd("enterprise"), equalTo(10_000.0));
    assertThrows(IllegalArgumentException.class, () -> AdmissionRules.dailyCapUsd("gold"));
  }

  @Test
  void budgetCapBoundaries() {
    assertThat(AdmissionRules.checkBudget("free", 3.5, 1.5), nullValue());
    assertThat(AdmissionRules.checkBudget("free", 0, 5.0), nullValue());
    Refusal r = AdmissionRules.checkBudget("free", 3.51, 1.5);
    assertThat(r, notNullValue());
    assertThat(r.code(), equalTo(ReasonCode.BUDGET_EXCEEDED));
    assertThat(
        r.message(),
        allOf(
            containsString("$5.01"),
            containsString("$5.00"),
            containsString("plan free"),
            containsString("00:00 UTC"),
            containsString("upgrade to pro")));
    assertThat(AdmissionRules.checkBudget("pro", 499.99, 0.01), nullValue());
    assertThat(
        AdmissionRules.checkBudget("pro", 499.99, 0.02).code(),
        equalTo(ReasonCode.BUDGET_EXCEEDED));
    assertThat(AdmissionRules.checkBudget("enterprise", 9_000, 1_000), nullValue());
    Refusal enterprise = AdmissionRules.checkBudget("enterprise", 9_000.01, 1_000);
    assertThat(
        enterprise.message(),
        allOf(
            containsString("cap of $10,000.00"),
            containsString("wait for the next UTC day"),
            not(containsString("upgrade"))));
    assertThat(
        AdmissionRules.checkBudget("pro", 500, 1).message(),
        containsString("upgrade to enterprise"));
  }

  @Test
  void budgetCapIgnoresFloatingPointNoise() {
    // 0.1 + 0.2 + 4.7 is 5.000000000000001 in doubles.
    assertThat(AdmissionRules.checkBudget("free", 0.1 + 0.2, 4.7), nullValue());
  }

  @Test
  void freeJobsNeverCrossTheCap() {
    assertThat(AdmissionRules.checkBudget("free", 7.0, 0.0), nullValue());
  }

  @Test
  void badAmountsAreProgrammingErrors() {
    assertThrows(IllegalArgumentException.class, () -> AdmissionRules.checkBudget("free", -1, 1));
    assertThrows(
        IllegalArgumentException.class, () -> AdmissionRules.checkBudget("free", 0, Double.NaN));
  }

  @Test
  void ownerMayCancel() {
    assertThat(AdmissionRules.mayCancel("u1", "user", "t1", "u1", "t1"), is(true));
    assertThat(AdmissionRules.mayCancel("u1", "viewer", "t1", "u1", "t1"), is(true));
  }

  @Test
  void adminOfTheSameTenantMayCancel() {
    assertThat(AdmissionRules.mayCancel("boss", "admin", "t1", "u1", "t1"), is(true));
    assertThat(AdmissionRules.mayCancel("boss", "admin", "t2", "u1", "t1"), is(false));
  }

  @Test
  void othersMayNotCancel() {
    assertThat(AdmissionRules.mayCancel("u2", "user", "t1", "u1", "t1"), is(false));
    assertThat(AdmissionRules.mayCancel("u2", "service", "t1", "u1", "t1"), is(false));
    // Same uid, other tenant: not the owner of this job.
    assertThat(AdmissionRules.mayCancel("u1", "user", "t2", "u1", "t1"), is(false));
    assertThat(AdmissionRules.mayCancel(null, "admin", "t1", "u1", "t1"), is(false));
  }
}
