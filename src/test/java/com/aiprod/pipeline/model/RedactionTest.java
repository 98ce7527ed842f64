package com.aiprod.pipeline.model;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;

import java.util.Map;
import org.junit.jupiter.api.Test;

class RedactionTest {
  private static final String JWT =
      "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.eyJzdWIiOiJ1In0.QUJDREVGR0hJSktMTU5PUA";

  @Test
  void authorizationAttributeIsRedactedWhateverItsCase() {
    Map<String, String> out =
        Redaction.redactAttributes(Map.of("Authorization", "Bearer " + JWT, "job_id", "abcdefgh"));
    assertThat(out.get("Authorization"), equalTo(Redaction.REDACTED));
    assertThat(out.get("job_id"), equalTo("abcdefgh"));
  }

  @Test
  void jwtInTextIsMasked() {
    assertThat(Redaction.redactText("token " + JWT + " here"), equalTo("token [REDACTED] here"));
  }

  @Test
  void unsignedJwtIsMasked() {
    String none = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1In0.";
    assertThat(Redaction.redactText("x " + none), not(containsString("eyJzdWIiOiJ1In0")));
  }

  @Test
  void bearerCredentialIsMasked() {
    assertThat(
        Redaction.redactText("Authorization: Bearer opaque-secret-123"),
        not(containsString("opaque-secret-123")));
  }

  @Test
  void authorizationMemberInBrokenJsonIsMasked() {
    String broken =
        "{\"attributes\": {\"authorization\": \"raw-token-value\"}, \"data\": {\"content\": \"cut";
    String out = Redaction.redactText(broken);
    assertThat(out, not(containsString("raw-token-value")));
    assertThat(out, containsString("\"content\""));
  }

  @Test
  void ordinaryTextIsKept() {
    String s = "See docs.example.com for the harbour at dawn.";
    assertThat(Redaction.redactText(s), equalTo(s));
  }
}
