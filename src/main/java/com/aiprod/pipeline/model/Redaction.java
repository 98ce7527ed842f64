package com.aiprod.pipeline.model;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Keeps tokens out of everything the pipeline stores or logs: the {@code authorization} attribute
 * is replaced, and anything shaped like a JWT or a bearer credential inside free text is masked.
 *
 * <p>The text is scanned by hand in three linear passes (no regular expression: the equivalent
 * patterns backtrack quadratically on {@code eyey…}). Each pass masks the same substrings as the
 * pattern in its javadoc, applied with {@code replaceAll} in this order.
 */
public final class Redaction {
  public static final String REDACTED = "[REDACTED]";
  public static final String AUTHORIZATION = "authorization";

  private static final String BEARER = "bearer";

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
    return maskJwts(maskBearers(maskAuthorizationMembers(text)));
  }

  /**
   * {@code (?i)("[^"]*authorization[^"]*"\s*:\s*)"(?:[^"\\]|\\.)*"?} → {@code $1"[REDACTED]"}: an
   * authorization member inside (possibly broken) JSON text.
   */
  static String maskAuthorizationMembers(String s) {
    int n = s.length();
    StringBuilder out = null;
    int copied = 0;
    int i = s.indexOf('"');
    while (i >= 0) {
      int keyEnd = s.indexOf('"', i + 1);
      if (keyEnd < 0) {
        break;
      }
      if (containsIgnoreAsciiCase(s, i + 1, keyEnd, AUTHORIZATION)) {
        int j = skipWhitespace(s, keyEnd + 1);
        if (j < n && s.charAt(j) == ':') {
          j = skipWhitespace(s, j + 1);
          if (j < n && s.charAt(j) == '"') {
            int end = endOfStringValue(s, j + 1);
            if (out == null) {
              out = new StringBuilder(n);
            }
            out.append(s, copied, j).append('"').append(REDACTED).append('"');
            copied = end;
            i = end < n ? s.indexOf('"', end) : -1;
            continue;
          }
        }
      }
      i = keyEnd; // the closing quote of this key may open the next one
    }
    return out == null ? s : out.append(s, copied, n).toString();
  }

  /**
   * The end of {@code (?:[^"\\]|\\.)*"?} from {@code from}: an escape never takes a line
   * terminator, as {@code .} does not.
   */
  private static int endOfStringValue(String s, int from) {
    int n = s.length();
    int k = from;
    while (k < n) {
      char c = s.charAt(k);
      if (c == '"') {
        return k + 1;
      }
      if (c == '\\') {
        if (k + 1 < n && !isLineTerminator(s.charAt(k + 1))) {
          k += 2;
          continue;
        }
        return k;
      }
      k++;
    }
    return k;
  }

  /** {@code (?i)bearer\s+[^\s"',}]+} → {@code Bearer [REDACTED]}. */
  static String maskBearers(String s) {
    int n = s.length();
    StringBuilder out = null;
    int copied = 0;
    int i = 0;
    while (i + BEARER.length() < n) {
      if (!regionIsIgnoreAsciiCase(s, i, BEARER)) {
        i++;
        continue;
      }
      int spaceEnd = skipWhitespace(s, i + BEARER.length());
      if (spaceEnd == i + BEARER.length()) {
        i++;
        continue;
      }
      int end = spaceEnd;
      while (end < n && isCredentialChar(s.charAt(end))) {
        end++;
      }
      if (end == spaceEnd) {
        // No credential after the white space; no later match can start inside it.
        i = spaceEnd;
        continue;
      }
      if (out == null) {
        out = new StringBuilder(n);
      }
      out.append(s, copied, i).append("Bearer ").append(REDACTED);
      copied = end;
      i = end;
    }
    return out == null ? s : out.append(s, copied, n).toString();
  }

  /**
   * {@code ey[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*} → {@code [REDACTED]}: three
   * base64url segments whose header starts like a base64url JSON object ({@code ey}), a JWT signed
   * or not.
   */
  static String maskJwts(String s) {
    int n = s.length();
    StringBuilder out = null;
    int copied = 0;
    int i = 0;
    // The base64url run that contains i, [runStart, runEnd), and where a JWT whose header ends
    // with that run would end (-1 if the run is not followed by ".xx.").
    int runEnd = 0;
    int tailEnd = -1;
    while (i + 1 < n) {
      if (s.charAt(i) != 'e' || s.charAt(i + 1) != 'y') {
        i++;
        continue;
      }
      if (runEnd <= i) {
        // Every "ey" of one run ends its header at the same place: the run and what follows it
        // are scanned once, not once per "ey" (that made the pattern quadratic on "eyey…").
        runEnd = endOfSegment(s, i);
        tailEnd = tailEnd(s, runEnd);
      }
      if (tailEnd < 0 || runEnd - (i + 2) < 2) {
        i = runEnd; // no later "ey" of this run can match either
        continue;
      }
      if (out == null) {
        out = new StringBuilder(n);
      }
      out.append(s, copied, i).append(REDACTED);
      copied = tailEnd;
      i = tailEnd;
    }
    return out == null ? s : out.append(s, copied, n).toString();
  }

  /**
   * The end of {@code \.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*} at {@code at} (the end of a JWT's
   * header), or -1.
   */
  private static int tailEnd(String s, int at) {
    int n = s.length();
    if (at >= n || s.charAt(at) != '.') {
      return -1;
    }
    int payloadEnd = endOfSegment(s, at + 1);
    if (payloadEnd - (at + 1) < 2 || payloadEnd >= n || s.charAt(payloadEnd) != '.') {
      return -1;
    }
    return endOfSegment(s, payloadEnd + 1);
  }

  private static int endOfSegment(String s, int from) {
    int k = from;
    while (k < s.length() && isBase64Url(s.charAt(k))) {
      k++;
    }
    return k;
  }

  private static boolean isBase64Url(char c) {
    return (c >= 'A' && c <= 'Z')
        || (c >= 'a' && c <= 'z')
        || (c >= '0' && c <= '9')
        || c == '_'
        || c == '-';
  }

  /** Not {@code [\s"',}]}. */
  private static boolean isCredentialChar(char c) {
    return !isWhitespace(c) && c != '"' && c != '\'' && c != ',' && c != '}';
  }

  /** {@code \s} of java.util.regex: {@code [ \t\n\x0B\f\r]}. */
  private static boolean isWhitespace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == 0x0B || c == '\f' || c == '\r';
  }

  /** The characters {@code .} does not match. */
  private static boolean isLineTerminator(char c) {
    return c == '\n' || c == '\r' || c == '\u0085' || c == '\u2028' || c == '\u2029';
  }

  private static int skipWhitespace(String s, int from) {
    int k = from;
    while (k < s.length() && isWhitespace(s.charAt(k))) {
      k++;
    }
    return k;
  }

  private static char lowerAscii(char c) {
    return c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c;
  }

  /** {@code word} (lower case ASCII) at {@code at}, ignoring ASCII case only. */
  private static boolean regionIsIgnoreAsciiCase(String s, int at, String word) {
    if (at + word.length() > s.length()) {
      return false;
    }
    for (int k = 0; k < word.length(); k++) {
      if (lowerAscii(s.charAt(at + k)) != word.charAt(k)) {
        return false;
      }
    }
    return true;
  }

  private static boolean containsIgnoreAsciiCase(String s, int from, int to, String word) {
    for (int k = from; k + word.length() <= to; k++) {
      if (regionIsIgnoreAsciiCase(s, k, word)) {
        return true;
      }
    }
    return false;
  }
}
