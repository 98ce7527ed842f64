package com.aiprod.pipeline.auth;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Firebase mode against a local certificate server (the certificate URL override). */
class FirebaseModeTest {
  private static final String PROJECT = "aiprod-test";

  @TempDir Path keyDir;

  private HttpServer server;
  private final AtomicInteger requests = new AtomicInteger();
  private volatile String body;
  private volatile String cacheControl = "public, max-age=600, must-revalidate, no-transform";
  private DevAuthKeys keys;

  @BeforeEach
  void startServer() throws IOException {
    keys = DevAuthKeys.loadOrCreate(keyDir);
    body = keys.certificateJson();
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/certs",
        exchange -> {
          requests.incrementAndGet();
          byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
          exchange.getResponseHeaders().add("Content-Type", "application/json; charset=UTF-8");
          exchange.getResponseHeaders().add("Cache-Control", cacheControl);
          exchange.sendResponseHeaders(200, bytes.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
          }
        });
    server.start();
  }

  @AfterEach
  void stopServer() {
    server.stop(0);
  }

  private String url(String path) {
    return "http://"
        + server.getAddress().getHostString()
        + ":"
        + server.getAddress().getPort()
        + path;
  }

  @Test
  void verifiesAgainstTheServedCertificatesAndCachesThem() throws IOException {
    AuthConfig config = AuthConfig.firebase(PROJECT).withCertificateUrl(url("/certs"));
    try (TokenVerifier verifier = TokenVerifier.create(config)) {
      DevTokens tokens = new DevTokens(keys, PROJECT);
      for (int i = 0; i < 20; i++) {
        AuthResult result = verifier.verify("Bearer " + tokens.mint("user" + i));
        assertThat(result.toString(), result.isOk(), is(true));
        assertThat(result.principal().getUid(), equalTo("user" + i));
      }
      assertThat(requests.get(), equalTo(1));

      AuthResult devProject =
          verifier.verify("Bearer " + new DevTokens(keys, "demo-aiprod").mint("alice"));
      assertThat(devProject.reasonCode(), equalTo("AUTH_INVALID"));
      assertThat(devProject.message(), containsString("another Firebase project"));
    }
  }

  @Test
  void keysNotServedAreUnknown(@TempDir Path otherDir) throws IOException {
    DevAuthKeys other = DevAuthKeys.loadOrCreate(otherDir);
    AuthConfig config = AuthConfig.firebase(PROJECT).withCertificateUrl(url("/certs"));
    try (TokenVerifier verifier = TokenVerifier.create(config)) {
      AuthResult result = verifier.verify("Bearer " + new DevTokens(other, PROJECT).mint("eve"));
      assertThat(result.reasonCode(), equalTo("AUTH_INVALID"));
      assertThat(result.forged(), is(true));
    }
  }

  @Test
  void unreachableCertificatesAreNotBlamedOnTheToken() throws IOException {
    AuthConfig config = AuthConfig.firebase(PROJECT).withCertificateUrl(url("/missing"));
    try (TokenVerifier verifier = TokenVerifier.create(config)) {
      String token = new DevTokens(keys, PROJECT).mint("alice");
      AuthUnavailableException e =
          assertThrows(AuthUnavailableException.class, () -> verifier.verify("Bearer " + token));
      assertThat(e.getMessage(), containsString("/missing"));
      assertThat(e.getMessage().contains(token), is(false));
    }
  }

  @Test
  void firebaseModeNeedsAProject() {
    assertThrows(IllegalArgumentException.class, () -> AuthConfig.firebase(""));
    assertThrows(
        IllegalArgumentException.class, () -> AuthConfig.fromFlags("firebase", null, null));
    assertThat(AuthConfig.fromFlags("dev", null, null), equalTo(AuthConfig.dev(null, null)));
    assertThat(AuthConfig.dev(null, null).firebaseProject(), equalTo("demo-aiprod"));
    assertThat(AuthConfig.dev(null, null).devAuthDir(), equalTo("local/dev-auth"));
    assertThrows(IllegalArgumentException.class, () -> AuthConfig.fromFlags("none", null, null));
    assertThrows(
        IllegalStateException.class,
        () -> AuthConfig.dev(null, null).withCertificateUrl("http://localhost/certs"));
  }
}
