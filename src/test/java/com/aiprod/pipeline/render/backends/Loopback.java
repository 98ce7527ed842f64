package com.aiprod.pipeline.render.backends;

import com.aiprod.pipeline.media.PreviewCard;
import com.aiprod.pipeline.media.PreviewEncoder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A loopback HTTP server (127.0.0.1, ephemeral port) on which a test installs a fake provider's
 * routes. Each route answers from a script (a queue of answers; the last one repeats), or from a
 * handler function that sees the parsed request. Every request is recorded.
 */
public final class Loopback implements AutoCloseable {
  static final ObjectMapper JSON = new ObjectMapper();

  /** One received request. */
  public record Req(
      String method, String path, Map<String, List<String>> headers, byte[] body, Matcher match) {
    public String header(String name) {
      for (Map.Entry<String, List<String>> e : headers.entrySet()) {
        if (e.getKey() != null && e.getKey().equalsIgnoreCase(name) && !e.getValue().isEmpty()) {
          return e.getValue().get(0);
        }
      }
      return null;
    }

    public JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        return null;
      }
    }

    public String text() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  /** One scripted answer. */
  public record Resp(
      int status,
      Map<String, String> headers,
      byte[] body,
      long delayMillis,
      long bodyRepeat,
      long stallMillis) {
    public static Resp json(int status, String json) {
      return new Resp(
          status,
          Map.of("Content-Type", "application/json"),
          json.getBytes(StandardCharsets.UTF_8),
          0,
          1,
          0);
    }

    public static Resp bytes(int status, String contentType, byte[] body) {
      return new Resp(status, Map.of("Content-Type", contentType), body, 0, 1, 0);
    }

    public Resp header(String name, String value) {
      Map<String, String> h = new LinkedHashMap<>(headers);
      h.put(name, value);
      return new Resp(status, h, body, delayMillis, bodyRepeat, stallMillis);
    }

    /** Waits this long before answering. */
    public Resp delayed(long millis) {
      return new Resp(status, headers, body, millis, bodyRepeat, stallMillis);
    }

    /** Sends the body this many times, chunked (no Content-Length): a huge answer. */
    public Resp repeated(long times) {
      return new Resp(status, headers, body, delayMillis, times, stallMillis);
    }

    /** No answer at all: the connection is closed after the request was read (a lost answer). */
    public static Resp dropped() {
      return new Resp(-1, Map.of(), new byte[0], 0, 1, 0);
    }

    /**
     * Sends the body {@code times} times, waiting {@code millis} before each: a dripping answer.
     */
    public Resp dripping(long times, long millis) {
      return new Resp(status, headers, body, delayMillis, times, -millis);
    }

    /** Sends the headers and the first body, then stalls this long before the rest. */
    public Resp stalling(long millis) {
      return new Resp(status, headers, body, delayMillis, bodyRepeat, millis);
    }
  }

  public interface Handler {
    Resp handle(Req req) throws Exception;
  }

  private record Route(String method, Pattern path, Handler handler) {}

  private final HttpServer server;
  private final ExecutorService executor = Executors.newCachedThreadPool();
  private final List<Route> routes = Collections.synchronizedList(new ArrayList<>());
  public final List<Req> requests = Collections.synchronizedList(new ArrayList<>());

  public Loopback() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(executor);
    server.createContext("/", this::serve);
    server.start();
  }

  public String base() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  public Loopback route(String method, String pathRegex, Handler handler) {
    routes.add(0, new Route(method, Pattern.compile(pathRegex), handler));
    return this;
  }

  /** A route answering from a script: each request takes the next answer, the last one repeats. */
  public Loopback script(String method, String pathRegex, Resp... answers) {
    Deque<Resp> q = new ArrayDeque<>(List.of(answers));
    return route(
        method,
        pathRegex,
        req -> {
          synchronized (q) {
            return q.size() > 1 ? q.poll() : q.peek();
          }
        });
  }

  public List<Req> requests(String method, String pathRegex) {
    Pattern p = Pattern.compile(pathRegex);
    List<Req> out = new ArrayList<>();
    synchronized (requests) {
      for (Req r : requests) {
        if (r.method().equals(method) && p.matcher(r.path()).matches()) {
          out.add(r);
        }
      }
    }
    return out;
  }

  private void serve(HttpExchange ex) throws IOException {
    try (ex) {
      byte[] body = ex.getRequestBody().readAllBytes();
      String path = ex.getRequestURI().getRawPath();
      Route route = null;
      Matcher m = null;
      synchronized (routes) {
        for (Route r : routes) {
          Matcher mm = r.path().matcher(path);
          if (r.method().equals(ex.getRequestMethod()) && mm.matches()) {
            route = r;
            m = mm;
            break;
          }
        }
      }
      Req req = new Req(ex.getRequestMethod(), path, Map.copyOf(ex.getRequestHeaders()), body, m);
      requests.add(req);
      Resp resp;
      if (route == null) {
        resp =
            Resp.json(
                404, "{\"error\":\"no such route " + ex.getRequestMethod() + " " + path + "\"}");
      } else {
        try {
          resp = route.handler().handle(req);
        } catch (Exception e) {
          resp = Resp.json(500, "{\"error\":\"fake provider failed: " + e + "\"}");
        }
      }
      if (resp.delayMillis() > 0) {
        Thread.sleep(resp.delayMillis());
      }
      if (resp.status() < 0) {
        return; // nothing sent: closing the exchange drops the connection
      }
      resp.headers().forEach((k, v) -> ex.getResponseHeaders().add(k, v));
      boolean chunked = resp.bodyRepeat() != 1 || resp.stallMillis() != 0;
      long length = resp.body().length == 0 ? -1 : chunked ? 0 : resp.body().length;
      ex.sendResponseHeaders(resp.status(), length);
      if (resp.body().length > 0) {
        OutputStream out = ex.getResponseBody();
        for (long i = 0; i < resp.bodyRepeat(); i++) {
          out.write(resp.body());
          if ((i == 0 && resp.stallMillis() > 0) || resp.stallMillis() < 0) {
            out.flush();
            Thread.sleep(Math.abs(resp.stallMillis()));
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      // the client went away (timeouts, refused bodies): expected in these tests
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  /** A small real H.264 MP4 from the preview encoder. */
  public static byte[] sampleMp4(Path dir) throws IOException {
    Path f = dir.resolve("sample.mp4");
    PreviewEncoder.encode(
        f,
        PreviewCard.builder()
            .setTitle("loopback sample")
            .setShotIndex(0)
            .setShotCount(1)
            .setJobId("job-loopback")
            .setDurationSec(1.0)
            .setWidth(128)
            .setHeight(72)
            .setFps(6)
            .build());
    return Files.readAllBytes(f);
  }

  /** Writes a secret file with mode 0600 (a {@code dir:} secret source). */
  public static void writeSecret(Path dir, String name, String value) throws IOException {
    Path f = dir.resolve(name);
    Files.writeString(f, value + "\n", StandardCharsets.UTF_8);
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
  }

  public static RenderRequest request(String prompt, int seconds, String outputPrefix) {
    return new RenderRequest(
        "job-0001",
        2,
        1,
        prompt,
        seconds,
        0x1_2345_6789L,
        "16:9",
        1280,
        720,
        24,
        "tenant-a/job-0001/shot-2/backend",
        outputPrefix,
        4,
        seconds);
  }
}
