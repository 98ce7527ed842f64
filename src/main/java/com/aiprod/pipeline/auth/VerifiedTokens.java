package com.aiprod.pipeline.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.annotation.Nullable;

/**
 * The tokens this worker has verified, so that a token seen again (a redelivery, a client reusing
 * its token for several requests) costs a hash and a lookup instead of a signature check.
 *
 * <p>Keyed by the SHA-256 of the token, never the token; held in memory only (never logged nor
 * serialized); bounded ({@link #MAX_ENTRIES}, least recently used first out). An entry is used only
 * while its token is still within {@code exp} (and {@code iat}/{@code auth_time} are not in the
 * future) by the verifier's clock, and while the certificate document still holds the very key that
 * verified it: a key rotated out makes its tokens go through the full check again. Only successes
 * are kept.
 *
 * <p>Worker-lifetime state, one per {@link AuthConfig} (another project, issuer or key directory
 * never shares verdicts): like the certificate cache, a cache of keys and verdicts, no data between
 * stages.
 */
final class VerifiedTokens {
  static final int MAX_ENTRIES = 10_000;

  private static final Map<AuthConfig, VerifiedTokens> WORKER = new ConcurrentHashMap<>();

  /** A verified token's principal and what must still hold to reuse it. */
  record Verified(
      AuthResult principal, String kid, PublicKey key, long exp, long iat, long authTime) {}

  private final Map<String, Verified> entries =
      new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Verified> eldest) {
          return size() > MAX_ENTRIES;
        }
      };

  /** The verified tokens of verifiers configured as {@code config} on this worker. */
  static VerifiedTokens perWorker(AuthConfig config) {
    return WORKER.computeIfAbsent(config, c -> new VerifiedTokens());
  }

  /** The key of {@code token}: its SHA-256, hex. */
  static String keyOf(String token) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.US_ASCII));
      StringBuilder hex = new StringBuilder(64);
      for (byte b : digest) {
        hex.append(Character.forDigit((b >> 4) & 0xF, 16)).append(Character.forDigit(b & 0xF, 16));
      }
      return hex.toString();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  synchronized @Nullable Verified get(String key) {
    return entries.get(key);
  }

  synchronized void put(String key, Verified verified) {
    entries.put(key, verified);
  }

  synchronized void remove(String key) {
    entries.remove(key);
  }

  synchronized int size() {
    return entries.size();
  }
}
