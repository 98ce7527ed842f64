package com.aiprod.pipeline.auth;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import javax.annotation.Nullable;

/**
 * A stand-in for Google's securetoken certificate endpoint on 127.0.0.1: {@code GET} {@value #PATH}
 * answers {@code {"<kid>": "<PEM>"}} with {@code Cache-Control: public, max-age=N} (and optionally
 * {@code Age}), like {@link AuthConfig#GOOGLE_CERTIFICATE_URL}. Tests change what it serves (keys,
 * max-age, a failure status) and count its hits.
 */
final class LoopbackCertificateServer implements AutoCloseable {
  static final String PATH = "/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com";

  private static final ObjectMapper JSON = new ObjectMapper();

  private static final AtomicInteger INSTANCES = new AtomicInteger();

  private final HttpServer server;
  private final int instance = INSTANCES.incrementAndGet();
  private final AtomicInteger hits = new AtomicInteger();
  private volatile String body = "{}";
  private volatile int status = 200;
  private volatile long maxAgeSeconds = 600;
  private volatile @Nullable Long ageSeconds;

  private LoopbackCertificateServer(HttpServer server) {
    this.server = server;
  }

  static LoopbackCertificateServer start(TestSigningKey... keys) throws IOException {
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    LoopbackCertificateServer certificates = new LoopbackCertificateServer(server);
    certificates.serve(keys);
    server.createContext("/", certificates::handle);
    server.start();
    return certificates;
  }

  private void handle(HttpExchange exchange) throws IOException {
    try {
      if (!"GET".equals(exchange.getRequestMethod())
          || !PATH.equals(exchange.getRequestURI().getPath())) {
        exchange.sendResponseHeaders(404, -1);
        return;
      }
      hits.incrementAndGet();
      byte[] bytes;
      if (status == 200) {
        bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json; charset=UTF-8");
        if (maxAgeSeconds >= 0) {
          exchange
              .getResponseHeaders()
              .add(
                  "Cache-Control",
                  "public, max-age=" + maxAgeSeconds + ", must-revalidate, no-transform");
        }
        Long age = ageSeconds;
        if (age != null) {
          exchange.getResponseHeaders().add("Age", Long.toString(age));
        }
      } else {
        bytes = "{\"error\": \"backend unavailable\"}".getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json; charset=UTF-8");
      }
      exchange.sendResponseHeaders(status, bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    } finally {
      exchange.close();
    }
  }

  /** Serves exactly these keys from now on (an empty call serves an empty object). */
  LoopbackCertificateServer serve(TestSigningKey... keys) {
    Map<String, String> document = new LinkedHashMap<>();
    for (TestSigningKey key : keys) {
      document.put(key.kid, key.certificatePem);
    }
    try {
      body = JSON.writeValueAsString(document);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return this;
  }

  /** Serves this raw body (with status 200 unless {@link #failWith} is in force). */
  LoopbackCertificateServer serveRaw(String rawBody) {
    body = rawBody;
    return this;
  }

  /** The max-age sent; a negative value sends no Cache-Control at all. */
  LoopbackCertificateServer maxAge(long seconds) {
    maxAgeSeconds = seconds;
    return this;
  }

  LoopbackCertificateServer age(@Nullable Long seconds) {
    ageSeconds = seconds;
    return this;
  }

  /** Answers every request with {@code status} (e.g. 500); 200 restores normal service. */
  LoopbackCertificateServer failWith(int httpStatus) {
    status = httpStatus;
    return this;
  }

  int hits() {
    return hits.get();
  }

  /**
   * The certificate URL: Google's path on this server, plus a query naming this server instance.
   * Verifiers of a JVM share one certificate cache per URL, and the OS may give a later test's
   * server the port of an earlier one: the query keeps their caches apart (the server ignores it).
   */
  String url() {
    return "http://"
        + server.getAddress().getAddress().getHostAddress()
        + ":"
        + server.getAddress().getPort()
        + PATH
        + "?server="
        + instance;
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
