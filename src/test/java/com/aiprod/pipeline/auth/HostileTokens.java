package com.aiprod.pipeline.auth;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** Hand-crafted JWTs for tests: Base64URL + Jackson, signed (or not) however a test needs. */
final class HostileTokens {
  private static final ObjectMapper JSON = new ObjectMapper();

  private HostileTokens() {}

  static String b64(byte[] bytes) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  static String b64Json(Map<String, ?> object) {
    try {
      return b64(JSON.writeValueAsBytes(object));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static Map<String, Object> header(String alg, String kid) {
    Map<String, Object> header = new LinkedHashMap<>();
    header.put("alg", alg);
    header.put("typ", "JWT");
    if (kid != null) {
      header.put("kid", kid);
    }
    return header;
  }

  /** Firebase-shaped claims for {@code uid}, issued now (epoch seconds) and valid one hour. */
  static Map<String, Object> claims(String project, String uid) {
    long now = Instant.now().getEpochSecond();
    Map<String, Object> claims = new LinkedHashMap<>();
    claims.put("iss", "https://securetoken.google.com/" + project);
    claims.put("aud", project);
    claims.put("auth_time", now);
    claims.put("user_id", uid);
    claims.put("sub", uid);
    claims.put("iat", now);
    claims.put("exp", now + 3600);
    claims.put("firebase", Map.of("identities", Map.of(), "sign_in_provider", "custom"));
    return claims;
  }

  static String rs256(Map<String, ?> header, Map<String, ?> claims, PrivateKey key) {
    String signingInput = b64Json(header) + "." + b64Json(claims);
    try {
      Signature signature = Signature.getInstance("SHA256withRSA");
      signature.initSign(key);
      signature.update(signingInput.getBytes(StandardCharsets.US_ASCII));
      return signingInput + "." + b64(signature.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static String hmac(String alg, Map<String, ?> header, Map<String, ?> claims, byte[] secret) {
    String javaName = "Hmac" + alg.replace("HS", "SHA");
    String signingInput = b64Json(header) + "." + b64Json(claims);
    try {
      Mac mac = Mac.getInstance(javaName);
      mac.init(new SecretKeySpec(secret, javaName));
      return signingInput
          + "."
          + b64(mac.doFinal(signingInput.getBytes(StandardCharsets.US_ASCII)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static String unsigned(Map<String, ?> header, Map<String, ?> claims) {
    return b64Json(header) + "." + b64Json(claims) + ".";
  }

  static String[] parts(String token) {
    return token.split("\\.", -1);
  }
}
