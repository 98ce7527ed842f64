package com.aiprod.pipeline.auth;

import com.aiprod.pipeline.model.Principal;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.auth.oauth2.AccessToken;
import com.google.auth.oauth2.GoogleCredentials;
import com.google.firebase.FirebaseApp;
import com.google.firebase.FirebaseOptions;
import com.google.firebase.auth.AuthErrorCode;
import com.google.firebase.auth.FirebaseAuth;
import com.google.firebase.auth.FirebaseAuthException;
import com.google.firebase.auth.FirebaseToken;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import javax.annotation.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Verifies the {@code authorization} attribute of a request ({@code Bearer <Firebase ID token>})
 * and maps the token's claims to a {@link Principal} (DESIGN §3).
 *
 * <p>firebase-admin's {@link FirebaseAuth#verifyIdToken(String)} checks the signature and the
 * standard claims. Around it this class adds stricter checks of its own, on a header and payload it
 * decodes itself: the algorithm must be exactly RS256; the {@code kid} must name a currently served
 * certificate and the signature must verify against that very certificate (firebase-admin tries
 * every served key); {@code exp}, {@code iat} and {@code auth_time} are checked with 60 s of skew
 * (firebase-admin allows 300 s); and the custom claims must have allowed values. The payload is
 * only trusted after the signature has been verified.
 *
 * <p>Certificates come from a {@link CertificateCache}: in dev mode the key pair in {@link
 * AuthConfig#devAuthDir()}, in firebase mode Google's securetoken certificates (or the document at
 * {@link AuthConfig#certificateUrlOverride()}), fetched over HTTP and cached per their {@code
 * Cache-Control}; a {@code kid} the cached document lacks triggers at most one refetch per minute.
 * firebase-admin never fetches anything itself: each distinct certificate document gets its own
 * FirebaseApp, fed that document through a {@link CertificateServingTransport}, so firebase-admin
 * always judges a token against the very document our own checks used (after a rotation too).
 *
 * <p>Rejection messages say what to fix and never contain the token or any part of it. One instance
 * is meant to be created per DoFn instance (in {@code @Setup}) and reused; it is thread-safe.
 * {@link #close()} deletes its FirebaseApp.
 */
public final class TokenVerifier implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(TokenVerifier.class);

  /** Firebase ID tokens are about 1 KB; custom claims are capped at 1000 bytes. */
  static final int MAX_TOKEN_LENGTH = 8192;

  private static final String BEARER = "Bearer ";
  private static final Pattern JWT_SHAPE =
      Pattern.compile("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*");
  private static final long DEV_CERTIFICATE_MAX_AGE_SECONDS = 3600;
  private static final String EMULATOR_ENV = "FIREBASE_AUTH_EMULATOR_HOST";

  static final String MSG_MISSING = "no authorization attribute: send 'Bearer <Firebase ID token>'";
  static final String MSG_NOT_BEARER =
      "authorization attribute must be 'Bearer <Firebase ID token>' (scheme Bearer, one space)";
  static final String MSG_TOO_LONG =
      "bearer token is longer than " + MAX_TOKEN_LENGTH + " characters: send a Firebase ID token";
  static final String MSG_NOT_JWT =
      "bearer token is not a JWT (three base64url parts separated by dots): send a Firebase ID"
          + " token";
  static final String MSG_BAD_HEADER = "token header is not a base64url JSON object";
  static final String MSG_BAD_ALG =
      "token algorithm must be RS256: only Firebase ID tokens signed by Firebase are accepted";
  static final String MSG_NO_KID =
      "token header has no key id (kid): only Firebase ID tokens signed by Firebase are accepted";
  static final String MSG_UNKNOWN_KID =
      "token key id (kid) does not name a currently served signing certificate: get a fresh"
          + " Firebase ID token";
  static final String MSG_BAD_SIGNATURE =
      "token signature does not verify: the token was altered or not issued by Firebase";
  static final String MSG_BAD_PAYLOAD = "token payload is not a base64url JSON object";
  static final String MSG_EXPIRED =
      "Firebase ID token has expired: get a fresh one (getIdToken) and retry";
  static final String MSG_NO_TIMES =
      "token lacks a numeric exp, iat or auth_time claim: send a Firebase ID token";
  static final String MSG_IAT_FUTURE =
      "token iat (issued-at) is more than 60 s in the future: check the issuing clock";
  static final String MSG_AUTH_TIME_FUTURE =
      "token auth_time is more than 60 s in the future: check the issuing clock";
  static final String MSG_BAD_SUB =
      "token sub (uid) must be a non-empty string of at most 128 characters";
  static final String MSG_FIREBASE_REJECTED =
      "Firebase ID token verification rejected the token: send a valid Firebase ID token";
  static final String MSG_BAD_TENANT =
      "custom claim 'tenant' must be a string of 1-64 characters [A-Za-z0-9_-]";
  static final String MSG_UID_NOT_TENANT =
      "uid is not a valid tenant name (1-64 characters [A-Za-z0-9_-]): set a 'tenant' custom"
          + " claim";
  static final String MSG_BAD_ROLE =
      "custom claim 'role' must be one of " + String.join(", ", AuthClaims.ROLES);
  static final String MSG_BAD_PLAN =
      "custom claim 'plan' must be one of " + String.join(", ", AuthClaims.PLANS);

  private static final ObjectMapper JSON =
      new ObjectMapper()
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  /**
   * FirebaseApps kept per verifier: the current certificate document's and the previous one's (a
   * thread may still judge a token against the document it read just before a rotation). A thread
   * still holding a document two rotations old would meet a deleted app and fail its bundle, which
   * the runner retries.
   */
  private static final int MAX_JUDGES = 2;

  private final AuthConfig config;
  private final Clock clock;
  private final CertificateCache certificates;
  private final VerifiedTokens verified;
  private final AtomicBoolean closed = new AtomicBoolean();

  /** firebase-admin instances by certificate document, oldest first; guarded by itself. */
  private final LinkedHashMap<String, Judge> judges = new LinkedHashMap<>();

  private volatile @Nullable Judge latestJudge;

  /** firebase-admin fed one certificate document. */
  private static final class Judge {
    final String json;
    final FirebaseApp app;
    final FirebaseAuth auth;

    Judge(String json, FirebaseApp app) {
      this.json = json;
      this.app = app;
      this.auth = FirebaseAuth.getInstance(app);
    }
  }

  private TokenVerifier(AuthConfig config, Clock clock, CertificateCache certificates) {
    this.config = config;
    this.clock = clock;
    this.certificates = certificates;
    this.verified = VerifiedTokens.perWorker(config);
  }

  /** A verifier using the system clock. */
  public static TokenVerifier create(AuthConfig config) throws IOException {
    return create(config, Clock.systemUTC());
  }

  /**
   * A verifier judging {@code exp}, {@code iat} and {@code auth_time}, and the age of its cached
   * certificates, with {@code clock}.
   *
   * @throws IOException in dev mode, when the key pair in {@link AuthConfig#devAuthDir()} cannot be
   *     loaded (the message names the directory and {@code scripts/dev-token})
   * @throws IllegalStateException when {@code FIREBASE_AUTH_EMULATOR_HOST} is set, which would make
   *     firebase-admin skip signature checks
   */
  public static TokenVerifier create(AuthConfig config, Clock clock) throws IOException {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(clock, "clock");
    String emulator = System.getenv(EMULATOR_ENV);
    if (emulator != null && !emulator.isEmpty()) {
      throw new IllegalStateException(
          EMULATOR_ENV
              + " is set: firebase-admin would accept unsigned tokens. Unset it; use"
              + " --authMode=dev for local work");
    }
    CertificateCache cache;
    if (config.mode() == AuthConfig.Mode.DEV) {
      DevAuthKeys keys = DevAuthKeys.load(Path.of(config.devAuthDir()));
      cache =
          new CertificateCache(
              CertificateCache.fixedSource(
                  keys.certificateJson(), DEV_CERTIFICATE_MAX_AGE_SECONDS, keys.dir().toString()),
              clock::millis);
      cache.get(); // parse the dev certificate now: a broken key directory fails at startup
    } else {
      // Shared by every verifier of this JVM: one fetch per document lifetime per worker.
      cache = CertificateCache.shared(config.certificateUrl(), clock);
    }
    LOG.info("Token verifier ready: {} (certificates from {})", config, cache.describeSource());
    return new TokenVerifier(config, clock, cache);
  }

  /** The firebase-admin instance fed {@code snapshot}'s document, created on first use. */
  private Judge judgeFor(CertificateCache.Snapshot snapshot) {
    Judge latest = latestJudge;
    if (latest != null && latest.json.equals(snapshot.json)) {
      return latest;
    }
    synchronized (judges) {
      if (closed.get()) {
        throw new IllegalStateException("TokenVerifier is closed");
      }
      Judge judge = judges.get(snapshot.json);
      if (judge == null) {
        FirebaseOptions options =
            FirebaseOptions.builder()
                .setProjectId(config.firebaseProject())
                .setCredentials(
                    GoogleCredentials.create(
                        new AccessToken(
                            "unused", Date.from(Instant.parse("9999-12-31T00:00:00Z")))))
                .setHttpTransport(new CertificateServingTransport(snapshot.json))
                .build();
        judge =
            new Judge(
                snapshot.json,
                FirebaseApp.initializeApp(options, "aiprod-token-verifier-" + UUID.randomUUID()));
        judges.put(snapshot.json, judge);
        latestJudge = judge;
        Iterator<Judge> oldest = judges.values().iterator();
        while (judges.size() > MAX_JUDGES) {
          Judge retired = oldest.next();
          oldest.remove();
          retired.app.delete();
        }
      }
      return judge;
    }
  }

  public AuthConfig config() {
    return config;
  }

  /**
   * Verifies an {@code authorization} attribute.
   *
   * @param authorizationAttribute {@code Bearer <Firebase ID token>}, or null when absent
   * @return the principal, or a failure with reason code {@code AUTH_MISSING}, {@code AUTH_INVALID}
   *     or {@code AUTH_EXPIRED}
   * @throws AuthUnavailableException when the signing certificates cannot be fetched
   */
  public AuthResult verify(@Nullable String authorizationAttribute) {
    if (closed.get()) {
      throw new IllegalStateException("TokenVerifier is closed");
    }
    if (authorizationAttribute == null || authorizationAttribute.isBlank()) {
      return missing();
    }
    if (!authorizationAttribute.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
      return invalid(MSG_NOT_BEARER);
    }
    String token = authorizationAttribute.substring(BEARER.length());
    if (token.length() > MAX_TOKEN_LENGTH) {
      return invalid(MSG_TOO_LONG);
    }
    String cacheKey = VerifiedTokens.keyOf(token);
    AuthResult known = alreadyVerified(cacheKey);
    if (known != null) {
      return known;
    }
    if (!JWT_SHAPE.matcher(token).matches()) {
      return invalid(MSG_NOT_JWT);
    }
    int firstDot = token.indexOf('.');
    int secondDot = token.indexOf('.', firstDot + 1);

    JsonNode header = decodeJsonObject(token.substring(0, firstDot));
    if (header == null) {
      return invalid(MSG_BAD_HEADER);
    }
    JsonNode alg = header.get("alg");
    if (alg == null || !alg.isTextual() || !"RS256".equals(alg.asText())) {
      return forged(MSG_BAD_ALG);
    }
    JsonNode kid = header.get("kid");
    if (kid == null || !kid.isTextual() || kid.asText().isEmpty()) {
      return forged(MSG_NO_KID);
    }
    CertificateCache.Snapshot snapshot;
    try {
      snapshot = certificates.forKeyId(kid.asText());
    } catch (IOException e) {
      throw new AuthUnavailableException(
          "cannot obtain the token-signing certificates from "
              + certificates.describeSource()
              + " ("
              + (e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName())
              + "); the request is not at fault and must be retried, not rejected",
          e);
    }
    PublicKey key = snapshot.keys.get(kid.asText());
    if (key == null) {
      return forged(MSG_UNKNOWN_KID);
    }
    if (!signatureVerifies(token, secondDot, key)) {
      return forged(MSG_BAD_SIGNATURE);
    }

    // The payload is authentic from here on.
    JsonNode payload = decodeJsonObject(token.substring(firstDot + 1, secondDot));
    if (payload == null) {
      return invalid(MSG_BAD_PAYLOAD);
    }
    if (!isText(payload.get("iss"), config.expectedIssuer())) {
      return invalid(
          "token was issued for another Firebase project: iss must be " + config.expectedIssuer());
    }
    if (!isText(payload.get("aud"), config.firebaseProject())) {
      return invalid(
          "token was issued for another Firebase project: aud must be " + config.firebaseProject());
    }
    JsonNode exp = payload.get("exp");
    JsonNode iat = payload.get("iat");
    JsonNode authTime = payload.get("auth_time");
    if (!isEpochSeconds(exp) || !isEpochSeconds(iat) || !isEpochSeconds(authTime)) {
      return invalid(MSG_NO_TIMES);
    }
    long now = clock.instant().getEpochSecond();
    long skew = config.clockSkew().getSeconds();
    if (now > exp.asLong() + skew) {
      return AuthResult.failure("AUTH_EXPIRED", MSG_EXPIRED, false);
    }
    if (iat.asLong() > now + skew) {
      return invalid(MSG_IAT_FUTURE);
    }
    if (authTime.asLong() > now + skew) {
      return invalid(MSG_AUTH_TIME_FUTURE);
    }
    JsonNode sub = payload.get("sub");
    if (sub == null || !sub.isTextual() || !AuthClaims.isValidUid(sub.asText())) {
      return invalid(MSG_BAD_SUB);
    }
    String uid = sub.asText();

    AuthResult firebaseVerdict = verifyWithFirebase(judgeFor(snapshot), token, uid);
    if (firebaseVerdict != null) {
      return firebaseVerdict;
    }
    AuthResult principal = toPrincipal(uid, payload);
    if (principal.isOk()) {
      verified.put(
          cacheKey,
          new VerifiedTokens.Verified(
              principal, kid.asText(), key, exp.asLong(), iat.asLong(), authTime.asLong()));
    }
    return principal;
  }

  /**
   * The principal of a token this worker verified before, if it still holds now: within its times
   * by this verifier's clock, and its key still in the certificate document. Null: verify it in
   * full (which also gives the precise failure).
   */
  private @Nullable AuthResult alreadyVerified(String cacheKey) {
    VerifiedTokens.Verified v = verified.get(cacheKey);
    if (v == null) {
      return null;
    }
    long now = clock.instant().getEpochSecond();
    long skew = config.clockSkew().getSeconds();
    if (now > v.exp() + skew || v.iat() > now + skew || v.authTime() > now + skew) {
      verified.remove(cacheKey);
      return null;
    }
    PublicKey current;
    try {
      current = certificates.forKeyId(v.kid()).keys.get(v.kid());
    } catch (IOException e) {
      return null; // the full check reports the certificates as unavailable
    }
    if (!v.key().equals(current)) {
      verified.remove(cacheKey); // the key was rotated out: check the token against today's keys
      return null;
    }
    return v.principal();
  }

  /** Deletes this verifier's FirebaseApps. */
  @Override
  public void close() {
    synchronized (judges) {
      if (closed.compareAndSet(false, true)) {
        judges.values().forEach(judge -> judge.app.delete());
        judges.clear();
        latestJudge = null;
      }
    }
  }

  /** Runs firebase-admin's verification; null when it accepts the token. */
  private @Nullable AuthResult verifyWithFirebase(Judge judge, String token, String uid) {
    FirebaseToken verified;
    try {
      verified = judge.auth.verifyIdToken(token);
    } catch (FirebaseAuthException e) {
      // Firebase messages quote claims: log and wrap only the error code, never the message.
      AuthErrorCode code = e.getAuthErrorCode();
      if (code == AuthErrorCode.CERTIFICATE_FETCH_FAILED) {
        throw new AuthUnavailableException(
            "firebase-admin cannot obtain the token-signing certificates from "
                + certificates.describeSource());
      }
      if (code == AuthErrorCode.EXPIRED_ID_TOKEN) {
        return AuthResult.failure("AUTH_EXPIRED", MSG_EXPIRED, false);
      }
      LOG.warn(
          "firebase-admin rejected a token that passed the stricter checks (error code {})", code);
      return invalid(MSG_FIREBASE_REJECTED);
    } catch (IllegalArgumentException e) {
      LOG.warn("firebase-admin could not verify a token ({})", e.getClass().getSimpleName());
      return invalid(MSG_FIREBASE_REJECTED);
    }
    if (!uid.equals(verified.getUid())) {
      LOG.warn("firebase-admin and the stricter checks disagree on the token's uid");
      return invalid(MSG_FIREBASE_REJECTED);
    }
    return null;
  }

  private static AuthResult toPrincipal(String uid, JsonNode payload) {
    String tenant;
    JsonNode tenantClaim = payload.get(AuthClaims.TENANT);
    if (isAbsent(tenantClaim)) {
      if (!AuthClaims.isValidTenant(uid)) {
        return invalid(MSG_UID_NOT_TENANT);
      }
      tenant = uid;
    } else if (tenantClaim.isTextual() && AuthClaims.isValidTenant(tenantClaim.asText())) {
      tenant = tenantClaim.asText();
    } else {
      return invalid(MSG_BAD_TENANT);
    }
    String role = AuthClaims.DEFAULT_ROLE;
    JsonNode roleClaim = payload.get(AuthClaims.ROLE);
    if (!isAbsent(roleClaim)) {
      if (!roleClaim.isTextual() || !AuthClaims.isValidRole(roleClaim.asText())) {
        return invalid(MSG_BAD_ROLE);
      }
      role = roleClaim.asText();
    }
    String plan = AuthClaims.DEFAULT_PLAN;
    JsonNode planClaim = payload.get(AuthClaims.PLAN);
    if (!isAbsent(planClaim)) {
      if (!planClaim.isTextual() || !AuthClaims.isValidPlan(planClaim.asText())) {
        return invalid(MSG_BAD_PLAN);
      }
      plan = planClaim.asText();
    }
    return AuthResult.ok(Principal.create(uid, tenant, role, plan));
  }

  private static boolean signatureVerifies(String token, int secondDot, PublicKey key) {
    byte[] signature;
    try {
      signature = Base64.getUrlDecoder().decode(token.substring(secondDot + 1));
    } catch (IllegalArgumentException e) {
      return false;
    }
    if (signature.length == 0) {
      return false;
    }
    try {
      Signature verifier = Signature.getInstance("SHA256withRSA");
      verifier.initVerify(key);
      verifier.update(token.substring(0, secondDot).getBytes(StandardCharsets.US_ASCII));
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  /** Decodes a base64url JSON object; null when it is not one. */
  private static @Nullable JsonNode decodeJsonObject(String part) {
    try {
      JsonNode node = JSON.readTree(Base64.getUrlDecoder().decode(part));
      return node != null && node.isObject() ? node : null;
    } catch (IllegalArgumentException | IOException e) {
      return null;
    }
  }

  private static boolean isText(@Nullable JsonNode node, String expected) {
    return node != null && node.isTextual() && node.asText().equals(expected);
  }

  private static boolean isEpochSeconds(@Nullable JsonNode node) {
    return node != null && node.isIntegralNumber() && node.canConvertToLong() && node.asLong() >= 0;
  }

  /** A custom claim that is missing or JSON null takes its default. */
  private static boolean isAbsent(@Nullable JsonNode node) {
    return node == null || node.isNull();
  }

  private static AuthResult missing() {
    return AuthResult.failure("AUTH_MISSING", MSG_MISSING, false);
  }

  private static AuthResult invalid(String message) {
    return AuthResult.failure("AUTH_INVALID", message, false);
  }

  private static AuthResult forged(String message) {
    return AuthResult.failure("AUTH_INVALID", message, true);
  }
}
