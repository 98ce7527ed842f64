package com.aiprod.pipeline.ingest;

import com.aiprod.pipeline.model.ReasonCode;
import com.aiprod.pipeline.model.Redaction;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Reads the request envelope of DESIGN §2: a batch JSONL line {@code {"attributes":{...},
 * "data":{...}}} (or {@code "data_b64"}), or a Pub/Sub message's data and attributes. Size limits
 * and JSON well-formedness are checked here; the body's rules are Validate's.
 */
public final class Envelope {
  /** DESIGN §2: the request body is at most 64 KiB. */
  public static final int MAX_PAYLOAD_BYTES = 64 * 1024;

  /** A batch line may carry a 64 KiB body as base64 plus attributes. */
  public static final int MAX_LINE_BYTES = 256 * 1024;

  /** Pub/Sub's own limit: a batch line may not carry more attributes than a message can. */
  public static final int MAX_ATTRIBUTES = 100;

  /**
   * Explicit parser limits, whatever Jackson's defaults: a request is 2 levels deep inside a line's
   * 2, and no field needs a number of more than a few digits.
   */
  static final StreamReadConstraints CONSTRAINTS =
      StreamReadConstraints.builder()
          .maxNestingDepth(64)
          .maxNumberLength(100)
          .maxStringLength(MAX_LINE_BYTES)
          .build();

  private static final Set<String> ENVELOPE_MEMBERS = Set.of("attributes", "data", "data_b64");
  private static final ObjectMapper MAPPER =
      new ObjectMapper(JsonFactory.builder().streamReadConstraints(CONSTRAINTS).build())
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private Envelope() {}

  /** The parts of one message, or why it cannot be read. */
  public static final class Parsed {
    public final Map<String, String> attributes;
    public final byte[] payload;
    public final String errorCode;
    public final String errorMessage;

    private Parsed(Map<String, String> attributes, byte[] payload, String code, String message) {
      this.attributes = attributes;
      this.payload = payload;
      this.errorCode = code;
      this.errorMessage = message;
    }

    static Parsed ok(Map<String, String> attributes, byte[] payload) {
      return new Parsed(attributes, payload, null, null);
    }

    static Parsed error(Map<String, String> attributes, ReasonCode code, String message) {
      return new Parsed(attributes, null, code.name(), message);
    }

    public boolean isOk() {
      return errorCode == null;
    }
  }

  /** Parses one batch line (its raw bytes, without the line terminator). */
  public static Parsed parseLine(byte[] line) {
    if (line.length > MAX_LINE_BYTES) {
      return Parsed.error(
          Map.of(),
          ReasonCode.PAYLOAD_TOO_LARGE,
          "input line is "
              + line.length
              + " bytes; the limit is "
              + MAX_LINE_BYTES
              + " bytes per line and "
              + MAX_PAYLOAD_BYTES
              + " bytes per request body");
    }
    String text;
    try {
      text = decodeUtf8(line);
    } catch (CharacterCodingException e) {
      return Parsed.error(Map.of(), ReasonCode.MALFORMED_JSON, "input line is not valid UTF-8");
    }
    JsonNode root;
    try {
      root = MAPPER.readTree(text);
    } catch (JsonProcessingException e) {
      return Parsed.error(
          Map.of(),
          ReasonCode.MALFORMED_JSON,
          "input line is not valid JSON ("
              + describe(e)
              + "); each line must be {\"attributes\":{...},\"data\":{...}}");
    }
    if (root == null || !root.isObject()) {
      return Parsed.error(
          Map.of(),
          ReasonCode.MALFORMED_JSON,
          "input line must be a JSON object {\"attributes\":{...},\"data\":{...}}");
    }
    for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
      String name = it.next();
      if (!ENVELOPE_MEMBERS.contains(name)) {
        return Parsed.error(
            Map.of(),
            ReasonCode.MALFORMED_JSON,
            "unknown envelope member '"
                + Redaction.redactText(truncate(name, 64))
                + "'; allowed: attributes, data, data_b64");
      }
    }
    Map<String, String> attributes = new TreeMap<>();
    JsonNode attrs = root.get("attributes");
    if (attrs != null && !attrs.isNull()) {
      if (!attrs.isObject()) {
        return Parsed.error(
            Map.of(),
            ReasonCode.MALFORMED_JSON,
            "envelope 'attributes' must be an object of strings");
      }
      if (attrs.size() > MAX_ATTRIBUTES) {
        return Parsed.error(
            Map.of(),
            ReasonCode.MALFORMED_JSON,
            "envelope has "
                + attrs.size()
                + " attributes; at most "
                + MAX_ATTRIBUTES
                + " (as a Pub/Sub message)");
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = attrs.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (!e.getValue().isTextual()) {
          return Parsed.error(
              Map.of(),
              ReasonCode.MALFORMED_JSON,
              "attribute '" + truncate(e.getKey(), 64) + "' must be a string");
        }
        attributes.put(e.getKey(), e.getValue().asText());
      }
    }
    JsonNode data = root.get("data");
    JsonNode dataB64 = root.get("data_b64");
    if ((data == null) == (dataB64 == null)) {
      return Parsed.error(
          attributes,
          ReasonCode.MALFORMED_JSON,
          "envelope needs exactly one of 'data' (the JSON request) or 'data_b64' (base64 bytes)");
    }
    byte[] payload;
    if (data != null) {
      try {
        payload = MAPPER.writeValueAsBytes(data);
      } catch (JsonProcessingException e) {
        return Parsed.error(attributes, ReasonCode.MALFORMED_JSON, "data could not be re-encoded");
      }
    } else {
      if (!dataB64.isTextual()) {
        return Parsed.error(
            attributes, ReasonCode.MALFORMED_JSON, "'data_b64' must be a base64 string");
      }
      try {
        payload = decodeBase64(dataB64.asText());
      } catch (IllegalArgumentException e) {
        return Parsed.error(
            attributes, ReasonCode.MALFORMED_JSON, "'data_b64' is not valid base64");
      }
    }
    return checkPayload(attributes, payload);
  }

  /** Checks a request body (a Pub/Sub message's data or a line's data): size, UTF-8, JSON. */
  public static Parsed checkPayload(Map<String, String> attributes, byte[] payload) {
    if ((payload == null || payload.length == 0) && "cancel".equals(attributes.get("action"))) {
      // A cancel names its job in the attributes; it needs no body.
      return Parsed.ok(attributes, "{}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
    if (payload == null || payload.length == 0) {
      return Parsed.error(
          attributes, ReasonCode.MALFORMED_JSON, "request body is empty; send a JSON job request");
    }
    if (payload.length > MAX_PAYLOAD_BYTES) {
      return Parsed.error(
          attributes,
          ReasonCode.PAYLOAD_TOO_LARGE,
          "request body is "
              + payload.length
              + " bytes; the limit is "
              + MAX_PAYLOAD_BYTES
              + " bytes (64 KiB)");
    }
    String text;
    try {
      text = decodeUtf8(payload);
    } catch (CharacterCodingException e) {
      return Parsed.error(attributes, ReasonCode.MALFORMED_JSON, "request body is not valid UTF-8");
    }
    try {
      JsonNode node = MAPPER.readTree(text);
      if (node == null || node.isMissingNode()) {
        return Parsed.error(
            attributes,
            ReasonCode.MALFORMED_JSON,
            "request body is empty; send a JSON job request");
      }
    } catch (JsonProcessingException e) {
      return Parsed.error(
          attributes,
          ReasonCode.MALFORMED_JSON,
          "request body is not valid JSON (" + describe(e) + ")");
    }
    return Parsed.ok(attributes, payload);
  }

  private static byte[] decodeBase64(String s) {
    String trimmed = s.trim();
    if (trimmed.indexOf('-') >= 0 || trimmed.indexOf('_') >= 0) {
      return Base64.getUrlDecoder().decode(trimmed);
    }
    return Base64.getDecoder().decode(trimmed);
  }

  static String decodeUtf8(byte[] bytes) throws CharacterCodingException {
    return StandardCharsets.UTF_8
        .newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT)
        .decode(ByteBuffer.wrap(bytes))
        .toString();
  }

  /** Jackson's problem and position, without the excerpt of the input it quotes. */
  private static String describe(JsonProcessingException e) {
    String problem = e.getOriginalMessage();
    if (problem == null) {
      problem = "unreadable";
    }
    // Jackson quotes the offending input ('...'): never echo it, it may be a credential.
    problem = problem.replaceAll("[\\r\\n]+", " ").replaceAll("'[^']{4,}'", "'…'");
    problem = Redaction.redactText(truncate(problem, 160));
    if (e.getLocation() != null) {
      return problem + " at column " + e.getLocation().getColumnNr();
    }
    return problem;
  }

  private static String truncate(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max) + "…";
  }
}
