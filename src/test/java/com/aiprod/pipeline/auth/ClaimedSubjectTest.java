package com.aiprod.pipeline.auth;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class ClaimedSubjectTest {
  private static String token(String claimsJson) {
    Base64.Encoder b = Base64.getUrlEncoder().withoutPadding();
    return b.encodeToString("{\"alg\":\"none\"}".getBytes(StandardCharsets.UTF_8))
        + "."
        + b.encodeToString(claimsJson.getBytes(StandardCharsets.UTF_8))
        + ".";
  }

  @Test
  void readsThePlainSubject() {
    assertThat(ClaimedSubject.of("Bearer " + token("{\"sub\":\"mallory\"}")), equalTo("mallory"));
  }

  @Test
  void refusesAnythingThatIsNotAPlainIdentifier() {
    assertThat(ClaimedSubject.of("Bearer " + token("{\"sub\":\"a b\\n<script>\"}")), nullValue());
    assertThat(ClaimedSubject.of("Bearer " + token("{\"sub\":12}")), nullValue());
    assertThat(ClaimedSubject.of("Bearer garbage"), nullValue());
    assertThat(ClaimedSubject.of(null), nullValue());
  }
}
