package com.aiprod.pipeline.render.backends;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.annotation.Nullable;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * One HTTP/1.1 {@code GET} over a socket connected to an address the caller has already checked, so
 * the connection goes where the check looked (no second DNS resolution between check and connect,
 * no DNS rebinding). For {@code https} the TLS handshake sends the URL's host as SNI and verifies
 * the certificate against it (endpoint identification {@code HTTPS}), exactly as a resolving client
 * would.
 *
 * <p>Why not {@code java.net.http.HttpClient}: it resolves the host itself when it connects and
 * offers no way to pin the address, and {@code HttpURLConnection} resolves again as well; a small
 * GET over a socket is the only way the JDK lets the checked address be the connected one. Only
 * what an output download needs is implemented: one request per connection ({@code Connection:
 * close}), status line and headers (capped at {@value #MAX_HEADER_BYTES} bytes), and a body
 * delimited by {@code Content-Length}, {@code chunked} encoding or the end of the connection. The
 * socket's read timeout is the stall timeout: a read that receives nothing for that long fails.
 */
final class PinnedGet implements AutoCloseable {
  static final int MAX_HEADER_BYTES = 32 * 1024;
  private static final int MAX_HEADERS = 100;

  private final Socket socket;
  final int status;

  /** Header names lower-cased; the first value of each. */
  final Map<String, String> headers;

  private final InputStream body;

  private PinnedGet(Socket socket, int status, Map<String, String> headers, InputStream body) {
    this.socket = socket;
    this.status = status;
    this.headers = headers;
    this.body = body;
  }

  /**
   * Connects to {@code address} (the checked address of {@code uri}'s host), sends the GET and
   * reads the status and headers.
   *
   * @param authorization the {@code Authorization} value, or null
   * @param connectTimeoutMillis bound of the TCP connect
   * @param stallMillis read timeout of every read (headers and body)
   */
  static PinnedGet open(
      URI uri,
      InetAddress address,
      @Nullable String authorization,
      int connectTimeoutMillis,
      int stallMillis)
      throws IOException {
    boolean tls = "https".equalsIgnoreCase(uri.getScheme());
    int port = uri.getPort() >= 0 ? uri.getPort() : tls ? 443 : 80;
    String host = uri.getHost();
    Socket raw = new Socket();
    Socket s = raw;
    try {
      raw.connect(new InetSocketAddress(address, port), connectTimeoutMillis);
      raw.setSoTimeout(stallMillis);
      if (tls) {
        SSLSocket ssl =
            (SSLSocket)
                ((SSLSocketFactory) SSLSocketFactory.getDefault())
                    .createSocket(raw, host, port, true);
        SSLParameters p = ssl.getSSLParameters();
        p.setEndpointIdentificationAlgorithm("HTTPS");
        p.setServerNames(List.of(new SNIHostName(host)));
        ssl.setSSLParameters(p);
        ssl.startHandshake();
        s = ssl;
      }
      String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
      String target = uri.getRawQuery() == null ? path : path + "?" + uri.getRawQuery();
      boolean defaultPort = uri.getPort() < 0 || uri.getPort() == (tls ? 443 : 80);
      StringBuilder req =
          new StringBuilder()
              .append("GET ")
              .append(target)
              .append(" HTTP/1.1\r\nHost: ")
              .append(host.contains(":") ? "[" + host + "]" : host)
              .append(defaultPort ? "" : ":" + port)
              .append("\r\nUser-Agent: aiprod-pipeline\r\nAccept: */*\r\n")
              .append("Accept-Encoding: identity\r\nConnection: close\r\n");
      if (authorization != null) {
        req.append("Authorization: ").append(authorization).append("\r\n");
      }
      req.append("\r\n");
      for (int i = 0; i < req.length(); i++) {
        if (req.charAt(i) > 0x7e && req.charAt(i) != '\r' && req.charAt(i) != '\n') {
          throw new IOException("request line or header is not ASCII");
        }
      }
      OutputStream out = s.getOutputStream();
      out.write(req.toString().getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = new BufferedInputStream(s.getInputStream(), 64 * 1024);
      int[] budget = {MAX_HEADER_BYTES};
      String statusLine = line(in, budget);
      String[] parts = statusLine.split(" ", 3);
      if (parts.length < 2 || !parts[0].startsWith("HTTP/1.") || !parts[1].matches("\\d{3}")) {
        throw new IOException("not an HTTP/1.x status line");
      }
      int status = Integer.parseInt(parts[1]);
      Map<String, String> headers = new LinkedHashMap<>();
      for (int n = 0; ; n++) {
        String h = line(in, budget);
        if (h.isEmpty()) {
          break;
        }
        if (n >= MAX_HEADERS) {
          throw new IOException("more than " + MAX_HEADERS + " headers");
        }
        int colon = h.indexOf(':');
        if (colon <= 0) {
          throw new IOException("malformed header line");
        }
        headers.putIfAbsent(
            h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim());
      }
      InputStream body;
      String te = headers.getOrDefault("transfer-encoding", "").toLowerCase(Locale.ROOT);
      if (te.contains("chunked")) {
        body = new Chunked(in);
      } else if (headers.containsKey("content-length")) {
        long len = contentLength(headers.get("content-length"));
        body = new Limited(in, len);
      } else {
        body = in;
      }
      return new PinnedGet(s, status, headers, body);
    } catch (IOException | RuntimeException e) {
      s.close();
      throw e;
    }
  }

  /** The declared {@code Content-Length}, -1 when absent. */
  long declaredLength() throws IOException {
    String v = headers.get("content-length");
    return v == null || headers.containsKey("transfer-encoding") ? -1 : contentLength(v);
  }

  private static long contentLength(String v) throws IOException {
    if (!v.matches("\\d{1,18}")) {
      throw new IOException("malformed Content-Length");
    }
    return Long.parseLong(v);
  }

  /** Reads body bytes into {@code buf}; -1 at its end. */
  int read(byte[] buf) throws IOException {
    return body.read(buf, 0, buf.length);
  }

  /** Sets the read timeout of the next reads. */
  void stallMillis(int millis) throws IOException {
    socket.setSoTimeout(Math.max(1, millis));
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException e) {
      // nothing to do
    }
  }

  /** One CRLF- (or LF-) terminated ASCII line, charged to {@code budget}. */
  private static String line(InputStream in, int[] budget) throws IOException {
    StringBuilder b = new StringBuilder();
    while (true) {
      int c = in.read();
      if (c < 0) {
        throw new EOFException("connection closed in the headers");
      }
      if (--budget[0] < 0) {
        throw new IOException("headers larger than " + MAX_HEADER_BYTES + " bytes");
      }
      if (c == '\n') {
        int len = b.length();
        return len > 0 && b.charAt(len - 1) == '\r' ? b.substring(0, len - 1) : b.toString();
      }
      b.append((char) c);
    }
  }

  /** A body of a known length; ending early is an error (a truncated output). */
  private static final class Limited extends InputStream {
    private final InputStream in;
    private long left;

    Limited(InputStream in, long length) {
      this.in = in;
      this.left = length;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (left <= 0) {
        return -1;
      }
      int n = in.read(b, off, (int) Math.min(len, left));
      if (n < 0) {
        throw new EOFException("connection closed " + left + " bytes before Content-Length");
      }
      left -= n;
      return n;
    }
  }

  /** A {@code chunked} body: chunk sizes bounded, extensions and trailers ignored. */
  private static final class Chunked extends InputStream {
    private final InputStream in;
    private long left;
    private boolean done;
    private final int[] budget = {MAX_HEADER_BYTES};

    Chunked(InputStream in) {
      this.in = in;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (done) {
        return -1;
      }
      if (left == 0) {
        budget[0] = MAX_HEADER_BYTES;
        String size = line(in, budget);
        int semi = size.indexOf(';');
        String hex = (semi >= 0 ? size.substring(0, semi) : size).trim();
        if (!hex.matches("[0-9A-Fa-f]{1,15}")) {
          throw new IOException("malformed chunk size");
        }
        left = Long.parseLong(hex, 16);
        if (left == 0) {
          while (!line(in, budget).isEmpty()) {
            // trailers: ignored
          }
          done = true;
          return -1;
        }
      }
      int n = in.read(b, off, (int) Math.min(len, left));
      if (n < 0) {
        throw new EOFException("connection closed inside a chunk");
      }
      left -= n;
      if (left == 0 && !line(in, budget).isEmpty()) {
        throw new IOException("malformed chunk end");
      }
      return n;
    }
  }
}
