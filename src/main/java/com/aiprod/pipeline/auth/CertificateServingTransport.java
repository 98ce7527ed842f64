package com.aiprod.pipeline.auth;

import com.google.api.client.http.HttpTransport;
import com.google.api.client.http.LowLevelHttpRequest;
import com.google.api.client.http.LowLevelHttpResponse;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The google-http-client transport given to a FirebaseApp of {@link TokenVerifier}. firebase-admin
 * fetches the ID-token certificates from {@link AuthConfig#GOOGLE_CERTIFICATE_URL}; this transport
 * answers that request, without any network, with one fixed certificate document: the one {@link
 * CertificateCache} fetched (Google's document, an override URL's document, or the dev key pair).
 * {@link TokenVerifier} gives each distinct document its own FirebaseApp and transport, so
 * firebase-admin's key cache can never hold an older document than the one our stricter checks
 * used; the {@code max-age} served here only decides how often firebase-admin re-parses this same
 * document. Any other request fails: the verifier's FirebaseApp needs no other endpoint.
 */
final class CertificateServingTransport extends HttpTransport {
  /** firebase-admin refreshes keys in the last 5 minutes of their max-age: stay well above that. */
  static final long SERVED_MAX_AGE_SECONDS = 3600;

  private final String json;

  CertificateServingTransport(String json) {
    this.json = json;
  }

  @Override
  public boolean supportsMethod(String method) {
    return "GET".equals(method);
  }

  @Override
  protected LowLevelHttpRequest buildRequest(String method, String url) {
    return new LowLevelHttpRequest() {
      @Override
      public void addHeader(String name, String value) {
        // Request headers do not change the answer.
      }

      @Override
      public LowLevelHttpResponse execute() throws IOException {
        if (!"GET".equals(method) || !isCertificateUrl(url)) {
          throw new IOException(
              "the token verifier's transport only serves the ID-token certificates; refusing "
                  + method
                  + " "
                  + url);
        }
        return new CertificateResponse(
            json.getBytes(StandardCharsets.UTF_8), "public, max-age=" + SERVED_MAX_AGE_SECONDS);
      }
    };
  }

  static boolean isCertificateUrl(String url) {
    return AuthConfig.GOOGLE_CERTIFICATE_URL.equals(url.replace("%40", "@"));
  }

  /** A 200 response carrying the certificate JSON. */
  private static final class CertificateResponse extends LowLevelHttpResponse {
    private final byte[] body;
    private final List<String> headerNames;
    private final List<String> headerValues;

    CertificateResponse(byte[] body, String cacheControl) {
      this.body = body;
      this.headerNames = List.of("Content-Type", "Cache-Control");
      this.headerValues = List.of("application/json; charset=UTF-8", cacheControl);
    }

    @Override
    public InputStream getContent() {
      return new ByteArrayInputStream(body);
    }

    @Override
    public String getContentEncoding() {
      return null;
    }

    @Override
    public long getContentLength() {
      return body.length;
    }

    @Override
    public String getContentType() {
      return headerValues.get(0);
    }

    @Override
    public String getStatusLine() {
      return "HTTP/1.1 200 OK";
    }

    @Override
    public int getStatusCode() {
      return 200;
    }

    @Override
    public String getReasonPhrase() {
      return "OK";
    }

    @Override
    public int getHeaderCount() {
      return headerNames.size();
    }

    @Override
    public String getHeaderName(int index) {
      return headerNames.get(index);
    }

    @Override
    public String getHeaderValue(int index) {
      return headerValues.get(index);
    }
  }
}
