package com.aiprod.pipeline.model;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Keeps tokens out of everything the pipeline stores or logs: the {@code authorization} attribute
 * is replaced, and anything shaped like a JWT or a bearer credential inside free text is masked.
 */
public final class Redaction {
  public static final String REDACTED = "[REDACTED]";
  public static final String AUTHORIZATION = "authorization";

  /**
   * Three base64url segments whose header starts like a base64url JSON object ({@code ey}): a JWT,
   * signed or not.
   */
  private static final Pattern JWT =
      Pattern.compile("ey[A-Za-z0-9_-]{2,}\\.[A-Za-z0-9_-]{2,}\\.[A-Za-z0-9_-]*");

  /** An authorization member inside (possibly broken) JSON text. */
  private static final Pattern AUTH_MEMBER =
      Pattern.compile("(?i)(\"[^\"]*authorization[^\"]*\"\\s*:\\s*)\"(?:[^\"\\\\]|\\\\.)*\"?");

  private static final Pattern BEARER = Pattern.compile("(?i)bearer\\s+[^\\s\"',}]+");

  private Redaction() {}

  /** A copy of the attributes with any authorization value (any case of the key) redacted. */
  public static Map<String, String> redactAttributes(Map<String, String> attributes) {
    Map<String, String> out = new TreeMap<>();
    for (Map.Entry<String, String> e : attributes.entrySet()) {
      String key = e.getKey();
      if (key.toLowerCase(Locale.ROOT).contains(AUTHORIZATION)) {
        out.put(key, REDACTED);
      } else {
        out.put(key, redactText(e.getValue()));
      }
    }
    return out;
  }

  /** Masks JWT-shaped and {@code Bearer ...} substrings. Null stays null. */
  public static String redactText(String text) {
    if (text == null) {
      return null;
    }
    String out = AUTH_MEMBER.matcher(text).replaceAll("$1\"" + REDACTED + "\"");
    out = BEARER.matcher(out).replaceAll("Bearer " + REDACTED);
    return JWT.matcher(out).replaceAll(REDACTED);
  }
}
