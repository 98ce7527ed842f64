package com.aiprod.pipeline.render.backends;

import com.aiprod.pipeline.render.backends.BackendException.Kind;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodySubscriber;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.annotation.Nullable;

/**
 * The HTTP side shared by the provider clients: bounded exchanges (connect timeout, a request
 * timeout covering the whole answer, JSON answers capped at {@link BackendConfig#MAX_JSON_BYTES}),
 * the status → {@link BackendException.Kind} mapping of DESIGN §5, and capped, streamed output
 * downloads into Beam {@code FileSystems} ({@link Mp4Sink}).
 *
 * <p>Status mapping: 429 → RETRYABLE with {@code Retry-After} (delta-seconds or HTTP-date); 408 and
 * 5xx → RETRYABLE (with {@code Retry-After} when sent); 401/403 → AUTH; other 4xx → PERMANENT;
 * timeouts and I/O failures → RETRYABLE; a 2xx answer that is not JSON, or is larger than the cap →
 * PERMANENT. Messages carry the provider's status and its error text (truncated to {@value
 * #MAX_ERROR_TEXT} characters, with the credential and the prompt removed should the provider echo
 * them), never a secret or the prompt.
 */
final class ProviderHttp {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ProviderHttp.class);
  static final int MAX_ERROR_TEXT = 300;

  /** Bytes of a non-2xx answer read for its error text; the rest is discarded. */
  private static final int MAX_ERROR_BODY = 16 * 1024;

  private static final long MAX_RETRY_AFTER_MILLIS = TimeUnit.HOURS.toMillis(1);
  private static final int MAX_REDIRECTS = 3;
  static final ObjectMapper MAPPER = new ObjectMapper();

  private final String provider;
  private final URI apiBase;
  private final HttpClient client;
  private final Duration requestTimeout;
  private final Duration downloadTimeout;
  private final Duration stallTimeout;
  private final Duration connectTimeout;
  private final long maxDownloadBytes;
  private Resolver resolver = InetAddress::getAllByName;

  ProviderHttp(String provider, URI apiBase, BackendConfig config) {
    this.provider = provider;
    this.apiBase = apiBase;
    this.requestTimeout = config.requestTimeout();
    this.downloadTimeout = config.downloadTimeout();
    this.stallTimeout = config.downloadStallTimeout();
    this.connectTimeout = config.connectTimeout();
    this.maxDownloadBytes = config.maxDownloadBytes();
    this.client =
        HttpClient.newBuilder()
            .connectTimeout(config.connectTimeout())
            .followRedirects(HttpClient.Redirect.NEVER)
            .version(HttpClient.Version.HTTP_1_1)
            .build();
  }

  String provider() {
    return provider;
  }

  URI apiBase() {
    return apiBase;
  }

  long maxDownloadBytes() {
    return maxDownloadBytes;
  }

  Duration requestTimeout() {
    return requestTimeout;
  }

  /** A request builder for {@code path} under the API base, with the request timeout set. */
  HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(apiBase.resolve(path)).timeout(requestTimeout);
  }

  static HttpRequest.BodyPublisher json(JsonNode body) {
    try {
      return HttpRequest.BodyPublishers.ofByteArray(MAPPER.writeValueAsBytes(body));
    } catch (IOException e) {
      throw new IllegalStateException("cannot serialise a request body", e);
    }
  }

  /**
   * One JSON exchange: the parsed 2xx answer.
   *
   * @param what names the call in messages ({@code create task}, {@code poll task})
   * @param redact strings removed from any provider text put in a message (credential, prompt)
   */
  JsonNode exchangeJson(HttpRequest request, String what, String... redact)
      throws BackendException {
    return json(exchange(request, what, redact), what, redact);
  }

  /**
   * The exchange of a call that creates a billed generation. Its failures say what is known of the
   * generation: a 4xx other than 401/403/408/429 is a refusal of the request ({@link
   * BackendException#inputFault()}: nothing was made); a connection that could not be opened made
   * nothing either; anything after the request was sent without a usable answer (timeout, reset,
   * 408, 5xx, a 2xx that is not JSON) is {@link BackendException#outcomeUnknown()}. The caller
   * marks a 2xx whose id it cannot use the same way.
   */
  JsonNode createJson(HttpRequest request, String what, String... redact) throws BackendException {
    Answer a;
    try {
      a = exchange(request, what, redact);
    } catch (BackendException e) {
      throw e.kind() == Kind.RETRYABLE && !(e.getCause() instanceof NotSent)
          ? e.asOutcomeUnknown()
          : e;
    }
    try {
      return json(a, what, redact);
    } catch (BackendException e) {
      int st = e.httpStatus();
      if (st == 408 || st >= 500 || st / 100 == 2) {
        throw e.asOutcomeUnknown();
      }
      if (st / 100 == 4 && e.kind() == Kind.PERMANENT) {
        throw e.asInputFault();
      }
      throw e;
    }
  }

  private JsonNode json(Answer a, String what, String... redact) throws BackendException {
    if (a.status / 100 != 2) {
      throw statusError(what, a.status, a.headers, a.body, redact);
    }
    if (a.body.length == 0) {
      throw permanent(
          a.status, what + ": malformed JSON: HTTP " + a.status + " with an empty body");
    }
    JsonNode n;
    try {
      n = MAPPER.readTree(a.body);
    } catch (IOException e) {
      throw permanent(
          a.status,
          what
              + ": malformed JSON in the HTTP "
              + a.status
              + " answer: "
              + clean(e.getClass().getSimpleName(), redact));
    }
    if (n == null || !n.isObject()) {
      throw permanent(
          a.status, what + ": malformed JSON: HTTP " + a.status + " answer is not a JSON object");
    }
    return n;
  }

  /** Builds a provider request; refuses (e.g. a malformed operation id) with a BackendException. */
  @FunctionalInterface
  interface RequestBuilder {
    HttpRequest build() throws BackendException;
  }

  /**
   * A best-effort cancel of {@code operation}: an answer other than 2xx or 404 (already gone) and
   * any failure are logged, never thrown, as the shot has ended for us either way.
   */
  void cancelQuietly(
      String provider, String operation, RequestBuilder request, String what, String secret) {
    try {
      Answer a = exchange(request.build(), what, secret);
      if (a.status / 100 != 2 && a.status != 404) {
        LOG.warn("{} {} of {}: HTTP {}", provider, what, operation, a.status);
      }
    } catch (BackendException | RuntimeException e) {
      LOG.warn("{} {} of {} failed: {}", provider, what, operation, e.getMessage());
    }
  }

  /** One exchange whose status the caller judges. */
  Answer exchange(HttpRequest request, String what, String... redact) throws BackendException {
    CompletableFuture<HttpResponse<byte[]>> f =
        client.sendAsync(request, info -> new CappedBytes(cap(info), info.statusCode() / 100 != 2));
    try {
      HttpResponse<byte[]> r = f.get(requestTimeout.toMillis() + 250, TimeUnit.MILLISECONDS);
      return new Answer(r.statusCode(), r.headers(), r.body());
    } catch (TimeoutException e) {
      f.cancel(true);
      throw timeout(what, requestTimeout);
    } catch (InterruptedException e) {
      f.cancel(true);
      Thread.currentThread().interrupt();
      throw BackendException.retryable(provider + " " + what + ": interrupted", null);
    } catch (ExecutionException e) {
      throw failure(what, e.getCause(), redact);
    }
  }

  private static long cap(HttpResponse.ResponseInfo info) {
    return info.statusCode() / 100 == 2 ? BackendConfig.MAX_JSON_BYTES : MAX_ERROR_BODY;
  }

  private BackendException timeout(String what, Duration d) {
    return new BackendException(
        Kind.RETRYABLE,
        0,
        null,
        provider + " " + what + ": no complete answer within " + d.toMillis() + " ms (timeout)");
  }

  private BackendException failure(String what, @Nullable Throwable thrown, String... redact) {
    Throwable cause = thrown;
    for (Throwable t = thrown; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof BodyTooLarge
          || t instanceof HttpTimeoutException
          || t instanceof CarriedBackendException) {
        cause = t;
        break;
      }
    }
    if (cause instanceof BodyTooLarge) {
      return permanent(
          what + ": answer larger than " + ((BodyTooLarge) cause).cap + " bytes, refused");
    }
    if (cause instanceof HttpConnectTimeoutException) {
      String text = provider + " " + what + ": no connection within the connect timeout";
      return BackendException.retryable(text, new NotSent(text));
    }
    if (cause instanceof HttpTimeoutException) {
      return timeout(what, requestTimeout);
    }
    if (cause instanceof CarriedBackendException) {
      return ((CarriedBackendException) cause).exception;
    }
    String kind = cause == null ? "unknown failure" : cause.getClass().getSimpleName();
    String msg =
        cause == null || cause.getMessage() == null ? "" : ": " + clean(cause.getMessage(), redact);
    boolean notSent = false;
    for (Throwable t = thrown; t != null; t = t.getCause() == t ? null : t.getCause()) {
      notSent |= t instanceof java.net.ConnectException || t instanceof HttpConnectTimeoutException;
    }
    String text = provider + " " + what + ": " + kind + msg;
    return BackendException.retryable(text, notSent ? new NotSent(text) : cause);
  }

  /** Marks a failure to open the connection: the request never left, nothing was made. */
  static final class NotSent extends IOException {
    private static final long serialVersionUID = 1L;

    NotSent(String message) {
      super(message);
    }
  }

  BackendException permanent(String message) {
    return BackendException.permanent(provider + " " + message);
  }

  private BackendException permanent(int status, String message) {
    return new BackendException(Kind.PERMANENT, status, null, provider + " " + message);
  }

  /** The exception for a non-2xx answer. */
  BackendException statusError(
      String what, int status, HttpHeaders headers, byte[] body, String... redact) {
    String text = errorText(body, redact);
    String message =
        provider + " " + what + ": HTTP " + status + (text.isEmpty() ? "" : ": " + text);
    Long retryAfter = retryAfterMillis(headers.firstValue("Retry-After").orElse(null));
    if (status == 429 || status == 408 || status >= 500) {
      return new BackendException(Kind.RETRYABLE, status, retryAfter, message);
    }
    if (status == 401 || status == 403) {
      return new BackendException(Kind.AUTH, status, null, message);
    }
    return new BackendException(Kind.PERMANENT, status, null, message);
  }

  /** The provider's error text: a JSON error field when there is one, else the body's text. */
  static String errorText(byte[] body, String... redact) {
    if (body == null || body.length == 0) {
      return "";
    }
    String raw = new String(body, StandardCharsets.UTF_8);
    try {
      JsonNode n = MAPPER.readTree(body);
      if (n != null && n.isObject()) {
        for (String field : List.of("error", "detail", "failure", "message", "title")) {
          JsonNode v = n.get(field);
          if (v == null || v.isNull()) {
            continue;
          }
          if (v.isTextual()) {
            raw = v.asText();
            break;
          }
          if (v.isObject() && v.path("message").isTextual()) {
            raw = v.path("message").asText();
            String st = v.path("status").asText("");
            if (!st.isEmpty()) {
              raw = st + ": " + raw;
            }
            break;
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      // not JSON: the raw text
    }
    return clean(raw, redact);
  }

  /** Removes the redacted strings and control characters, and truncates. */
  static String clean(String text, String... redact) {
    String s = text;
    for (String r : redact) {
      if (r != null && r.length() >= 4) {
        s = s.replace(r, "[redacted]");
      }
    }
    StringBuilder b = new StringBuilder(Math.min(s.length(), MAX_ERROR_TEXT + 1));
    for (int i = 0; i < s.length() && b.length() <= MAX_ERROR_TEXT; i++) {
      char c = s.charAt(i);
      b.append(Character.isISOControl(c) ? ' ' : c);
    }
    String out = b.toString().strip();
    return out.length() > MAX_ERROR_TEXT ? out.substring(0, MAX_ERROR_TEXT) + "…" : out;
  }

  /**
   * {@code Retry-After} in milliseconds: delta-seconds or an HTTP-date; null when absent or bad.
   */
  static @Nullable Long retryAfterMillis(@Nullable String value) {
    if (value == null || value.isBlank()) {
      return null;
    }
    String v = value.trim();
    if (v.matches("\\d{1,9}")) {
      return Math.min(Long.parseLong(v) * 1000L, MAX_RETRY_AFTER_MILLIS);
    }
    try {
      long at =
          ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant().toEpochMilli();
      return Math.max(0L, Math.min(at - System.currentTimeMillis(), MAX_RETRY_AFTER_MILLIS));
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  /**
   * Downloads an {@code https://} output (or one on the API's own origin, e.g. a loopback test
   * server) into {@code destinationUri}, streamed through an {@link Mp4Sink}: capped at {@link
   * BackendConfig#maxDownloadBytes()}, checked to be an MP4, written under a temporary name and
   * renamed into place. The host is resolved once and checked ({@link #checkDownloadable}); the
   * connection goes to that checked address ({@link PinnedGet}). Redirects are followed at most
   * {@value #MAX_REDIRECTS} times, each target checked the same way (https, public address); the
   * credential is sent only to the API's own origin. A download receiving nothing for {@link
   * BackendConfig#downloadStallTimeout()} is abandoned as stalled, one running past {@link
   * BackendConfig#downloadTimeout()} in all as too slow (both RETRYABLE).
   *
   * @param authorization the {@code Authorization} value for the API's origin, or null
   */
  long download(String url, String destinationUri, @Nullable String authorization)
      throws BackendException {
    return download(url, destinationUri, authorization, 0);
  }

  /**
   * {@link #download(String, String, String)}, stopped at {@code notAfterMillis} (the job's
   * deadline, epoch ms; 0: none) when that comes before the download timeout: a RETRYABLE failure
   * that is not the provider's fault (the circuit does not count it).
   */
  long download(
      String url, String destinationUri, @Nullable String authorization, long notAfterMillis)
      throws BackendException {
    long jobLeft =
        notAfterMillis <= 0
            ? Long.MAX_VALUE
            : TimeUnit.MILLISECONDS.toNanos(
                Math.max(0, notAfterMillis - System.currentTimeMillis()));
    if (jobLeft >= downloadTimeout.toNanos()) {
      return downloadBy(
          url, destinationUri, authorization, System.nanoTime() + downloadTimeout.toNanos());
    }
    long deadline = System.nanoTime() + jobLeft;
    try {
      return downloadBy(url, destinationUri, authorization, deadline);
    } catch (BackendException e) {
      if (System.nanoTime() - deadline >= 0) {
        throw BackendException.retryable(
                provider + " output download: stopped at the job's deadline", e)
            .asInputFault();
      }
      throw e;
    }
  }

  private long downloadBy(
      String url, String destinationUri, @Nullable String authorization, long deadline)
      throws BackendException {
    URI uri;
    try {
      uri = URI.create(url);
    } catch (IllegalArgumentException e) {
      throw permanent("output URL is not a URL");
    }
    for (int hop = 0; ; hop++) {
      InetAddress address = checkDownloadable(uri);
      String auth = authorization != null && sameOrigin(uri, apiBase) ? authorization : null;
      try (Mp4Sink sink = new Mp4Sink(destinationUri, maxDownloadBytes, provider);
          PinnedGet get = open(uri, address, auth, deadline)) {
        int status = get.status;
        if (status / 100 == 3) {
          if (hop >= MAX_REDIRECTS) {
            throw permanent("output download: more than " + MAX_REDIRECTS + " redirects; refused");
          }
          String loc = get.headers.get("location");
          if (loc == null) {
            throw permanent("output download: HTTP " + status + " without a Location");
          }
          try {
            uri = uri.resolve(loc);
          } catch (IllegalArgumentException e) {
            throw permanent("output download: HTTP " + status + " to a malformed Location");
          }
          continue;
        }
        if (status == 404 || status == 410) {
          throw new BackendException(
              Kind.PERMANENT,
              status,
              null,
              provider + " output download: HTTP " + status + " (the output is gone)");
        }
        if (status / 100 != 2) {
          Map<String, List<String>> h = new java.util.TreeMap<>();
          get.headers.forEach((k, v) -> h.put(k, List.of(v)));
          throw statusError(
              "output download", status, HttpHeaders.of(h, (x, y) -> true), new byte[0]);
        }
        long declared;
        try {
          declared = get.declaredLength();
        } catch (IOException e) {
          throw permanent("output download: " + clean(e.getMessage()));
        }
        sink.expectLength(declared);
        byte[] buf = new byte[64 * 1024];
        while (true) {
          int n = read(get, buf, deadline);
          if (n < 0) {
            break;
          }
          sink.write(ByteBuffer.wrap(buf, 0, n));
        }
        return sink.commit();
      }
    }
  }

  private PinnedGet open(URI uri, InetAddress address, @Nullable String auth, long deadline)
      throws BackendException {
    int timeout = stallMillis(deadline);
    try {
      return PinnedGet.open(uri, address, auth, (int) connectTimeout.toMillis(), timeout);
    } catch (SocketTimeoutException e) {
      throw stalledOrSlow(timeout < stallTimeout.toMillis() ? 0 : deadline);
    } catch (IOException e) {
      throw ioFailure(e);
    }
  }

  private int read(PinnedGet get, byte[] buf, long deadline) throws BackendException {
    int timeout = stallMillis(deadline);
    try {
      get.stallMillis(timeout);
      return get.read(buf);
    } catch (SocketTimeoutException e) {
      // A read bounded by the overall deadline rather than the stall timeout: too slow in all.
      throw stalledOrSlow(timeout < stallTimeout.toMillis() ? 0 : deadline);
    } catch (IOException e) {
      throw ioFailure(e);
    }
  }

  private BackendException ioFailure(IOException e) {
    return BackendException.retryable(
        provider
            + " output download: "
            + e.getClass().getSimpleName()
            + (e.getMessage() == null ? "" : ": " + clean(e.getMessage())),
        e);
  }

  /** The read timeout: the stall timeout, or less when the overall deadline is nearer. */
  private int stallMillis(long deadline) throws BackendException {
    long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
    if (left <= 0) {
      throw stalledOrSlow(deadline);
    }
    return (int) Math.max(1, Math.min(stallTimeout.toMillis(), left));
  }

  /** The timeout's exception: {@code deadline} 0 (or passed) means the overall one. */
  private BackendException stalledOrSlow(long deadline) {
    if (deadline == 0 || System.nanoTime() - deadline >= 0) {
      return new BackendException(
          Kind.RETRYABLE,
          0,
          null,
          provider
              + " output download: not finished within "
              + downloadTimeout.toSeconds()
              + " s (download timeout)");
    }
    return new BackendException(
        Kind.RETRYABLE,
        0,
        null,
        provider
            + " output download: nothing received for "
            + stallTimeout.toMillis()
            + " ms (stalled)");
  }

  /** Resolves host names (an instance field so that tests can stand in for DNS). */
  @FunctionalInterface
  interface Resolver {
    InetAddress[] resolve(String host) throws UnknownHostException;
  }

  /** Replaces DNS for this client (tests only: the loopback fakes have no public names). */
  ProviderHttp withResolver(Resolver r) {
    this.resolver = r;
    return this;
  }

  /**
   * Checks an output URL and returns the one address to connect to. The API's own origin (its
   * configured endpoint: a loopback server in tests) is trusted as configured. Anything else must
   * be {@code https} to a DNS name (no IP literal, no {@code localhost}/{@code .internal}) whose
   * every resolved address is public: a hostile provider must not point the worker at its metadata
   * server, its private network, or a NAT64/CGNAT path to either ({@link #forbidden}).
   */
  InetAddress checkDownloadable(URI uri) throws BackendException {
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (uri.getHost() == null || uri.getRawUserInfo() != null) {
      throw permanent("output URL has no plain host; refused");
    }
    String host = uri.getHost().toLowerCase(Locale.ROOT);
    while (host.endsWith(".")) {
      host = host.substring(0, host.length() - 1);
    }
    boolean api = sameOrigin(uri, apiBase);
    if (!api && !"https".equals(scheme)) {
      throw permanent("output URL is not https (" + scheme + "://" + host + "); refused");
    }
    if (!api
        && (host.isEmpty()
            || host.startsWith("[")
            || host.contains(":")
            || host.matches("[0-9.]+")
            || host.matches("0x[0-9a-fx.]*")
            || host.equals("localhost")
            || host.endsWith(".localhost")
            || host.endsWith(".internal")
            || !host.contains("."))) {
      throw permanent("output URL host " + host + " is not a public DNS name; refused");
    }
    InetAddress[] addresses;
    try {
      addresses = resolver.resolve(host);
    } catch (UnknownHostException e) {
      addresses = null;
    }
    if (addresses == null || addresses.length == 0) {
      throw BackendException.retryable(provider + " output download: cannot resolve " + host, null);
    }
    if (!api) {
      for (InetAddress a : addresses) {
        if (forbidden(a)) {
          throw permanent("output URL host " + host + " resolves to a private address; refused");
        }
      }
    }
    return addresses[0];
  }

  /**
   * Addresses an output download never connects to: unspecified, loopback, link-local, private (RFC
   * 1918, unique-local, site-local), CGNAT 100.64.0.0/10, benchmarking 198.18.0.0/15, documentation
   * and reserved IPv4 ranges, multicast, broadcast; IPv6 NAT64 (64:ff9b::/96, 64:ff9b:1::/48),
   * IPv4-compatible and -mapped, 6to4 and Teredo (they embed an IPv4 address), discard-only and
   * documentation ranges.
   */
  static boolean forbidden(InetAddress a) {
    if (a.isAnyLocalAddress()
        || a.isLoopbackAddress()
        || a.isLinkLocalAddress()
        || a.isSiteLocalAddress()
        || a.isMulticastAddress()) {
      return true;
    }
    byte[] b = a.getAddress();
    if (b.length == 4) {
      int o0 = b[0] & 0xFF;
      int o1 = b[1] & 0xFF;
      int o2 = b[2] & 0xFF;
      return o0 == 0
          || o0 == 10
          || o0 == 127
          || (o0 == 100 && (o1 & 0xC0) == 64) // 100.64.0.0/10 CGNAT
          || (o0 == 169 && o1 == 254)
          || (o0 == 172 && (o1 & 0xF0) == 16)
          || (o0 == 192 && o1 == 0 && (o2 == 0 || o2 == 2))
          || (o0 == 192 && o1 == 88 && o2 == 99)
          || (o0 == 192 && o1 == 168)
          || (o0 == 198 && (o1 & 0xFE) == 18) // 198.18.0.0/15 benchmarking
          || (o0 == 198 && o1 == 51 && o2 == 100)
          || (o0 == 203 && o1 == 0 && o2 == 113)
          || o0 >= 224;
    }
    int w0 = ((b[0] & 0xFF) << 8) | (b[1] & 0xFF);
    int w1 = ((b[2] & 0xFF) << 8) | (b[3] & 0xFF);
    int w2 = ((b[4] & 0xFF) << 8) | (b[5] & 0xFF);
    boolean first80Zero = true;
    for (int i = 0; i < 10; i++) {
      first80Zero &= b[i] == 0;
    }
    return first80Zero // ::, ::1, IPv4-compatible and IPv4-mapped
        || (b[0] & 0xFE) == 0xFC // fc00::/7 unique local
        || (w0 == 0x0064 && w1 == 0xff9b) // 64:ff9b::/96 and 64:ff9b:1::/48 NAT64
        || (w0 == 0x0100 && w1 == 0 && w2 == 0) // 100::/64 discard-only
        || (w0 == 0x2001 && w1 == 0) // 2001::/32 Teredo
        || (w0 == 0x2001 && w1 == 0x0db8) // documentation
        || w0 == 0x2002; // 6to4
  }

  static boolean sameOrigin(URI a, URI b) {
    return a.getScheme() != null
        && a.getScheme().equalsIgnoreCase(String.valueOf(b.getScheme()))
        && a.getHost() != null
        && a.getHost().equalsIgnoreCase(String.valueOf(b.getHost()))
        && port(a) == port(b);
  }

  private static int port(URI u) {
    if (u.getPort() >= 0) {
      return u.getPort();
    }
    return "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
  }

  /** A status, headers and (capped) body. */
  static final class Answer {
    final int status;
    final HttpHeaders headers;
    final byte[] body;

    Answer(int status, HttpHeaders headers, byte[] body) {
      this.status = status;
      this.headers = headers;
      this.body = body;
    }
  }

  /** A body larger than the cap. */
  static final class BodyTooLarge extends IOException {
    private static final long serialVersionUID = 1L;
    final long cap;

    BodyTooLarge(long cap) {
      super("body larger than " + cap + " bytes");
      this.cap = cap;
    }
  }

  /** Carries a {@link BackendException} through the HTTP client's futures. */
  static final class CarriedBackendException extends IOException {
    private static final long serialVersionUID = 1L;
    final BackendException exception;

    CarriedBackendException(BackendException e) {
      super(e.getMessage());
      this.exception = e;
    }
  }

  /**
   * Collects a body up to {@code cap} bytes; past it either fails ({@link BodyTooLarge}) or, for
   * error answers, keeps what it has (the error text is all that is needed).
   */
  static final class CappedBytes implements BodySubscriber<byte[]> {
    private final long cap;
    private final boolean truncate;
    private final CompletableFuture<byte[]> result = new CompletableFuture<>();
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private @Nullable Flow.Subscription subscription;

    CappedBytes(long cap, boolean truncate) {
      this.cap = cap;
      this.truncate = truncate;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
      subscription = s;
      s.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(List<ByteBuffer> items) {
      if (result.isDone()) {
        return;
      }
      for (ByteBuffer b : items) {
        int n = b.remaining();
        if (out.size() + (long) n > cap) {
          if (truncate) {
            byte[] part = new byte[(int) (cap - out.size())];
            b.get(part);
            out.write(part, 0, part.length);
            result.complete(out.toByteArray());
          } else {
            result.completeExceptionally(new BodyTooLarge(cap));
          }
          subscription.cancel();
          return;
        }
        byte[] chunk = new byte[n];
        b.get(chunk);
        out.write(chunk, 0, n);
      }
    }

    @Override
    public void onError(Throwable t) {
      result.completeExceptionally(t);
    }

    @Override
    public void onComplete() {
      result.complete(out.toByteArray());
    }

    @Override
    public CompletionStage<byte[]> getBody() {
      return result;
    }
  }
}
