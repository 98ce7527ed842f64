package com.aiprod.pipeline.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Base64;
import java.util.regex.Pattern;
import javax.annotation.Nullable;

/**
 * The {@code sub} a token claims, read WITHOUT verification: only for counting authentication
 * failures per claimed principal (SECURITY_ALERT on bursts), never for authorization. Returns null
 * unless it is a short plain identifier, so nothing token-like is ever recorded.
 */
public final class ClaimedSubject {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9_@.+-]{1,128}");

  private ClaimedSubject() {}

  public static @Nullable String of(@Nullable String authorization) {
    if (authorization == null) {
      return null;
    }
    String token = authorization.trim();
    if (token.regionMatches(true, 0, "Bearer ", 0, 7)) {
      token = token.substring(7).trim();
    }
    String[] parts = token.split("\\.", -1);
    if (parts.length != 3 || parts[1].length() > 8192) {
      return null;
    }
    try {
      JsonNode claims = MAPPER.readTree(Base64.getUrlDecoder().decode(parts[1]));
      JsonNode sub = claims == null ? null : claims.get("sub");
      if (sub == null || !sub.isTextual() || !SAFE.matcher(sub.asText()).matches()) {
        return null;
      }
      return sub.asText();
    } catch (Exception e) {
      return null;
    }
  }
}
