package com.aiprod.pipeline.audit;

import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.secrets.ResolvedSecret;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;
import javax.annotation.Nullable;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The signature of an audit row (DESIGN §9; defined in docs/ARCHITECTURE.md "Signed audit"): {@code
 * v1:<key version>:<base64 HMAC-SHA256(key, UTF-8 canonical JSON)>}, where the key is secret
 * {@value #KEY_SECRET} (its text, surrounding whitespace removed, as UTF-8 bytes) and the canonical
 * JSON is {@link #canonical}.
 */
public final class AuditSignatures {
  public static final String KEY_SECRET = "audit-hmac-key";
  public static final String PREFIX = "v1";
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final double EXACT_INTEGER_LIMIT = 9007199254740992d; // 2^53

  private AuditSignatures() {}

  /** The canonical JSON of an event (every column of audit_events but {@code signature}). */
  public static String canonical(AuditEvent e) {
    return canonical(
        e.getEventId(),
        e.getEventTimeMillis(),
        e.getEventType(),
        e.getEnvironment(),
        e.getService(),
        e.getTenant(),
        e.getUserId(),
        e.getAction(),
        e.getResource(),
        e.getStatus(),
        e.getJobId(),
        e.getMessageId(),
        e.getDetails());
  }

  /**
   * The canonical JSON of a row: one object with the 13 columns as keys in this (lexicographic)
   * order — action, details, environment, event_id, event_time, event_type, job_id, message_id,
   * resource, service, status, tenant, user_id — every key present, SQL NULL as JSON null,
   * event_time as integer epoch milliseconds, details as its parsed JSON value re-serialized
   * canonically ({@link #canonicalJson}); no whitespace; strings with JSON escapes for {@code "},
   * {@code \} and control characters only, everything else as UTF-8.
   *
   * @throws IllegalArgumentException if {@code details} is not JSON
   */
  public static String canonical(
      String eventId,
      long eventTimeMillis,
      String eventType,
      String environment,
      String service,
      @Nullable String tenant,
      @Nullable String userId,
      String action,
      @Nullable String resource,
      String status,
      @Nullable String jobId,
      @Nullable String messageId,
      @Nullable String details) {
    ObjectNode o = NODES.objectNode();
    o.put("action", action);
    o.set("details", details == null ? NODES.nullNode() : canonicalNode(parse(details)));
    o.put("environment", environment);
    o.put("event_id", eventId);
    o.put("event_time", eventTimeMillis);
    o.put("event_type", eventType);
    o.put("job_id", jobId);
    o.put("message_id", messageId);
    o.put("resource", resource);
    o.put("service", service);
    o.put("status", status);
    o.put("tenant", tenant);
    o.put("user_id", userId);
    return write(o);
  }

  /**
   * A JSON text in canonical form: object keys sorted by UTF-16 code units, recursively; numbers
   * that are integral and within ±2^53 as plain integers, other numbers as Java's {@code
   * Double.toString}; no whitespace. Stable across DuckDB's and BigQuery's JSON storage.
   */
  public static String canonicalJson(String json) {
    return write(canonicalNode(parse(json)));
  }

  /** The event with its signature set. */
  public static AuditEvent sign(AuditEvent e, ResolvedSecret key) {
    return e.toBuilder().setSignature(signature(canonical(e), key)).build();
  }

  /** {@code v1:<key version>:<base64 HMAC>} of a canonical text. */
  public static String signature(String canonical, ResolvedSecret key) {
    return PREFIX
        + ":"
        + key.version()
        + ":"
        + Base64.getEncoder().encodeToString(hmac(canonical, key));
  }

  /** The key version a signature names, or null if it is not a {@code v1:} signature. */
  public static @Nullable String keyVersion(@Nullable String signature) {
    if (signature == null) {
      return null;
    }
    String[] parts = signature.split(":", -1);
    return parts.length == 3 && PREFIX.equals(parts[0]) && !parts[1].isEmpty() ? parts[1] : null;
  }

  /** Whether {@code signature} is the signature of {@code canonical} under {@code key}. */
  public static boolean matches(String canonical, @Nullable String signature, ResolvedSecret key) {
    if (signature == null) {
      return false;
    }
    byte[] expected = signature(canonical, key).getBytes(StandardCharsets.UTF_8);
    return MessageDigest.isEqual(expected, signature.getBytes(StandardCharsets.UTF_8));
  }

  private static byte[] hmac(String canonical, ResolvedSecret key) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      byte[] k = key.text().getBytes(StandardCharsets.UTF_8);
      if (k.length == 0) {
        throw new IllegalStateException(
            "Secret " + key.name() + " version " + key.version() + " is empty");
      }
      mac.init(new SecretKeySpec(k, "HmacSHA256"));
      return mac.doFinal(canonical.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("HMAC-SHA256 unavailable", e);
    }
  }

  private static JsonNode parse(String json) {
    try {
      JsonNode n = MAPPER.readTree(json);
      if (n == null || n.isMissingNode()) {
        throw new IllegalArgumentException("details is empty, not JSON");
      }
      return n;
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("details is not JSON: " + e.getOriginalMessage());
    }
  }

  private static JsonNode canonicalNode(JsonNode n) {
    if (n.isObject()) {
      TreeMap<String, JsonNode> sorted = new TreeMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> f = it.next();
        sorted.put(f.getKey(), canonicalNode(f.getValue()));
      }
      ObjectNode o = NODES.objectNode();
      sorted.forEach(o::set);
      return o;
    }
    if (n.isArray()) {
      ArrayNode a = NODES.arrayNode();
      n.forEach(x -> a.add(canonicalNode(x)));
      return a;
    }
    if (n.isNumber()) {
      double d = n.doubleValue();
      if (n.isIntegralNumber()
          && n.canConvertToLong()
          && Math.abs((double) n.longValue()) <= EXACT_INTEGER_LIMIT) {
        return NODES.numberNode(n.longValue());
      }
      if (!Double.isInfinite(d) && d == Math.rint(d) && Math.abs(d) <= EXACT_INTEGER_LIMIT) {
        return NODES.numberNode((long) d);
      }
      return NODES.numberNode(d);
    }
    return n;
  }

  private static String write(JsonNode n) {
    try {
      return MAPPER.writeValueAsString(n);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
