package com.aiprod.pipeline.auth;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.aiprod.pipeline.model.Principal;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code --authMode=firebase} end to end at the wire level: tokens signed by a key generated here,
 * whose certificate a loopback server serves at the path of Google's securetoken certificate URL;
 * the verifier fetches it over HTTP exactly as it fetches Google's (only the URL differs).
 */
class FirebaseModeTest {
  private static final String PROJECT = "aiprod-prod";

  private static TestSigningKey key;
  private static TestSigningKey stranger;
  private static LoopbackCertificateServer server;
  private static TokenVerifier verifier;

  @BeforeAll
  static void start() throws IOException {
    key = TestSigningKey.generate();
    stranger = TestSigningKey.generate();
    server = LoopbackCertificateServer.start(key);
    verifier = TokenVerifier.create(AuthConfig.firebase(PROJECT).withCertificateUrl(server.url()));
  }

  @AfterAll
  static void stop() {
    verifier.close();
    server.close();
  }

  private static Map<String, Object> claims(String uid) {
    return HostileTokens.claims(PROJECT, uid);
  }

  private static AuthResult assertRejected(
      String token, String reasonCode, boolean forged, String messagePart) {
    AuthResult result = verifier.verify("Bearer " + token);
    assertThat(result.toString(), result.isOk(), is(false));
    assertThat(result.reasonCode(), equalTo(reasonCode));
    assertThat(result.message(), containsString(messagePart));
    assertThat(result.forged(), is(forged));
    assertThat(result.toString(), not(containsString(token)));
    for (String part : HostileTokens.parts(token)) {
      if (part.length() >= 8) {
        assertThat(result.message(), not(containsString(part.substring(0, 8))));
      }
    }
    return result;
  }

  @Test
  void validTokensMapTheirClaimsToAPrincipal() {
    AuthResult plain = verifier.verify("Bearer " + key.mint(PROJECT, "alice"));
    assertThat(plain.toString(), plain.isOk(), is(true));
    assertThat(plain.principal(), equalTo(Principal.create("alice", "alice", "viewer", "free")));

    Map<String, Object> claims = claims("bob");
    claims.put("tenant", "acme-studio_1");
    claims.put("role", "admin");
    claims.put("plan", "enterprise");
    AuthResult custom = verifier.verify("Bearer " + key.sign(claims));
    assertThat(custom.toString(), custom.isOk(), is(true));
    assertThat(
        custom.principal(),
        equalTo(Principal.create("bob", "acme-studio_1", "admin", "enterprise")));

    for (String role : AuthClaims.ROLES) {
      for (String plan : AuthClaims.PLANS) {
        Map<String, Object> c = claims("carol");
        c.put("role", role);
        c.put("plan", plan);
        AuthResult r = verifier.verify("Bearer " + key.sign(c));
        assertThat(r.toString(), r.isOk(), is(true));
        assertThat(r.principal(), equalTo(Principal.create("carol", "carol", role, plan)));
      }
    }
    // One fetch for the whole class (max-age 600 s), whichever test ran first.
    assertThat(server.hits(), equalTo(1));
  }

  @Test
  void badCustomClaimsAreInvalid() {
    Map<String, Object> claims = claims("alice");
    claims.put("tenant", "../other");
    assertRejected(key.sign(claims), "AUTH_INVALID", false, "'tenant'");
    claims = claims("alice");
    claims.put("role", "root");
    assertRejected(key.sign(claims), "AUTH_INVALID", false, "'role'");
    claims = claims("alice");
    claims.put("plan", "gold");
    assertRejected(key.sign(claims), "AUTH_INVALID", false, "'plan'");
    assertRejected(key.mint(PROJECT, "alice@example.com"), "AUTH_INVALID", false, "tenant");
  }

  @Test
  void anotherProjectsTokenIsInvalid() {
    assertRejected(
        key.mint("other-project", "alice"), "AUTH_INVALID", false, "another Firebase project");
    Map<String, Object> claims = claims("alice");
    claims.put("aud", "other-project");
    assertRejected(key.sign(claims), "AUTH_INVALID", false, "aud must be " + PROJECT);
    claims = claims("alice");
    claims.put("iss", "https://securetoken.google.com/other-project");
    assertRejected(key.sign(claims), "AUTH_INVALID", false, "iss must be");
  }

  @Test
  void expiredTokenIsExpired() {
    long now = Instant.now().getEpochSecond();
    Map<String, Object> claims = claims("alice");
    claims.put("iat", now - 3720);
    claims.put("auth_time", now - 3720);
    claims.put("exp", now - 120);
    assertRejected(key.sign(claims), "AUTH_EXPIRED", false, "expired");
  }

  @Test
  void futureIssueTimesAreInvalid() {
    long now = Instant.now().getEpochSecond();
    Map<String, Object> claims = claims("alice");
    claims.put("iat", now + 120);
    assertRejected(key.sign(claims), "AUTH_INVALID", false, "iat");
    claims = claims("alice");
    claims.put("auth_time", now + 120);
    assertRejected(key.sign(claims), "AUTH_INVALID", false, "auth_time");
  }

  @Test
  void algNoneIsForged() {
    assertRejected(
        HostileTokens.unsigned(HostileTokens.header("none", key.kid), claims("alice")),
        "AUTH_INVALID",
        true,
        "RS256");
  }

  @Test
  void hs256KeyedWithTheServedCertificateIsForged() {
    String token =
        HostileTokens.hmac(
            "HS256",
            HostileTokens.header("HS256", key.kid),
            claims("alice"),
            key.certificatePem.getBytes(StandardCharsets.US_ASCII));
    assertRejected(token, "AUTH_INVALID", true, "RS256");
  }

  @Test
  void tamperedPayloadIsForged() {
    String[] parts = HostileTokens.parts(key.mint(PROJECT, "alice"));
    Map<String, Object> claims = claims("alice");
    claims.put("tenant", "victim");
    claims.put("role", "admin");
    String tampered = parts[0] + "." + HostileTokens.b64Json(claims) + "." + parts[2];
    assertRejected(tampered, "AUTH_INVALID", true, "signature");
  }

  @Test
  void anotherKeyUnderTheServedKidIsForged() {
    String token =
        HostileTokens.rs256(
            HostileTokens.header("RS256", key.kid), claims("alice"), stranger.privateKey());
    assertRejected(token, "AUTH_INVALID", true, "signature");
  }

  @Test
  void keyNotServedIsForged() {
    assertRejected(stranger.mint(PROJECT, "alice"), "AUTH_INVALID", true, "kid");
  }

  @Test
  void badSubjectIsInvalid() {
    assertRejected(key.sign(claims("")), "AUTH_INVALID", false, "sub");
    Map<String, Object> claims = claims("u".repeat(129));
    claims.put("tenant", "acme");
    assertRejected(key.sign(claims), "AUTH_INVALID", false, "sub");
  }

  @Test
  void firebaseModeNeedsAProject() {
    assertThrows(IllegalArgumentException.class, () -> AuthConfig.firebase(""));
    assertThrows(
        IllegalArgumentException.class, () -> AuthConfig.fromFlags("firebase", null, null));
    assertThat(AuthConfig.fromFlags("dev", null, null), equalTo(AuthConfig.dev(null, null)));
    assertThat(AuthConfig.dev(null, null).firebaseProject(), equalTo("demo-aiprod"));
    assertThat(AuthConfig.dev(null, null).devAuthDir(), equalTo("local/dev-auth"));
    assertThrows(IllegalArgumentException.class, () -> AuthConfig.fromFlags("none", null, null));
    assertThrows(
        IllegalStateException.class,
        () -> AuthConfig.dev(null, null).withCertificateUrl("http://localhost/certs"));
    assertThrows(
        IllegalArgumentException.class,
        () -> AuthConfig.firebase(PROJECT).withCertificateUrl("file:///etc/certs.json"));
    assertThat(
        AuthConfig.firebase(PROJECT).certificateUrl(), equalTo(AuthConfig.GOOGLE_CERTIFICATE_URL));
    assertThat(
        AuthConfig.GOOGLE_CERTIFICATE_URL,
        equalTo("https://www.googleapis.com" + LoopbackCertificateServer.PATH));
  }
}
