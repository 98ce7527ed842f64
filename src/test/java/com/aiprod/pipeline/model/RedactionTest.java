package com.aiprod.pipeline.model;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;

import java.util.Map;
import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class RedactionTest {
  private static final String JWT =
      "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.eyJzdWIiOiJ1In0.QUJDREVGR0hJSktMTU5PUA";

  @Test
  void authorizationAttributeIsRedactedWhateverItsCase() {
    Map<String, String> out =
        Redaction.redactAttributes(Map.of("Authorization", "Bearer " + JWT, "job_id", "abcdefgh"));
    assertThat(out.get("Authorization"), equalTo(Redaction.REDACTED));
    assertThat(out.get("job_id"), equalTo("abcdefgh"));
  }

  @Test
  void jwtInTextIsMasked() {
    assertThat(Redaction.redactText("token " + JWT + " here"), equalTo("token [REDACTED] here"));
  }

  @Test
  void unsignedJwtIsMasked() {
    String none = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1In0.";
    assertThat(Redaction.redactText("x " + none), not(containsString("eyJzdWIiOiJ1In0")));
  }

  @Test
  void bearerCredentialIsMasked() {
    assertThat(
        Redaction.redactText("Authorization: Bearer opaque-secret-123"),
        not(containsString("opaque-secret-123")));
  }

  @Test
  void authorizationMemberInBrokenJsonIsMasked() {
    String broken =
        "{\"attributes\": {\"authorization\": \"raw-token-value\"}, \"data\": {\"content\": \"cut";
    String out = Redaction.redactText(broken);
    assertThat(out, not(containsString("raw-token-value")));
    assertThat(out, containsString("\"content\""));
  }

  @Test
  void ordinaryTextIsKept() {
    String s = "See docs.example.com for the harbour at dawn.";
    assertThat(Redaction.redactText(s), equalTo(s));
  }

  @Test
  void jwtAfterAnEyeyRunIsStillMasked() {
    String run = "eyey".repeat(5000);
    String out = Redaction.redactText(run + " " + JWT + " " + run + "." + run);
    assertThat(out, equalTo(run + " [REDACTED] " + run + "." + run));
  }

  @Test
  void aJwtInsideAnEyeyRunIsMaskedFromItsFirstEy() {
    // The header segment starts at the first "ey" of the run: the whole run is the header.
    String out = Redaction.redactText("xx" + "eyey".repeat(100) + ".abc.def ok");
    assertThat(out, equalTo("xx[REDACTED] ok"));
  }

  @Test
  void bearerWithoutACredentialIsKept() {
    String s = "Bearer      \"" + "Bearer ".repeat(1000).trim() + "\"";
    assertThat(
        Redaction.redactText(s),
        equalTo("Bearer      \"" + "Bearer [REDACTED] ".repeat(500).trim() + "\""));
    assertThat(Redaction.redactText("bearer\t\n'x'"), equalTo("bearer\t\n'x'"));
    assertThat(Redaction.redactText("BeArEr\tabc,rest"), equalTo("Bearer [REDACTED],rest"));
  }

  @Test
  void authorizationMemberValueEndsAtItsQuoteOrAnEscapedLineBreak() {
    assertThat(
        Redaction.redactText("{\"X-Authorization-Token\" :\t\"a\\\"b\", \"k\": \"v\"}"),
        equalTo("{\"X-Authorization-Token\" :\t\"[REDACTED]\", \"k\": \"v\"}"));
    assertThat(
        Redaction.redactText("\"authorization\":\"abc\\\ndef\""),
        equalTo("\"authorization\":\"[REDACTED]\"\\\ndef\""));
    assertThat(
        Redaction.redactText("\"x\" \"authorization\":\"secret"),
        equalTo("\"x\" \"authorization\":\"[REDACTED]\""));
  }

  /** The patterns the scanner replaced, applied the same way: the reference on small inputs. */
  private static final Pattern REF_JWT =
      Pattern.compile("ey[A-Za-z0-9_-]{2,}\\.[A-Za-z0-9_-]{2,}\\.[A-Za-z0-9_-]*");

  private static final Pattern REF_AUTH_MEMBER =
      Pattern.compile("(?i)(\"[^\"]*authorization[^\"]*\"\\s*:\\s*)\"(?:[^\"\\\\]|\\\\.)*\"?");

  private static final Pattern REF_BEARER = Pattern.compile("(?i)bearer\\s+[^\\s\"',}]+");

  private static String reference(String text) {
    String out = REF_AUTH_MEMBER.matcher(text).replaceAll("$1\"" + Redaction.REDACTED + "\"");
    out = REF_BEARER.matcher(out).replaceAll("Bearer " + Redaction.REDACTED);
    return REF_JWT.matcher(out).replaceAll(Redaction.REDACTED);
  }

  @Test
  void sameResultsAsThePatternsOnRandomText() {
    String[] pieces = {
      "e",
      "y",
      "ey",
      "eY",
      "E",
      ".",
      "..",
      "ab",
      "A",
      "-",
      "_",
      "9",
      "\"",
      "\\",
      ":",
      " ",
      "\t",
      "\n",
      "\r",
      "\u2028",
      "'",
      ",",
      "}",
      "{",
      "bearer",
      "BEARER ",
      "Bearer\t",
      "authorization",
      "AUTHORIZATION",
      "autho",
      "\"authorization\"",
      "é",
      "\u0130",
      "x"
    };
    Random random = new Random(11);
    for (int round = 0; round < 50_000; round++) {
      StringBuilder b = new StringBuilder();
      int count = random.nextInt(14);
      for (int k = 0; k < count; k++) {
        b.append(pieces[random.nextInt(pieces.length)]);
      }
      String text = b.toString();
      assertThat(text, Redaction.redactText(text), equalTo(reference(text)));
    }
  }

  @Test
  void sameResultsAsThePatternsOnRandomJwtShapedText() {
    String[] pieces = {"e", "y", "ey", "eyA", "eyAB.", "AB", "A", "-", "_", ".", ".", " ", "é"};
    Random random = new Random(12);
    int masked = 0;
    for (int round = 0; round < 50_000; round++) {
      StringBuilder b = new StringBuilder();
      int count = 3 + random.nextInt(12);
      for (int k = 0; k < count; k++) {
        b.append(pieces[random.nextInt(pieces.length)]);
      }
      String text = b.toString();
      String out = Redaction.redactText(text);
      assertThat(text, out, equalTo(reference(text)));
      if (!out.equals(text)) {
        masked++;
      }
    }
    assertThat("inputs with a JWT-shaped part: " + masked, masked > 5_000, equalTo(true));
  }

  @Test
  void sameResultsAsThePatternsOnTokenShapedText() {
    String[] samples = {
      JWT,
      "Bearer " + JWT,
      "{\"authorization\": \"Bearer " + JWT + "\"}",
      "a.eyJh.bc.d eyAB.CD.EF eyAB.C.EF ey.ab.cd eyab..cd",
      "header eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1In0. tail",
      "Authorization: bearer abc.def Bearer\n\"x\" bearer 'y' bearerZ bearer",
      "\"Authorization\"\n:\n\"v\\\"w\\\\\" after \"authorization\":1 \"authorization\":\"",
    };
    for (String text : samples) {
      assertThat(text, Redaction.redactText(text), equalTo(reference(text)));
    }
  }
}
