package com.aiprod.pipeline.tools;

import com.aiprod.pipeline.auth.DevAuthKeys;
import com.aiprod.pipeline.auth.DevTokens;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Turns a sample file into pipeline input by minting a dev ID token for the identity each line
 * names. A sample line is an input line plus {@code "identity"}: {@code {"uid", "tenant", "role",
 * "plan", "ttl"}} (ttl in seconds; negative = already expired by that much), or {@code "none"} for
 * no authorization attribute, or {@code {"forge": "alg-none" | "hs256" | "tampered" | "wrong-key" |
 * "garbage", ...}} for hostile tokens; {@code "project"} signs for another Firebase project and
 * {@code "clock_offset"} (seconds) issues the token in the future or past. {@code {"raw": "..."}}
 * lines are written as they are (unreadable input); {@code "pad_content_to": N} pads data.content
 * to N bytes (oversized input); {@code "expect"} (the outcome the sample should get, checked by the
 * integration test) is dropped.
 */
@Command(
    name = "sign-samples",
    sortOptions = false,
    description = {
      "Turns a sample file into pipeline input: mints a dev ID token for the identity each line"
          + " names (hostile tokens too), drops the expectations."
    })
public final class SignSamples extends Tool {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  @Option(names = "--in", required = true, paramLabel = "SAMPLES.jsonl", description = "Samples.")
  Path in;

  @Option(
      names = "--out",
      required = true,
      paramLabel = "SIGNED.jsonl",
      description = "The input file to write.")
  Path outFile;

  @Mixin DevAuthOptions devAuth;

  @Override
  public Integer call() throws Exception {
    if (!Files.isRegularFile(in)) {
      throw usage("no such file: " + in);
    }
    int n = sign(in, outFile, devAuth.dir, devAuth.project);
    err().println("signed " + n + " sample lines into " + outFile);
    return 0;
  }

  /** Writes the signed input file; returns the number of lines written. */
  public static int sign(Path in, Path out, Path devAuthDir, String project) throws Exception {
    DevAuthKeys keys = DevAuthKeys.loadOrCreate(devAuthDir);
    DevTokens tokens = new DevTokens(keys, project);
    List<String> lines = Files.readAllLines(in, StandardCharsets.UTF_8);
    Files.createDirectories(out.toAbsolutePath().getParent());
    int written = 0;
    try (BufferedWriter w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
      for (String line : lines) {
        if (line.isBlank() || line.startsWith("//")) {
          continue;
        }
        JsonNode sample = MAPPER.readTree(line);
        ((ObjectNode) sample).remove("expect");
        if (sample.has("raw")) {
          w.write(sample.get("raw").asText());
        } else {
          w.write(signLine((ObjectNode) sample, keys, tokens, project));
        }
        w.newLine();
        written++;
      }
    }
    return written;
  }

  static String signLine(ObjectNode sample, DevAuthKeys keys, DevTokens tokens, String project)
      throws Exception {
    JsonNode identity = sample.remove("identity");
    JsonNode pad = sample.remove("pad_content_to");
    ObjectNode attributes =
        sample.has("attributes")
            ? (ObjectNode) sample.get("attributes")
            : sample.putObject("attributes");
    if (pad != null && sample.get("data") instanceof ObjectNode) {
      ObjectNode data = (ObjectNode) sample.get("data");
      StringBuilder content = new StringBuilder(data.path("content").asText(""));
      while (content.length() < pad.asInt()) {
        content.append(" More words to make the request body larger than it may be.");
      }
      data.put("content", content.toString());
    }
    if (identity != null && identity.isObject()) {
      attributes.put(
          "authorization", "Bearer " + token((ObjectNode) identity, keys, tokens, project));
    }
    return MAPPER.writeValueAsString(sample);
  }

  static String token(ObjectNode id, DevAuthKeys keys, DevTokens tokens, String project)
      throws Exception {
    String uid = id.path("uid").asText("sample-user");
    String tenant = id.hasNonNull("tenant") ? id.get("tenant").asText() : null;
    String role = id.hasNonNull("role") ? id.get("role").asText() : null;
    String plan = id.hasNonNull("plan") ? id.get("plan").asText() : null;
    long ttl = id.path("ttl").asLong(3600);
    String forge = id.path("forge").asText("");
    if (id.has("project")) {
      // A token of another Firebase project, signed by the trusted key: wrong iss/aud.
      tokens = new DevTokens(keys, id.get("project").asText());
    }
    if (id.has("clock_offset")) {
      // Issued in the future (or past) by this many seconds: iat/auth_time skew checks.
      tokens =
          new DevTokens(
              keys,
              id.has("project") ? id.get("project").asText() : project,
              Clock.offset(Clock.systemUTC(), Duration.ofSeconds(id.get("clock_offset").asLong())));
    }
    if (ttl <= 0) {
      // Issued far enough in the past that it expired -ttl seconds ago (beyond the 60 s skew).
      long age = 3600 - ttl;
      DevTokens past =
          new DevTokens(keys, project, Clock.offset(Clock.systemUTC(), Duration.ofSeconds(-age)));
      return past.mint(uid, tenant, role, plan, Duration.ofSeconds(3600));
    }
    String valid = tokens.mint(uid, tenant, role, plan, Duration.ofSeconds(ttl));
    String[] parts = valid.split("\\.");
    switch (forge) {
      case "":
        return valid;
      case "garbage":
        return "not-a-jwt";
      case "alg-none":
        {
          ObjectNode h =
              MAPPER.createObjectNode().put("alg", "none").put("typ", "JWT").put("kid", keys.kid());
          return b64(MAPPER.writeValueAsBytes(h)) + "." + parts[1] + ".";
        }
      case "hs256":
        {
          ObjectNode h =
              MAPPER
                  .createObjectNode()
                  .put("alg", "HS256")
                  .put("typ", "JWT")
                  .put("kid", keys.kid());
          String signingInput = b64(MAPPER.writeValueAsBytes(h)) + "." + parts[1];
          Mac mac = Mac.getInstance("HmacSHA256");
          mac.init(
              new SecretKeySpec(
                  keys.certificatePem().getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
          return signingInput
              + "."
              + b64(mac.doFinal(signingInput.getBytes(StandardCharsets.US_ASCII)));
        }
      case "tampered":
        {
          ObjectNode payload =
              (ObjectNode) MAPPER.readTree(Base64.getUrlDecoder().decode(parts[1]));
          payload.put("tenant", id.path("tamper_tenant").asText("victim-corp"));
          payload.put("role", "admin");
          return parts[0] + "." + b64(MAPPER.writeValueAsBytes(payload)) + "." + parts[2];
        }
      case "wrong-key":
        {
          KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
          g.initialize(2048);
          Signature s = Signature.getInstance("SHA256withRSA");
          s.initSign(g.generateKeyPair().getPrivate());
          String signingInput = parts[0] + "." + parts[1];
          s.update(signingInput.getBytes(StandardCharsets.US_ASCII));
          return signingInput + "." + b64(s.sign());
        }
      default:
        throw new IllegalArgumentException("unknown forge kind: " + forge);
    }
  }

  private static String b64(byte[] bytes) {
    return B64.encodeToString(bytes);
  }
}
