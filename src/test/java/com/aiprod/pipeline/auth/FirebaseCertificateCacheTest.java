package com.aiprod.pipeline.auth;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Firebase mode's certificate cache at the wire level, driven by an injected clock: Cache-Control
 * max-age (and Age), key rotation, unknown key ids, and a failing certificate endpoint. Every count
 * is of requests that reached the loopback server.
 */
class FirebaseCertificateCacheTest {
  private static final String PROJECT = "aiprod-prod";

  private final MutableClock clock = new MutableClock();
  private TestSigningKey k1;
  private TestSigningKey k2;
  private LoopbackCertificateServer server;
  private TokenVerifier verifier;

  @BeforeEach
  void start() throws IOException {
    k1 = TestSigningKey.generate();
    k2 = TestSigningKey.generate();
    server = LoopbackCertificateServer.start(k1).maxAge(600);
    verifier =
        TokenVerifier.create(AuthConfig.firebase(PROJECT).withCertificateUrl(server.url()), clock);
  }

  @AfterEach
  void stop() {
    verifier.close();
    server.close();
  }

  private AuthResult verify(TestSigningKey key, String uid) {
    return verifier.verify("Bearer " + key.mint(PROJECT, uid));
  }

  private void assertAccepted(TestSigningKey key, String uid) {
    AuthResult result = verify(key, uid);
    assertThat(result.toString(), result.isOk(), is(true));
    assertThat(result.principal().getUid(), equalTo(uid));
  }

  private void assertUnknownKid(TestSigningKey key) {
    AuthResult result = verify(key, "alice");
    assertThat(result.toString(), result.reasonCode(), equalTo("AUTH_INVALID"));
    assertThat(result.message(), equalTo(TokenVerifier.MSG_UNKNOWN_KID));
    assertThat(result.forged(), is(true));
  }

  private void advance(long seconds) {
    clock.advance(Duration.ofSeconds(seconds));
  }

  @Test
  void nothingIsFetchedBeforeTheFirstToken() {
    assertThat(server.hits(), equalTo(0));
    assertAccepted(k1, "alice");
    assertThat(server.hits(), equalTo(1));
  }

  @Test
  void cacheHonoursMaxAge() {
    for (int i = 0; i < 25; i++) {
      assertAccepted(k1, "user" + i);
    }
    assertThat(server.hits(), equalTo(1));
    // Refreshed in the last min(300 s, max-age / 2) of the 600 s: fresh until 300 s.
    advance(299);
    assertAccepted(k1, "alice");
    assertThat(server.hits(), equalTo(1));
    advance(2);
    assertAccepted(k1, "alice");
    assertThat(server.hits(), equalTo(2));
    for (int i = 0; i < 25; i++) {
      assertAccepted(k1, "user" + i);
    }
    assertThat(server.hits(), equalTo(2));

    // The next document says max-age=60: fresh for 30 s (half of it), then fetched again.
    server.maxAge(60);
    advance(600);
    assertAccepted(k1, "alice");
    assertThat(server.hits(), equalTo(3));
    advance(29);
    assertAccepted(k1, "alice");
    assertThat(server.hits(), equalTo(3));
    advance(2);
    assertAccepted(k1, "alice");
    assertThat(server.hits(), equalTo(4));
  }

  @Test
  void ageHeaderShortensTheLifetime() {
    server.maxAge(600).age(500L); // a proxy held it for 500 s: 100 s left, refreshed after 50 s
    assertAccepted(k1, "alice");
    advance(49);
    assertAccepted(k1, "alice");
    assertThat(server.hits(), equalTo(1));
    advance(2);
    assertAccepted(k1, "alice");
    assertThat(server.hits(), equalTo(2));
  }

  @Test
  void aDocumentWithoutMaxAgeIsStillKeptAMinute() {
    for (long maxAge : new long[] {-1, 0, 5}) { // no Cache-Control, max-age=0, max-age=5
      server.maxAge(maxAge);
      int before = server.hits();
      advance(61);
      for (int i = 0; i < 20; i++) {
        assertAccepted(k1, "user" + i);
      }
      advance(29);
      assertAccepted(k1, "alice");
      assertThat("max-age " + maxAge, server.hits(), equalTo(before + 1));
      advance(2); // refreshed in the last half of the 60 s
      assertAccepted(k1, "alice");
      assertThat("max-age " + maxAge, server.hits(), equalTo(before + 2));
    }
  }

  @Test
  void theVerifiersOfOneWorkerShareOneCache() throws IOException {
    assertAccepted(k1, "alice");
    try (TokenVerifier second =
            TokenVerifier.create(
                AuthConfig.firebase(PROJECT).withCertificateUrl(server.url()), clock);
        TokenVerifier third =
            TokenVerifier.create(
                AuthConfig.firebase(PROJECT).withCertificateUrl(server.url()), clock)) {
      for (TokenVerifier v : List.of(second, third)) {
        assertThat(v.verify("Bearer " + k1.mint(PROJECT, "bob")).isOk(), is(true));
      }
      assertThat(server.hits(), equalTo(1));
      // The unknown-kid bound holds for the worker, not per verifier.
      server.serve(k1, k2);
      advance(61);
      for (TokenVerifier v : List.of(verifier, second, third)) {
        AuthResult result = v.verify("Bearer " + k2.mint(PROJECT, "carol"));
        assertThat(result.toString(), result.isOk(), is(true));
      }
      TestSigningKey stranger = TestSigningKey.generate();
      for (TokenVerifier v : List.of(verifier, second, third)) {
        assertThat(
            v.verify("Bearer " + stranger.mint(PROJECT, "mallory")).reasonCode(),
            equalTo("AUTH_INVALID"));
      }
      assertThat(server.hits(), equalTo(2));
    }
    // Closing other verifiers leaves this one working.
    assertAccepted(k2, "carol");
  }

  @Test
  void rotationAtExpiry() {
    assertAccepted(k1, "alice");
    // Google publishes the next key ahead of using it, then drops the old one.
    server.serve(k1, k2);
    advance(301);
    assertAccepted(k2, "bob");
    assertAccepted(k1, "alice");
    assertThat(server.hits(), equalTo(2));

    server.serve(k2);
    advance(301);
    assertAccepted(k2, "bob");
    assertThat(server.hits(), equalTo(3));
    assertUnknownKid(k1);
    assertThat(server.hits(), equalTo(3)); // refetched 0 s ago: not again
    for (int i = 0; i < 50; i++) {
      assertUnknownKid(k1);
      assertAccepted(k2, "user" + i);
    }
    assertThat(server.hits(), equalTo(3));
  }

  @Test
  void aKeyPublishedSinceTheLastFetchIsFetchedOnDemandAtMostOncePerMinute() {
    assertAccepted(k1, "alice");
    assertThat(server.hits(), equalTo(1));
    server.serve(k2); // k1 dropped and k2 introduced before the cached document (600 s) is due

    // Within a minute of the last fetch an unknown kid does not refetch: one fetch per minute at
    // most, however many tokens name unknown key ids.
    advance(30);
    assertUnknownKid(k2);
    assertThat(server.hits(), equalTo(1));
    assertAccepted(k1, "alice"); // the cached document still holds k1

    advance(31);
    assertAccepted(k2, "bob"); // refetched on demand, and firebase-admin agrees
    assertThat(server.hits(), equalTo(2));
    assertUnknownKid(k1); // dropped by the server: rejected as AUTH_INVALID from now on
    TestSigningKey stranger = TestSigningKey.generate();
    for (int i = 0; i < 100; i++) {
      assertUnknownKid(stranger);
      assertUnknownKid(k1);
    }
    assertThat(server.hits(), equalTo(2));
    advance(61);
    for (int i = 0; i < 100; i++) {
      assertUnknownKid(stranger);
    }
    assertThat(server.hits(), equalTo(3));
    assertAccepted(k2, "bob");
    assertThat(server.hits(), equalTo(3));
  }

  @Test
  void unavailableEndpointIsNotBlamedOnTheToken() {
    server.failWith(500);
    String token = k1.mint(PROJECT, "alice");
    AuthUnavailableException e =
        assertThrows(AuthUnavailableException.class, () -> verifier.verify("Bearer " + token));
    assertThat(e.getMessage(), containsString(server.url()));
    assertThat(e.getMessage(), containsString("HTTP 500"));
    assertThat(e.getMessage(), containsString("retried"));
    assertThat(e.getMessage(), not(containsString(token)));
    assertThat(server.hits(), equalTo(1));

    // Callers within 5 s of a failure get it again without hammering the endpoint.
    for (int i = 0; i < 20; i++) {
      assertThrows(AuthUnavailableException.class, () -> verifier.verify("Bearer " + token));
    }
    assertThat(server.hits(), equalTo(1));

    // Once the endpoint is back, the very same token verifies: nothing was remembered against it.
    server.failWith(200);
    advance(4);
    assertThrows(AuthUnavailableException.class, () -> verifier.verify("Bearer " + token));
    assertThat(server.hits(), equalTo(1));
    advance(2);
    AuthResult result = verifier.verify("Bearer " + token);
    assertThat(result.toString(), result.isOk(), is(true));
    assertThat(server.hits(), equalTo(2));
  }

  @Test
  void cachedCertificatesServeThroughAnOutageUntilTheyExpire() {
    assertAccepted(k1, "alice");
    server.failWith(503);
    advance(301); // due for refresh: the fetch fails, the cached document is still valid
    assertAccepted(k1, "alice");
    assertThat(server.hits(), equalTo(2));
    advance(3);
    assertAccepted(k1, "alice");
    assertThat(server.hits(), equalTo(2)); // failure back-off
    advance(3);
    assertAccepted(k1, "alice");
    assertThat(server.hits(), equalTo(3));

    advance(300); // 605 s: expired, and the endpoint still fails
    AuthUnavailableException e =
        assertThrows(AuthUnavailableException.class, () -> verify(k1, "alice"));
    assertThat(e.getMessage(), containsString("HTTP 503"));

    server.failWith(200);
    advance(6);
    assertAccepted(k1, "alice");
  }

  @Test
  void unreachableOrMalformedEndpointIsUnavailable() throws IOException {
    server.serveRaw("<html>not the certificates</html>");
    AuthUnavailableException e =
        assertThrows(AuthUnavailableException.class, () -> verify(k1, "alice"));
    assertThat(e.getMessage(), containsString("not valid JSON"));

    server.serve(k1);
    advance(6);
    assertAccepted(k1, "alice");

    LoopbackCertificateServer stopped = LoopbackCertificateServer.start(k1);
    String url = stopped.url();
    stopped.close();
    try (TokenVerifier unreachable =
        TokenVerifier.create(AuthConfig.firebase(PROJECT).withCertificateUrl(url), clock)) {
      AuthUnavailableException down =
          assertThrows(
              AuthUnavailableException.class,
              () -> unreachable.verify("Bearer " + k1.mint(PROJECT, "alice")));
      assertThat(down.getMessage(), containsString(url));
      assertThat(down.getMessage(), not(containsString("(null)")));
    }
  }
}
