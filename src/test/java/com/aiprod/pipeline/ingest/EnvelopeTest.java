package com.aiprod.pipeline.ingest;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EnvelopeTest {
  private static Envelope.Parsed line(String s) {
    return Envelope.parseLine(s.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void readsDataObjectAndAttributes() {
    Envelope.Parsed p =
        line(
            "{\"attributes\":{\"job_id\":\"abcdefgh\",\"authorization\":\"Bearer x.y.z\"},\"data\":{\"content\":\"hello there\"}}");
    assertThat(p.isOk(), is(true));
    assertThat(p.attributes.get("job_id"), equalTo("abcdefgh"));
    assertThat(
        new String(p.payload, StandardCharsets.UTF_8), equalTo("{\"content\":\"hello there\"}"));
  }

  @Test
  void readsDataB64() {
    String b64 =
        Base64.getEncoder().encodeToString("{\"content\":\"x\"}".getBytes(StandardCharsets.UTF_8));
    Envelope.Parsed p = line("{\"data_b64\":\"" + b64 + "\"}");
    assertThat(p.isOk(), is(true));
    assertThat(new String(p.payload, StandardCharsets.UTF_8), equalTo("{\"content\":\"x\"}"));
  }

  @Test
  void notJsonIsMalformed() {
    Envelope.Parsed p = line("{\"data\": {\"content\": \"cut off");
    assertThat(p.errorCode, equalTo("MALFORMED_JSON"));
  }

  @Test
  void jsonArrayLineIsMalformed() {
    assertThat(line("[1,2]").errorCode, equalTo("MALFORMED_JSON"));
  }

  @Test
  void bothOrNeitherDataIsMalformed() {
    assertThat(line("{\"attributes\":{}}").errorCode, equalTo("MALFORMED_JSON"));
    assertThat(line("{\"data\":{},\"data_b64\":\"e30=\"}").errorCode, equalTo("MALFORMED_JSON"));
  }

  @Test
  void nonStringAttributeIsMalformed() {
    assertThat(
        line("{\"attributes\":{\"job_id\":12345678},\"data\":{}}").errorCode,
        equalTo("MALFORMED_JSON"));
  }

  @Test
  void unknownEnvelopeMemberIsMalformed() {
    Envelope.Parsed p = line("{\"data\":{},\"extra\":1}");
    assertThat(p.errorCode, equalTo("MALFORMED_JSON"));
    assertThat(p.errorMessage, containsString("extra"));
  }

  @Test
  void base64BodyThatIsNotJsonIsMalformed() {
    String b64 = Base64.getEncoder().encodeToString("not json".getBytes(StandardCharsets.UTF_8));
    assertThat(line("{\"data_b64\":\"" + b64 + "\"}").errorCode, equalTo("MALFORMED_JSON"));
  }

  @Test
  void invalidBase64IsMalformed() {
    assertThat(line("{\"data_b64\":\"%%%\"}").errorCode, equalTo("MALFORMED_JSON"));
  }

  @Test
  void invalidUtf8BodyIsMalformed() {
    byte[] bad = {(byte) 0xC3, (byte) 0x28};
    assertThat(Envelope.checkPayload(Map.of(), bad).errorCode, equalTo("MALFORMED_JSON"));
  }

  @Test
  void bodyOver64KibIsTooLarge() {
    byte[] big =
        ("{\"content\":\"" + "a".repeat(Envelope.MAX_PAYLOAD_BYTES) + "\"}")
            .getBytes(StandardCharsets.UTF_8);
    Envelope.Parsed p = Envelope.checkPayload(Map.of(), big);
    assertThat(p.errorCode, equalTo("PAYLOAD_TOO_LARGE"));
    assertThat(p.errorMessage, containsString("65536"));
  }

  @Test
  void bodyOfExactly64KibIsAccepted() {
    String prefix = "{\"content\":\"";
    String suffix = "\"}";
    String body =
        prefix
            + "a".repeat(Envelope.MAX_PAYLOAD_BYTES - prefix.length() - suffix.length())
            + suffix;
    assertThat(
        Envelope.checkPayload(Map.of(), body.getBytes(StandardCharsets.UTF_8)).isOk(), is(true));
  }

  @Test
  void lineOverLimitIsTooLarge() {
    assertThat(
        Envelope.parseLine(new byte[Envelope.MAX_LINE_BYTES + 1]).errorCode,
        equalTo("PAYLOAD_TOO_LARGE"));
  }

  @Test
  void trailingGarbageIsMalformed() {
    assertThat(
        Envelope.checkPayload(Map.of(), "{\"a\":1} x".getBytes(StandardCharsets.UTF_8)).errorCode,
        equalTo("MALFORMED_JSON"));
  }

  @Test
  void errorMessagesNeverEchoTheToken() {
    String token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl";
    Envelope.Parsed p =
        line(
            "{\"attributes\":{\"authorization\":\"Bearer "
                + token
                + "\"},\"data\": "
                + token
                + "}");
    assertThat(p.errorCode, equalTo("MALFORMED_JSON"));
    assertThat(p.errorMessage, not(containsString("c2lnbmF0dXJl")));
    assertThat(p.errorMessage, not(containsString("eyJzdWIiOiJhIn0")));
  }

  @Test
  void missingAttributesAreEmpty() {
    Envelope.Parsed p = line("{\"data\":{\"content\":\"x\"}}");
    assertThat(p.isOk(), is(true));
    assertThat(p.attributes.isEmpty(), is(true));
    assertThat(p.errorMessage, nullValue());
  }
}
