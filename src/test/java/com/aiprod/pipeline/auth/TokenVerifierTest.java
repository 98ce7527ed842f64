package com.aiprod.pipeline.auth;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.aiprod.pipeline.model.Principal;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TokenVerifierTest {
  private static final String PROJECT = AuthConfig.DEV_DEFAULT_PROJECT;

  @TempDir static Path keyDir;

  private static DevAuthKeys keys;
  private static DevTokens tokens;
  private static TokenVerifier verifier;

  @BeforeAll
  static void setUp() throws IOException {
    keys = DevAuthKeys.loadOrCreate(keyDir);
    tokens = new DevTokens(keys, PROJECT);
    verifier = TokenVerifier.create(AuthConfig.dev(PROJECT, keyDir.toString()));
  }

  @AfterAll
  static void tearDown() {
    verifier.close();
  }

  private static String bearer(String token) {
    return "Bearer " + token;
  }

  private static Map<String, Object> claims(String uid) {
    return HostileTokens.claims(PROJECT, uid);
  }

  /** Asserts a rejection and that its message leaks no part of the token. */
  private static AuthResult assertRejected(
      String token, String reasonCode, boolean forged, String messagePart) {
    AuthResult result = verifier.verify(bearer(token));
    assertThat(result.toString(), result.isOk(), is(false));
    assertThat(result.reasonCode(), equalTo(reasonCode));
    assertThat(result.message(), containsString(messagePart));
    assertThat(result.forged(), is(forged));
    assertNoLeak(result, token);
    return result;
  }

  private static void assertNoLeak(AuthResult result, String token) {
    assertThat(result.message(), notNullValue());
    assertThat(result.message(), not(containsString(token)));
    assertThat(result.toString(), not(containsString(token)));
    for (String part : HostileTokens.parts(token)) {
      if (part.length() >= 8) {
        assertThat(result.message(), not(containsString(part)));
        assertThat(result.message(), not(containsString(part.substring(0, 8))));
      }
    }
  }

  @Test
  void validTokenGivesPrincipalWithDefaults() {
    AuthResult result = verifier.verify(bearer(tokens.mint("alice")));
    assertThat(result.toString(), result.isOk(), is(true));
    assertThat(result.principal(), equalTo(Principal.create("alice", "alice", "viewer", "free")));
  }

  @Test
  void validTokenGivesPrincipalWithCustomClaims() {
    String token =
        tokens.mint("bob", "acme-studio_1", "admin", "enterprise", Duration.ofMinutes(5));
    AuthResult result = verifier.verify(bearer(token));
    assertThat(result.toString(), result.isOk(), is(true));
    assertThat(
        result.principal(),
        equalTo(Principal.create("bob", "acme-studio_1", "admin", "enterprise")));
  }

  @Test
  void bearerSchemeIsCaseInsensitive() {
    AuthResult result =
        verifier.verify(
            "bEARER " + tokens.mint("carol", null, "user", "pro", Duration.ofMinutes(5)));
    assertThat(result.toString(), result.isOk(), is(true));
    assertThat(result.principal(), equalTo(Principal.create("carol", "carol", "user", "pro")));
  }

  @Test
  void oneVerifierServesManyCallsAndThreads() throws Exception {
    String token = tokens.mint("dave", "team", "service", "pro", Duration.ofMinutes(5));
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      List<Future<Boolean>> futures = new ArrayList<>();
      for (int t = 0; t < 2; t++) {
        futures.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < 200; i++) {
                    if (!verifier.verify(bearer(token)).isOk()) {
                      return false;
                    }
                  }
                  return true;
                }));
      }
      for (Future<Boolean> future : futures) {
        assertThat(future.get(), is(true));
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void missingAttribute() {
    for (String attribute : new String[] {null, "", "   "}) {
      AuthResult result = verifier.verify(attribute);
      assertThat(result.reasonCode(), equalTo("AUTH_MISSING"));
      assertThat(result.message(), equalTo(TokenVerifier.MSG_MISSING));
      assertThat(result.forged(), is(false));
    }
  }

  @Test
  void notBearer() {
    String token = tokens.mint("alice");
    for (String attribute :
        new String[] {
          token,
          "Basic " + token,
          "Bearer  " + token,
          "Bearer",
          "Bearer ",
          "Token " + token,
          "Bearer\t" + token,
          " Bearer " + token
        }) {
      AuthResult result = verifier.verify(attribute);
      assertThat(attribute, result.reasonCode(), equalTo("AUTH_INVALID"));
      assertThat(result.forged(), is(false));
      assertNoLeak(result, token);
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "garbage",
        "a.b",
        "a.b.c.d",
        "e30.e30.!!",
        "..",
        "abc.def.ghi",
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln%3D",
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln===",
        "bm90IGpzb24.e30.c2ln"
      })
  void garbageToken(String token) {
    AuthResult result = verifier.verify(bearer(token));
    assertThat(result.reasonCode(), equalTo("AUTH_INVALID"));
    assertThat(result.forged(), is(false));
    assertThat(result.message(), not(containsString(token)));
  }

  @Test
  void tooLongToken() {
    String token = "a".repeat(TokenVerifier.MAX_TOKEN_LENGTH) + ".b.c";
    assertRejected(token, "AUTH_INVALID", false, "longer than");
  }

  @Test
  void algNoneIsForged() {
    String token =
        HostileTokens.unsigned(HostileTokens.header("none", keys.kid()), claims("alice"));
    assertRejected(token, "AUTH_INVALID", true, "RS256");
  }

  @ParameterizedTest
  @ValueSource(strings = {"HS256", "HS384", "HS512"})
  void hmacSignedIsForged(String alg) {
    // The classic confusion attack: HMAC keyed with the public certificate.
    String token =
        HostileTokens.hmac(
            alg,
            HostileTokens.header(alg, keys.kid()),
            claims("alice"),
            keys.certificatePem().getBytes(StandardCharsets.US_ASCII));
    assertRejected(token, "AUTH_INVALID", true, "RS256");
  }

  @Test
  void otherAlgorithmsAreForged() {
    for (String alg : new String[] {"rs256", "RS512", "PS256", "ES256", ""}) {
      String token =
          HostileTokens.rs256(
              HostileTokens.header(alg, keys.kid()), claims("alice"), keys.privateKey());
      assertRejected(token, "AUTH_INVALID", true, "RS256");
    }
  }

  @Test
  void signedByAnotherKeyPairWithTheRightKidIsForged() throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(2048);
    KeyPair other = generator.generateKeyPair();
    String token =
        HostileTokens.rs256(
            HostileTokens.header("RS256", keys.kid()), claims("alice"), other.getPrivate());
    assertRejected(token, "AUTH_INVALID", true, "signature");
  }

  @Test
  void unknownKidIsForged() {
    String token =
        HostileTokens.rs256(
            HostileTokens.header("RS256", "0123456789abcdef0123456789abcdef01234567"),
            claims("alice"),
            keys.privateKey());
    assertRejected(token, "AUTH_INVALID", true, "kid");
  }

  @Test
  void missingKidIsForged() {
    String token =
        HostileTokens.rs256(
            HostileTokens.header("RS256", null), claims("alice"), keys.privateKey());
    assertRejected(token, "AUTH_INVALID", true, "kid");
  }

  @Test
  void wrongAudience() {
    Map<String, Object> claims = claims("alice");
    claims.put("aud", "other-project");
    String token =
        HostileTokens.rs256(HostileTokens.header("RS256", keys.kid()), claims, keys.privateKey());
    assertRejected(token, "AUTH_INVALID", false, "aud must be " + PROJECT);
  }

  @Test
  void audienceArrayIsRejected() {
    Map<String, Object> claims = claims("alice");
    claims.put("aud", List.of(PROJECT, "other-project"));
    String token =
        HostileTokens.rs256(HostileTokens.header("RS256", keys.kid()), claims, keys.privateKey());
    assertRejected(token, "AUTH_INVALID", false, "aud must be " + PROJECT);
  }

  @Test
  void wrongIssuer() {
    Map<String, Object> claims = claims("alice");
    claims.put("iss", "https://securetoken.google.com/other-project");
    String token =
        HostileTokens.rs256(HostileTokens.header("RS256", keys.kid()), claims, keys.privateKey());
    assertRejected(
        token, "AUTH_INVALID", false, "iss must be https://securetoken.google.com/" + PROJECT);
  }

  @Test
  void anotherProjectsTokenFromDevTokens() {
    String token = new DevTokens(keys, "other-project").mint("alice");
    assertRejected(token, "AUTH_INVALID", false, "another Firebase project");
  }

  @Test
  void expiredBeyondSkew() {
    // Minted relative to real time, so firebase-admin's clock agrees: exp = now - 120 s.
    Clock past = Clock.fixed(Instant.now().minusSeconds(3600 + 120), Clock.systemUTC().getZone());
    String token = new DevTokens(keys, PROJECT, past).mint("alice");
    assertRejected(token, "AUTH_EXPIRED", false, "expired");
  }

  @Test
  void expiredWithinSkewIsAccepted() {
    Clock past = Clock.fixed(Instant.now().minusSeconds(3600 + 30), Clock.systemUTC().getZone());
    String token = new DevTokens(keys, PROJECT, past).mint("alice");
    AuthResult result = verifier.verify(bearer(token));
    assertThat(result.toString(), result.isOk(), is(true));
  }

  @Test
  void injectedClockDecidesExpiry() throws IOException {
    String token = tokens.mint("alice"); // valid for one hour of real time
    Clock later = Clock.offset(Clock.systemUTC(), Duration.ofHours(2));
    try (TokenVerifier lateVerifier =
        TokenVerifier.create(AuthConfig.dev(PROJECT, keyDir.toString()), later)) {
      AuthResult result = lateVerifier.verify(bearer(token));
      assertThat(result.reasonCode(), equalTo("AUTH_EXPIRED"));
      assertNoLeak(result, token);
    }
    assertThat(verifier.verify(bearer(token)).isOk(), is(true));
  }

  @Test
  void issuedInTheFuture() {
    Map<String, Object> claims = claims("alice");
    claims.put("iat", Instant.now().getEpochSecond() + 120);
    String token =
        HostileTokens.rs256(HostileTokens.header("RS256", keys.kid()), claims, keys.privateKey());
    assertRejected(token, "AUTH_INVALID", false, "iat");
  }

  @Test
  void issuedSlightlyInTheFutureIsAccepted() {
    Map<String, Object> claims = claims("alice");
    claims.put("iat", Instant.now().getEpochSecond() + 30);
    claims.put("auth_time", Instant.now().getEpochSecond() + 30);
    String token =
        HostileTokens.rs256(HostileTokens.header("RS256", keys.kid()), claims, keys.privateKey());
    assertThat(verifier.verify(bearer(token)).isOk(), is(true));
  }

  @Test
  void authTimeInTheFuture() {
    Map<String, Object> claims = claims("alice");
    claims.put("auth_time", Instant.now().getEpochSecond() + 120);
    String token =
        HostileTokens.rs256(HostileTokens.header("RS256", keys.kid()), claims, keys.privateKey());
    assertRejected(token, "AUTH_INVALID", false, "auth_time");
  }

  @ParameterizedTest
  @ValueSource(strings = {"iat", "auth_time", "exp"})
  void missingOrNonNumericTimes(String claim) {
    Map<String, Object> claims = claims("alice");
    claims.remove(claim);
    String token =
        HostileTokens.rs256(HostileTokens.header("RS256", keys.kid()), claims, keys.privateKey());
    assertRejected(token, "AUTH_INVALID", false, "exp, iat or auth_time");
    claims.put(claim, "1700000000");
    token =
        HostileTokens.rs256(HostileTokens.header("RS256", keys.kid()), claims, keys.privateKey());
    assertRejected(token, "AUTH_INVALID", false, "exp, iat or auth_time");
  }

  @Test
  void tamperedPayloadIsForged() {
    String token = tokens.mint("alice", "acme", "user", "free", Duration.ofMinutes(5));
    String[] parts = HostileTokens.parts(token);
    Map<String, Object> claims = claims("alice");
    claims.put("tenant", "victim");
    claims.put("role", "admin");
    String tampered = parts[0] + "." + HostileTokens.b64Json(claims) + "." + parts[2];
    assertRejected(tampered, "AUTH_INVALID", true, "signature");
  }

  @Test
  void tamperedHeaderIsForged() {
    String token = tokens.mint("alice");
    String[] parts = HostileTokens.parts(token);
    Map<String, Object> header = HostileTokens.header("RS256", keys.kid());
    header.put("typ", "JOSE");
    String tampered = HostileTokens.b64Json(header) + "." + parts[1] + "." + parts[2];
    assertRejected(tampered, "AUTH_INVALID", true, "signature");
  }

  @Test
  void emptySignatureIsForged() {
    String token = tokens.mint("alice");
    String[] parts = HostileTokens.parts(token);
    assertRejected(parts[0] + "." + parts[1] + ".", "AUTH_INVALID", true, "signature");
  }

  @Test
  void emptySub() {
    String token =
        HostileTokens.rs256(
            HostileTokens.header("RS256", keys.kid()), claims(""), keys.privateKey());
    assertRejected(token, "AUTH_INVALID", false, "sub");
  }

  @Test
  void subOf129Characters() {
    Map<String, Object> claims = claims("u".repeat(129));
    claims.put("tenant", "acme");
    String token =
        HostileTokens.rs256(HostileTokens.header("RS256", keys.kid()), claims, keys.privateKey());
    assertRejected(token, "AUTH_INVALID", false, "sub");
  }

  @Test
  void subOf128CharactersWithTenantIsAccepted() {
    String uid = "u".repeat(128);
    AuthResult result =
        verifier.verify(bearer(tokens.mint(uid, "acme", null, null, Duration.ofMinutes(5))));
    assertThat(result.toString(), result.isOk(), is(true));
    assertThat(result.principal(), equalTo(Principal.create(uid, "acme", "viewer", "free")));
  }

  @Test
  void uidThatIsNoTenantNameNeedsTenantClaim() {
    String token = tokens.mint("alice@example.com");
    assertRejected(token, "AUTH_INVALID", false, "set a 'tenant' custom claim");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "../x",
        "",
        "a/b",
        "acme studio",
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
      })
  void badTenantClaim(String tenant) {
    String token = tokens.mint("alice", tenant, null, null, Duration.ofMinutes(5));
    assertRejected(token, "AUTH_INVALID", false, "'tenant'");
  }

  @Test
  void badRole() {
    for (String role : new String[] {"root", "Admin", "", "viewer "}) {
      String token = tokens.mint("alice", null, role, null, Duration.ofMinutes(5));
      assertRejected(token, "AUTH_INVALID", false, "'role' must be one of viewer, user");
    }
  }

  @Test
  void badPlan() {
    for (String plan : new String[] {"gold", "FREE", ""}) {
      String token = tokens.mint("alice", null, null, plan, Duration.ofMinutes(5));
      assertRejected(token, "AUTH_INVALID", false, "'plan' must be one of free, pro");
    }
  }

  @Test
  void nonStringCustomClaims() {
    for (String claim : new String[] {"tenant", "role", "plan"}) {
      Map<String, Object> claims = claims("alice");
      claims.put(claim, List.of("admin"));
      String token =
          HostileTokens.rs256(HostileTokens.header("RS256", keys.kid()), claims, keys.privateKey());
      assertRejected(token, "AUTH_INVALID", false, "'" + claim + "'");
      claims.put(claim, 1);
      token =
          HostileTokens.rs256(HostileTokens.header("RS256", keys.kid()), claims, keys.privateKey());
      assertRejected(token, "AUTH_INVALID", false, "'" + claim + "'");
    }
  }

  @Test
  void duplicateClaimsAreRejected() {
    // {"sub":"alice",...,"role":"viewer","role":"admin"}: parsers disagree on duplicates.
    Map<String, Object> claims = claims("alice");
    String json;
    try {
      json = new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(claims);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    json = json.substring(0, json.length() - 1) + ",\"role\":\"viewer\",\"role\":\"admin\"}";
    String signingInput =
        HostileTokens.b64Json(HostileTokens.header("RS256", keys.kid()))
            + "."
            + HostileTokens.b64(json.getBytes(StandardCharsets.UTF_8));
    String token;
    try {
      java.security.Signature signature = java.security.Signature.getInstance("SHA256withRSA");
      signature.initSign(keys.privateKey());
      signature.update(signingInput.getBytes(StandardCharsets.US_ASCII));
      token = signingInput + "." + HostileTokens.b64(signature.sign());
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
    assertRejected(token, "AUTH_INVALID", false, "payload");
  }

  @Test
  void severalVerifiersInOneJvm() throws IOException {
    String token = tokens.mint("erin");
    TokenVerifier first = TokenVerifier.create(AuthConfig.dev(PROJECT, keyDir.toString()));
    TokenVerifier second = TokenVerifier.create(AuthConfig.dev(PROJECT, keyDir.toString()));
    assertThat(first.verify(bearer(token)).isOk(), is(true));
    first.close();
    first.close(); // idempotent
    assertThat(second.verify(bearer(token)).isOk(), is(true));
    second.close();
    assertThrows(IllegalStateException.class, () -> first.verify(bearer(token)));
  }

  @Test
  void devModeWithoutKeysNamesDirectoryAndScript(@TempDir Path empty) {
    Path missing = empty.resolve("no-keys-here");
    IOException e =
        assertThrows(
            IOException.class,
            () -> TokenVerifier.create(AuthConfig.dev(null, missing.toString())));
    assertThat(e.getMessage(), containsString(missing.toAbsolutePath().toString()));
    assertThat(e.getMessage(), containsString("scripts/dev-token"));
  }

  @Test
  void keysOfAnotherDevDirectoryAreNotTrusted(@TempDir Path otherDir) throws IOException {
    DevAuthKeys otherKeys = DevAuthKeys.loadOrCreate(otherDir);
    String token = new DevTokens(otherKeys, PROJECT).mint("mallory");
    assertRejected(token, "AUTH_INVALID", true, "kid");
  }
}
