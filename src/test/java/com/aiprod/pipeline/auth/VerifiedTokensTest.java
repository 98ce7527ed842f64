package com.aiprod.pipeline.auth;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The worker's cache of verified tokens: by hash, bounded, honouring expiry and key rotation. */
class VerifiedTokensTest {
  private static final String PROJECT = AuthConfig.DEV_DEFAULT_PROJECT;

  @TempDir Path keyDir;

  @Test
  void aTokenSeenAgainIsServedUntilItExpiresByTheVerifiersClock() throws IOException {
    DevTokens tokens = new DevTokens(DevAuthKeys.loadOrCreate(keyDir), PROJECT);
    AuthConfig config = AuthConfig.dev(PROJECT, keyDir.toString());
    String token = tokens.mint("alice", "acme", "user", "pro", Duration.ofMinutes(10));
    String key = VerifiedTokens.keyOf(token);
    try (TokenVerifier verifier = TokenVerifier.create(config)) {
      assertThat(VerifiedTokens.perWorker(config).get(key), nullValue());
      AuthResult first = verifier.verify("Bearer " + token);
      assertThat(first.toString(), first.isOk(), is(true));
      assertThat(VerifiedTokens.perWorker(config).get(key), notNullValue());
      assertThat(verifier.verify("Bearer " + token).principal(), equalTo(first.principal()));
    }
    // Another verifier of this worker with the same configuration shares the verdict, but judges
    // the token's times with its own clock: half an hour later (beyond the skew) it has expired.
    Clock later = Clock.offset(Clock.systemUTC(), Duration.ofMinutes(30));
    try (TokenVerifier lateVerifier = TokenVerifier.create(config, later)) {
      assertThat(lateVerifier.verify("Bearer " + token).reasonCode(), equalTo("AUTH_EXPIRED"));
    }
    assertThat(VerifiedTokens.perWorker(config).get(key), nullValue());
  }

  @Test
  void aKeyRotatedOutEndsTheCachedVerdict() throws IOException {
    DevTokens tokens = new DevTokens(DevAuthKeys.loadOrCreate(keyDir), PROJECT);
    AuthConfig config = AuthConfig.dev(PROJECT, keyDir.toString());
    String token = tokens.mint("bob", "acme", "user", "pro", Duration.ofMinutes(10));
    try (TokenVerifier verifier = TokenVerifier.create(config)) {
      assertThat(verifier.verify("Bearer " + token).isOk(), is(true));
    }
    // The key directory gets a new key pair (new kid): the old key is gone from the document.
    try (var files = Files.list(keyDir)) {
      for (Path f : files.toList()) {
        Files.delete(f);
      }
    }
    DevAuthKeys.loadOrCreate(keyDir);
    try (TokenVerifier verifier = TokenVerifier.create(config)) {
      AuthResult result = verifier.verify("Bearer " + token);
      assertThat(result.toString(), result.isOk(), is(false));
      assertThat(result.forged(), is(true));
    }
    assertThat(VerifiedTokens.perWorker(config).get(VerifiedTokens.keyOf(token)), nullValue());
  }

  @Test
  void anotherConfigurationNeverSharesAVerdict() throws IOException {
    DevTokens tokens = new DevTokens(DevAuthKeys.loadOrCreate(keyDir), PROJECT);
    String token = tokens.mint("carol", "acme", "user", "pro", Duration.ofMinutes(10));
    try (TokenVerifier verifier =
        TokenVerifier.create(AuthConfig.dev(PROJECT, keyDir.toString()))) {
      assertThat(verifier.verify("Bearer " + token).isOk(), is(true));
    }
    try (TokenVerifier other =
        TokenVerifier.create(AuthConfig.dev("another-project", keyDir.toString()))) {
      AuthResult result = other.verify("Bearer " + token);
      assertThat(result.isOk(), is(false));
      assertThat(result.message(), containsString("another Firebase project"));
    }
  }

  @Test
  void keysAreHashesAndTheCacheIsBounded() throws Exception {
    String token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
    String key = VerifiedTokens.keyOf(token);
    assertThat(key.length(), equalTo(64));
    assertThat(key, not(containsString("eyJ")));
    assertThat(key, equalTo(VerifiedTokens.keyOf(token)));

    VerifiedTokens cache =
        VerifiedTokens.perWorker(AuthConfig.dev("bounded-" + System.nanoTime(), keyDir.toString()));
    var publicKey = KeyPairGenerator.getInstance("RSA").generateKeyPair().getPublic();
    AuthResult ok =
        AuthResult.ok(com.aiprod.pipeline.model.Principal.create("u", "t", "user", "pro"));
    for (int i = 0; i <= VerifiedTokens.MAX_ENTRIES; i++) {
      cache.put(
          VerifiedTokens.keyOf("token-" + i),
          new VerifiedTokens.Verified(ok, "k", publicKey, 0, 0, 0));
    }
    assertThat(cache.size(), equalTo(VerifiedTokens.MAX_ENTRIES));
    assertThat(
        "least recently used first out", cache.get(VerifiedTokens.keyOf("token-0")), nullValue());
  }
}
