package com.aiprod.pipeline.vertex;

import com.google.auth.oauth2.AccessToken;
import com.google.auth.oauth2.GoogleCredentials;
import java.io.IOException;
import java.io.Serializable;
import java.util.Date;
import java.util.List;
import javax.annotation.Nullable;

/**
 * Credentials for Vertex AI (Veo, Gemini): the worker's own (Application Default Credentials,
 * {@code cloud-platform} scope, refreshed before expiry by google-auth-library); no API key. Tests
 * against a loopback server give a fixed token through {@link #fixedToken}, so the same code path
 * sends {@code Authorization: Bearer …} and the server can check it.
 */
public final class VertexAuth implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final List<String> SCOPES =
      List.of("https://www.googleapis.com/auth/cloud-platform");

  private final @Nullable String fixedToken;
  private transient @Nullable GoogleCredentials credentials;

  private VertexAuth(@Nullable String fixedToken) {
    this.fixedToken = fixedToken;
  }

  /** The worker's Application Default Credentials. */
  public static VertexAuth applicationDefault() {
    return new VertexAuth(null);
  }

  /** A fixed bearer token (tests against a loopback server). */
  public static VertexAuth fixedToken(String token) {
    return new VertexAuth(token);
  }

  /** The value of the {@code Authorization} header for the next request. */
  public synchronized String authorizationHeader() throws IOException {
    if (credentials == null) {
      credentials =
          fixedToken != null
              ? GoogleCredentials.create(new AccessToken(fixedToken, new Date(Long.MAX_VALUE)))
              : GoogleCredentials.getApplicationDefault().createScoped(SCOPES);
    }
    credentials.refreshIfExpired();
    return "Bearer " + credentials.getAccessToken().getTokenValue();
  }

  @Override
  public String toString() {
    return fixedToken != null ? "VertexAuth{fixed token}" : "VertexAuth{application default}";
  }
}
