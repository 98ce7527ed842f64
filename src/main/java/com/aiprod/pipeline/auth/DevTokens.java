package com.aiprod.pipeline.auth;

import com.google.api.client.json.JsonFactory;
import com.google.api.client.json.gson.GsonFactory;
import com.google.api.client.json.webtoken.JsonWebSignature;
import com.google.api.client.json.webtoken.JsonWebToken;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import javax.annotation.Nullable;

/**
 * Mints Firebase-shaped RS256 ID tokens signed with the dev key pair ({@link DevAuthKeys}), for dev
 * mode and tests. The tokens carry the claims Firebase Auth puts in a custom-token sign-in ({@code
 * iss}, {@code aud}, {@code sub}, {@code user_id}, {@code iat}, {@code auth_time}, {@code exp},
 * {@code firebase.sign_in_provider = custom}) plus the AIPROD custom claims {@code tenant}, {@code
 * role} and {@code plan} when given.
 */
public final class DevTokens {
  /** Lifetime of a token when none is given (Firebase ID tokens also last one hour). */
  public static final Duration DEFAULT_TTL = Duration.ofHours(1);

  private static final JsonFactory JSON = GsonFactory.getDefaultInstance();

  private final DevAuthKeys keys;
  private final String project;
  private final Clock clock;

  /** Mints tokens for {@code project} issued at the current time. */
  public DevTokens(DevAuthKeys keys, String project) {
    this(keys, project, Clock.systemUTC());
  }

  /** Mints tokens for {@code project} issued at {@code clock}'s time. */
  public DevTokens(DevAuthKeys keys, String project, Clock clock) {
    this.keys = Objects.requireNonNull(keys, "keys");
    this.project = Objects.requireNonNull(project, "project");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** A token for {@code uid} without custom claims, valid for {@link #DEFAULT_TTL}. */
  public String mint(String uid) {
    return mint(uid, null, null, null, DEFAULT_TTL);
  }

  /**
   * A signed token.
   *
   * @param uid the {@code sub} and {@code user_id}; non-empty
   * @param tenant custom claim {@code tenant}, omitted when null
   * @param role custom claim {@code role}, omitted when null
   * @param plan custom claim {@code plan}, omitted when null
   * @param ttl {@code exp - iat}; positive
   */
  public String mint(
      String uid,
      @Nullable String tenant,
      @Nullable String role,
      @Nullable String plan,
      Duration ttl) {
    if (uid == null || uid.isEmpty()) {
      throw new IllegalArgumentException("uid must not be empty");
    }
    if (ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("ttl must be positive, got " + ttl);
    }
    long issuedAt = clock.instant().getEpochSecond();
    JsonWebSignature.Header header = new JsonWebSignature.Header();
    header.setAlgorithm("RS256");
    header.setType("JWT");
    header.setKeyId(keys.kid());

    JsonWebToken.Payload payload = new JsonWebToken.Payload();
    payload.setIssuer("https://securetoken.google.com/" + project);
    payload.setAudience(project);
    payload.setSubject(uid);
    payload.setIssuedAtTimeSeconds(issuedAt);
    payload.setExpirationTimeSeconds(issuedAt + ttl.getSeconds());
    payload.set("auth_time", issuedAt);
    payload.set("user_id", uid);
    Map<String, Object> firebase = new LinkedHashMap<>();
    firebase.put("identities", new LinkedHashMap<String, Object>());
    firebase.put("sign_in_provider", "custom");
    payload.set("firebase", firebase);
    if (tenant != null) {
      payload.set(AuthClaims.TENANT, tenant);
    }
    if (role != null) {
      payload.set(AuthClaims.ROLE, role);
    }
    if (plan != null) {
      payload.set(AuthClaims.PLAN, plan);
    }
    try {
      return JsonWebSignature.signUsingRsaSha256(keys.privateKey(), JSON, header, payload);
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot sign a dev token with the key in " + keys.dir(), e);
    }
  }
}
