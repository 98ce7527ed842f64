package com.aiprod.pipeline.secrets;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;

/**
 * A loopback server speaking the part of the Secret Manager REST v1 API the pipeline uses: {@code
 * GET /v1/projects/P/secrets/S/versions/V:access} (V a number or {@code latest}), with Google JSON
 * error bodies (404 NOT_FOUND, 403 PERMISSION_DENIED). Responses name the project by number, as the
 * real service does. Records every request path.
 */
public final class LocalSecretManager implements AutoCloseable {
  static final String PROJECT_NUMBER = "123456789012";
  private static final Pattern ACCESS =
      Pattern.compile("/v1/projects/([^/]+)/secrets/([^/]+)/versions/([^/:]+):access");

  private final HttpServer server;
  private final String project;
  private final Map<String, List<byte[]>> secrets = new ConcurrentHashMap<>();
  private final Set<String> denied = ConcurrentHashMap.newKeySet();
  public final List<String> requests = new CopyOnWriteArrayList<>();

  public LocalSecretManager(String project) throws IOException {
    this.project = project;
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", this::handle);
    server.start();
  }

  public String endpoint() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** Adds a version (1, 2, …) to a secret; returns its number. */
  public synchronized int addVersion(String secret, String value) {
    List<byte[]> versions =
        secrets.computeIfAbsent(secret, s -> Collections.synchronizedList(new ArrayList<>()));
    versions.add(value.getBytes(StandardCharsets.UTF_8));
    return versions.size();
  }

  public void deny(String secret) {
    denied.add(secret);
  }

  private void handle(HttpExchange x) throws IOException {
    String path = x.getRequestURI().getPath();
    requests.add(x.getRequestMethod() + " " + path);
    Matcher m = ACCESS.matcher(path);
    if (!"GET".equals(x.getRequestMethod()) || !m.matches()) {
      error(x, 404, "NOT_FOUND", "Unknown method " + x.getRequestMethod() + " " + path);
      return;
    }
    String p = m.group(1);
    String secret = m.group(2);
    String version = m.group(3);
    if (!(p.equals(project) || p.equals(PROJECT_NUMBER)) || denied.contains(secret)) {
      error(
          x,
          403,
          "PERMISSION_DENIED",
          "Permission 'secretmanager.versions.access' denied for resource 'projects/"
              + p
              + "/secrets/"
              + secret
              + "/versions/"
              + version
              + "' (or it may not exist).");
      return;
    }
    List<byte[]> versions = secrets.get(secret);
    int n;
    synchronized (this) {
      if (versions == null || versions.isEmpty()) {
        error(
            x,
            404,
            "NOT_FOUND",
            "Secret [projects/"
                + PROJECT_NUMBER
                + "/secrets/"
                + secret
                + "] not found or has no versions.");
        return;
      }
      n = "latest".equals(version) ? versions.size() : parse(version);
      if (n < 1 || n > versions.size()) {
        error(
            x,
            404,
            "NOT_FOUND",
            "Secret Version [projects/"
                + PROJECT_NUMBER
                + "/secrets/"
                + secret
                + "/versions/"
                + version
                + "] not found.");
        return;
      }
    }
    byte[] data = versions.get(n - 1);
    CRC32C crc = new CRC32C();
    crc.update(data);
    String body =
        "{\"name\": \"projects/"
            + PROJECT_NUMBER
            + "/secrets/"
            + secret
            + "/versions/"
            + n
            + "\","
            + " \"payload\": {\"data\": \""
            + Base64.getEncoder().encodeToString(data)
            + "\","
            + " \"dataCrc32c\": \""
            + crc.getValue()
            + "\"}}";
    send(x, 200, body);
  }

  private static int parse(String v) {
    try {
      return Integer.parseInt(v);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static void error(HttpExchange x, int code, String status, String message)
      throws IOException {
    send(
        x,
        code,
        "{\"error\": {\"code\": "
            + code
            + ", \"message\": \""
            + message
            + "\", \"status\": \""
            + status
            + "\"}}");
  }

  private static void send(HttpExchange x, int code, String body) throws IOException {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    x.getResponseHeaders().set("Content-Type", "application/json; charset=UTF-8");
    x.sendResponseHeaders(code, b.length);
    try (OutputStream o = x.getResponseBody()) {
      o.write(b);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
