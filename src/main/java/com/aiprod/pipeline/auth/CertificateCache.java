package com.aiprod.pipeline.auth;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPublicKey;
import java.time.Clock;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.annotation.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The certificate document ({@code {"<kid>": "<X.509 PEM>"}}) that signs ID tokens, cached for its
 * {@code Cache-Control: max-age} (minus {@code Age}). {@link TokenVerifier} reads the served key
 * ids and keys from here, and hands the very same document to firebase-admin (through a {@link
 * CertificateServingTransport} per document), so both always judge a token against the same
 * certificates.
 *
 * <p>Fetches happen only: when nothing is cached; when the cached document is due (in the last
 * {@code min(5 min, lifetime / 2)} of its lifetime, which is max-age minus Age, at least {@link
 * #MIN_LIFETIME_SECONDS} for a fetched document); and, at most once per {@link
 * #UNKNOWN_KID_REFETCH_INTERVAL_MILLIS}, when a token names a key id the cached document lacks (a
 * key published since the last fetch). A failed fetch is not repeated for {@link
 * #FAILURE_BACKOFF_MILLIS}; meanwhile the cached document is used until it expires, after which
 * callers get the failure.
 *
 * <p>Firebase mode uses {@link #shared}: one cache (and one HTTP client) per URL and clock in the
 * JVM, so all the verifiers of a worker (one per DoFn instance) share each fetch, and the
 * unknown-kid refetch bound holds per worker, not per DoFn instance.
 */
final class CertificateCache {
  private static final Logger LOG = LoggerFactory.getLogger(CertificateCache.class);

  /** Refresh this long before expiry (firebase-admin's key manager uses the same margin). */
  private static final long REFRESH_MARGIN_MILLIS = Duration.ofMinutes(5).toMillis();

  /** After a failed fetch, callers within this delay get the same failure without a new fetch. */
  static final long FAILURE_BACKOFF_MILLIS = Duration.ofSeconds(5).toMillis();

  /**
   * A key id missing from the cached document triggers a refetch only if the last fetch attempt is
   * at least this old: whatever the number of tokens naming unknown key ids, one fetch per
   * interval.
   */
  static final long UNKNOWN_KID_REFETCH_INTERVAL_MILLIS = Duration.ofSeconds(60).toMillis();

  /**
   * Shortest lifetime given to a fetched document. Google always sends hours; a response without
   * {@code max-age} (say, a proxy that strips it) must not turn into one fetch per token.
   */
  static final long MIN_LIFETIME_SECONDS = 60;

  private static final Pattern MAX_AGE = Pattern.compile("(?:^|[,\\s])max-age\\s*=\\s*(\\d+)");

  private static final ObjectMapper JSON =
      new ObjectMapper()
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  /** One fetched certificate document. */
  static final class Document {
    final String json;
    final long maxAgeSeconds;

    Document(String json, long maxAgeSeconds) {
      this.json = Objects.requireNonNull(json);
      this.maxAgeSeconds = Math.max(0, maxAgeSeconds);
    }
  }

  /** Where the document comes from. */
  interface Source {
    Document fetch() throws IOException;

    /** Names the source in messages (a URL or a directory; never secret). */
    String describe();
  }

  /** A parsed document and the time it stops being fresh. */
  static final class Snapshot {
    final String json;
    final Map<String, PublicKey> keys;
    final long fetchedAtMillis;
    final long expiresAtMillis;

    private Snapshot(
        String json, Map<String, PublicKey> keys, long fetchedAtMillis, long expiresAtMillis) {
      this.json = json;
      this.keys = keys;
      this.fetchedAtMillis = fetchedAtMillis;
      this.expiresAtMillis = expiresAtMillis;
    }

    private boolean dueForRefresh(long nowMillis) {
      long margin = Math.min(REFRESH_MARGIN_MILLIS, (expiresAtMillis - fetchedAtMillis) / 2);
      return nowMillis >= expiresAtMillis - margin;
    }
  }

  private static final ConcurrentHashMap<List<Object>, CertificateCache> SHARED =
      new ConcurrentHashMap<>();

  private final Source source;
  private final LongSupplier nowMillis;
  private volatile @Nullable Snapshot current;
  private @Nullable IOException lastFailure;
  private long lastFailureAtMillis;
  private long lastAttemptAtMillis;

  CertificateCache(Source source, LongSupplier nowMillis) {
    this.source = source;
    this.nowMillis = nowMillis;
  }

  /**
   * The JVM-wide cache of the document at {@code url}, aged with {@code clock} (verifiers on
   * different clocks, as in tests, do not share).
   */
  static CertificateCache shared(String url, Clock clock) {
    return SHARED.computeIfAbsent(
        List.of(url, clock), key -> new CertificateCache(httpSource(url), clock::millis));
  }

  /** A fresh snapshot, fetching the document when none is cached or the cached one is due. */
  Snapshot get() throws IOException {
    Snapshot snapshot = current;
    if (snapshot != null && !snapshot.dueForRefresh(nowMillis.getAsLong())) {
      return snapshot;
    }
    return refresh();
  }

  /**
   * A fresh snapshot for a token signed with key {@code kid}: when the cached document lacks that
   * key, fetches the document again, but only if the last attempt is at least {@link
   * #UNKNOWN_KID_REFETCH_INTERVAL_MILLIS} old. The caller checks the returned snapshot for the key.
   */
  Snapshot forKeyId(String kid) throws IOException {
    Snapshot snapshot = get();
    return snapshot.keys.containsKey(kid) ? snapshot : refetchForUnknownKeyId(kid);
  }

  private synchronized Snapshot refetchForUnknownKeyId(String kid) throws IOException {
    Snapshot snapshot = current;
    if (snapshot == null) {
      return refresh();
    }
    long now = nowMillis.getAsLong();
    if (snapshot.keys.containsKey(kid)
        || now - lastAttemptAtMillis < UNKNOWN_KID_REFETCH_INTERVAL_MILLIS) {
      return snapshot;
    }
    LOG.info(
        "A token names a key id the cached certificates lack; fetching them again from {}",
        source.describe());
    return fetch(now, snapshot);
  }

  String describeSource() {
    return source.describe();
  }

  private synchronized Snapshot refresh() throws IOException {
    long now = nowMillis.getAsLong();
    Snapshot snapshot = current;
    if (snapshot != null && !snapshot.dueForRefresh(now)) {
      return snapshot; // another thread refreshed it meanwhile
    }
    if (lastFailure != null && now - lastFailureAtMillis < FAILURE_BACKOFF_MILLIS) {
      return staleOrThrow(snapshot, now, lastFailure);
    }
    return fetch(now, snapshot);
  }

  /** Fetches the document now; on failure, the unexpired {@code snapshot} or the failure. */
  private synchronized Snapshot fetch(long now, @Nullable Snapshot snapshot) throws IOException {
    lastAttemptAtMillis = now;
    try {
      Document document = source.fetch();
      Snapshot fresh;
      if (snapshot != null && snapshot.json.equals(document.json)) {
        // Same certificates: keep the same string and keys, so consumers see an unchanged document.
        fresh =
            new Snapshot(snapshot.json, snapshot.keys, now, now + document.maxAgeSeconds * 1000);
      } else {
        fresh =
            new Snapshot(
                document.json,
                parse(document.json, source.describe()),
                now,
                now + document.maxAgeSeconds * 1000);
      }
      current = fresh;
      lastFailure = null;
      return fresh;
    } catch (IOException e) {
      lastFailure = e;
      lastFailureAtMillis = now;
      return staleOrThrow(snapshot, now, e);
    }
  }

  private Snapshot staleOrThrow(@Nullable Snapshot snapshot, long now, IOException failure)
      throws IOException {
    if (snapshot != null && now < snapshot.expiresAtMillis) {
      LOG.warn(
          "Cannot refresh the token-signing certificates from {} ({}); using the cached ones"
              + " until they expire",
          source.describe(),
          failure.getMessage());
      return snapshot;
    }
    throw failure;
  }

  /** Parses {@code {"kid": "PEM", ...}} into RSA public keys by key id. */
  static Map<String, PublicKey> parse(String json, String origin) throws IOException {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (IOException e) {
      throw new IOException("certificate document from " + origin + " is not valid JSON", e);
    }
    if (root == null || !root.isObject() || root.isEmpty()) {
      throw new IOException(
          "certificate document from " + origin + " must be a non-empty JSON object");
    }
    Map<String, PublicKey> keys = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> entry = it.next();
      if (!entry.getValue().isTextual()) {
        throw new IOException(
            "certificate document from "
                + origin
                + ": value of key id '"
                + entry.getKey()
                + "' is not a PEM string");
      }
      try {
        X509Certificate certificate = Pem.parseCertificate(entry.getValue().asText());
        if (!(certificate.getPublicKey() instanceof RSAPublicKey)) {
          throw new IOException(
              "certificate document from "
                  + origin
                  + ": key id '"
                  + entry.getKey()
                  + "' is not an RSA certificate");
        }
        keys.put(entry.getKey(), certificate.getPublicKey());
      } catch (GeneralSecurityException | IllegalArgumentException e) {
        throw new IOException(
            "certificate document from "
                + origin
                + ": key id '"
                + entry.getKey()
                + "' is not a PEM X.509 certificate",
            e);
      }
    }
    return Map.copyOf(keys);
  }

  /** A fixed document (dev mode). */
  static Source fixedSource(String json, long maxAgeSeconds, String description) {
    return new Source() {
      @Override
      public Document fetch() {
        return new Document(json, maxAgeSeconds);
      }

      @Override
      public String describe() {
        return description;
      }
    };
  }

  /** Fetches the document over HTTP(S) and honours the response's {@code Cache-Control}. */
  static Source httpSource(String url) {
    URI uri = URI.create(url);
    HttpClient client =
        HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(10))
            .followRedirects(HttpClient.Redirect.NORMAL)
            .proxy(ProxySelector.getDefault())
            .build();
    return new Source() {
      @Override
      public Document fetch() throws IOException {
        HttpRequest request =
            HttpRequest.newBuilder(uri)
                .timeout(Duration.ofSeconds(20))
                .header("Accept", "application/json")
                .GET()
                .build();
        HttpResponse<String> response;
        try {
          response =
              client.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted while fetching certificates from " + url, e);
        }
        if (response.statusCode() != 200) {
          throw new IOException(
              "fetching certificates from " + url + " returned HTTP " + response.statusCode());
        }
        String cacheControl = response.headers().firstValue("Cache-Control").orElse(null);
        long maxAge =
            maxAgeSeconds(cacheControl, response.headers().firstValue("Age").orElse(null));
        if (maxAge < MIN_LIFETIME_SECONDS) {
          LOG.warn(
              "Certificates from {} came with Cache-Control '{}': keeping them {} s",
              url,
              cacheControl,
              MIN_LIFETIME_SECONDS);
          maxAge = MIN_LIFETIME_SECONDS;
        }
        return new Document(response.body(), maxAge);
      }

      @Override
      public String describe() {
        return url;
      }
    };
  }

  /** {@code max-age} minus {@code Age}, in seconds; 0 when there is no max-age. */
  static long maxAgeSeconds(@Nullable String cacheControl, @Nullable String age) {
    if (cacheControl == null) {
      return 0;
    }
    Matcher m = MAX_AGE.matcher(cacheControl.toLowerCase(Locale.ROOT));
    if (!m.find()) {
      return 0;
    }
    long maxAge;
    try {
      maxAge = Long.parseLong(m.group(1));
    } catch (NumberFormatException e) {
      return 0;
    }
    long ageSeconds = 0;
    if (age != null) {
      try {
        ageSeconds = Long.parseLong(age.trim());
      } catch (NumberFormatException e) {
        ageSeconds = 0;
      }
    }
    return Math.max(0, maxAge - Math.max(0, ageSeconds));
  }
}
