package com.aiprod.pipeline.ingest;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The worst single messages we know of for the stages a message crosses before it becomes a dead
 * letter or a job (ReadRequests, Authenticate, Validate, dead-letter building), each as a batch
 * JSONL line with the outcome it must get.
 */
final class HostileInputs {
  static final ObjectMapper JSON = new ObjectMapper();
  static final int KIB64 = Envelope.MAX_PAYLOAD_BYTES;

  /** One hostile line: its name, the line, and the outcome (a dead-letter code or REJECTED). */
  record Case(String name, byte[] line, String outcome) {
    String text() {
      return new String(line, StandardCharsets.UTF_8);
    }
  }

  private HostileInputs() {}

  static String repeatTo(String unit, int length) {
    StringBuilder b = new StringBuilder(length + unit.length());
    while (b.length() < length) {
      b.append(unit);
    }
    return b.substring(0, length);
  }

  static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  static String b64url(String s) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  /** {"attributes": attributes, "data_b64": base64(body)}. */
  static byte[] rawLine(Map<String, String> attributes, String body) {
    return line(attributes, "\"data_b64\":\"" + b64(body) + "\"");
  }

  /** {"attributes": attributes, "data": body} with body written as is (any JSON text). */
  static byte[] jsonLine(Map<String, String> attributes, String bodyJson) {
    return line(attributes, "\"data\":" + bodyJson);
  }

  private static byte[] line(Map<String, String> attributes, String dataMember) {
    try {
      return ("{\"attributes\":" + JSON.writeValueAsString(attributes) + "," + dataMember + "}")
          .getBytes(StandardCharsets.UTF_8);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static Map<String, String> auth(String authorization) {
    Map<String, String> a = new LinkedHashMap<>();
    a.put("authorization", authorization);
    return a;
  }

  /** A body of valid fields whose content is {@code content} (a JSON string literal's inside). */
  static String body(String contentJsonEscaped, String more) {
    return "{\"content\":\"" + contentJsonEscaped + "\",\"mode\":\"preview\"" + more + "}";
  }

  static final String GOOD_CONTENT = "A lighthouse at dawn. Waves crash on the rocks.";

  /** Every case; {@code token} is a valid token (without "Bearer "). */
  static List<Case> all(String token) {
    Map<String, String> ok = auth("Bearer " + token);
    List<Case> c = new ArrayList<>();
    // Redaction's worst inputs as raw (not JSON) bodies: dead letters whose payload is redacted.
    c.add(
        new Case(
            "64 KiB of eyey… (not JSON)", rawLine(ok, repeatTo("ey", KIB64)), "MALFORMED_JSON"));
    c.add(
        new Case(
            "64 KiB of ey.ey. (not JSON)", rawLine(ok, repeatTo("ey.", KIB64)), "MALFORMED_JSON"));
    c.add(
        new Case(
            "64 KiB of eyAA.eyAA. (not JSON)",
            rawLine(ok, repeatTo("eyAA.", KIB64)),
            "MALFORMED_JSON"));
    c.add(
        new Case(
            "64 KiB of Bearer Bearer … (not JSON)",
            rawLine(ok, repeatTo("Bearer ", KIB64)),
            "MALFORMED_JSON"));
    c.add(
        new Case(
            "64 KiB of \"authorization\":\" (not JSON)",
            rawLine(ok, repeatTo("\"authorization", KIB64)),
            "MALFORMED_JSON"));
    c.add(
        new Case(
            "eyey… content, 64 KiB JSON",
            jsonLine(ok, body(repeatTo("ey", KIB64 - 40), "")),
            "REJECTED"));
    // Tokens.
    c.add(
        new Case(
            "authorization: Bearer ×9,000",
            rawLine(auth(repeatTo("Bearer ", 63_000)), body(GOOD_CONTENT, "")),
            "AUTH_INVALID"));
    c.add(
        new Case(
            "authorization: Bearer + 8 KiB of eyey…",
            rawLine(auth("Bearer " + repeatTo("ey", 8192)), body(GOOD_CONTENT, "")),
            "AUTH_INVALID"));
    c.add(
        new Case(
            "authorization: Bearer + 8 KiB of ey.ey.",
            rawLine(auth("Bearer " + repeatTo("ey.", 8192)), body(GOOD_CONTENT, "")),
            "AUTH_INVALID"));
    c.add(
        new Case(
            "token: header and payload 3,000 [ deep",
            rawLine(
                auth(
                    "Bearer "
                        + b64url(repeatTo("[", 3000))
                        + "."
                        + b64url(repeatTo("[", 3000))
                        + ".c2ln"),
                body(GOOD_CONTENT, "")),
            "AUTH_INVALID"));
    c.add(
        new Case(
            "token: RS256 header, payload 6 KiB of nested sub objects",
            rawLine(
                auth(
                    "Bearer "
                        + b64url("{\"alg\":\"RS256\",\"kid\":\"nope\"}")
                        + "."
                        + b64url(repeatTo("{\"sub\":", 6000))
                        + ".c2ln"),
                body(GOOD_CONTENT, "")),
            "AUTH_INVALID"));
    c.add(
        new Case(
            "token: 10,000-digit exp, huge string claims (unsigned)",
            rawLine(
                auth(
                    "Bearer "
                        + b64url("{\"alg\":\"none\"}")
                        + "."
                        + b64url(
                            "{\"sub\":\""
                                + repeatTo("\\u0041", 3000)
                                + "\",\"exp\":"
                                + repeatTo("9", 2000)
                                + "}")
                        + "."),
                body(GOOD_CONTENT, "")),
            "AUTH_INVALID"));
    // Envelope and JSON shape.
    c.add(
        new Case(
            "256 KiB line of eyey…",
            repeatTo("ey", Envelope.MAX_LINE_BYTES).getBytes(StandardCharsets.UTF_8),
            "MALFORMED_JSON"));
    c.add(
        new Case(
            "line over 256 KiB",
            repeatTo("ey", Envelope.MAX_LINE_BYTES + 1).getBytes(StandardCharsets.UTF_8),
            "PAYLOAD_TOO_LARGE"));
    c.add(
        new Case(
            "body of 64 KiB + 1 byte",
            rawLine(ok, repeatTo("ey", KIB64 + 1)),
            "PAYLOAD_TOO_LARGE"));
    c.add(new Case("10,000 [ as the body", rawLine(ok, repeatTo("[", 10_000)), "MALFORMED_JSON"));
    c.add(
        new Case(
            "60,000 [ as the body", rawLine(ok, repeatTo("[", KIB64 - 100)), "MALFORMED_JSON"));
    c.add(
        new Case(
            "10,000 [ inside the line's data",
            jsonLine(ok, repeatTo("[", 10_000)),
            "MALFORMED_JSON"));
    c.add(
        new Case(
            "900-deep array body (closed)",
            rawLine(ok, repeatTo("[", 900) + repeatTo("]", 900)),
            "MALFORMED_JSON"));
    c.add(
        new Case(
            "60-deep array body (closed)",
            rawLine(ok, repeatTo("[", 60) + repeatTo("]", 60)),
            "REJECTED"));
    c.add(
        new Case(
            "900-deep objects with duplicate keys",
            rawLine(
                ok,
                "{\"content\":\""
                    + GOOD_CONTENT
                    + "\",\"preferences\":"
                    + repeatTo("{\"a\":1,\"a\":", 900 * 12)
                    + "1"
                    + repeatTo("}", 900)
                    + "}"),
            "MALFORMED_JSON"));
    Map<String, String> many = new LinkedHashMap<>(ok);
    for (int i = 0; many.size() < 10_000; i++) {
      many.put("a" + i, "eyJ" + i);
    }
    c.add(new Case("10,000 attributes", rawLine(many, body(GOOD_CONTENT, "")), "MALFORMED_JSON"));
    c.add(
        new Case(
            "5,000-digit number",
            rawLine(ok, body(GOOD_CONTENT, ",\"budget_usd\":" + repeatTo("9", 5000))),
            "MALFORMED_JSON"));
    c.add(
        new Case(
            "99-digit numbers and 1e999999999",
            rawLine(
                ok,
                body(
                    GOOD_CONTENT,
                    ",\"budget_usd\":1e999999999,\"duration_sec\":"
                        + repeatTo("9", 99)
                        + ",\"preferences\":{\"fps\":0."
                        + repeatTo("0", 90)
                        + "1}")),
            "REJECTED"));
    c.add(
        new Case(
            "10,900 \\u escapes of combining marks",
            rawLine(ok, body(repeatTo("\\u0301\\u0316", 6 * 10_900), "")),
            "REJECTED"));
    c.add(
        new Case(
            "32,000 raw combining marks of alternating classes",
            rawLine(ok, body("e" + repeatTo("\u0301\u0316", 32_000), "")),
            "REJECTED"));
    c.add(
        new Case(
            "10,000 combining marks after a letter (valid length)",
            rawLine(ok, body("Waves e" + repeatTo("\u0316\u0301", 9_980), "")),
            "REJECTED"));
    StringBuilder fields = new StringBuilder("{\"content\":\"" + GOOD_CONTENT + "\"");
    for (int i = 0; fields.length() < KIB64 - 20; i++) {
      fields.append(",\"f").append(i).append("\":0");
    }
    c.add(new Case("8,000 unknown fields", rawLine(ok, fields.append('}').toString()), "REJECTED"));
    c.add(
        new Case(
            "6,000 duplicate content keys",
            rawLine(
                ok,
                "{"
                    + repeatTo("\"content\":\"" + GOOD_CONTENT + "\",", KIB64 - 200)
                    + "\"mode\":1}"),
            "MALFORMED_JSON"));
    c.add(
        new Case(
            "60 KiB field name",
            rawLine(ok, "{\"" + repeatTo("durationsec", KIB64 - 100) + "\":1}"),
            "REJECTED"));
    return c;
  }
}
