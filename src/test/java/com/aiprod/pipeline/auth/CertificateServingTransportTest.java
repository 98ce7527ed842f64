package com.aiprod.pipeline.auth;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.api.client.http.GenericUrl;
import com.google.api.client.http.HttpResponse;
import com.google.auth.oauth2.AccessToken;
import com.google.auth.oauth2.GoogleCredentials;
import com.google.firebase.FirebaseApp;
import com.google.firebase.FirebaseOptions;
import com.google.firebase.auth.AuthErrorCode;
import com.google.firebase.auth.FirebaseAuth;
import com.google.firebase.auth.FirebaseAuthException;
import com.google.firebase.auth.FirebaseToken;
import java.io.IOException;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The transport that feeds certificates to firebase-admin, alone and under verifyIdToken. */
class CertificateServingTransportTest {
  @TempDir Path keyDir;

  @Test
  void servesItsCertificateDocumentAtGooglesUrl() throws IOException {
    DevAuthKeys keys = DevAuthKeys.loadOrCreate(keyDir);
    CertificateServingTransport transport = new CertificateServingTransport(keys.certificateJson());
    for (String url :
        new String[] {
          AuthConfig.GOOGLE_CERTIFICATE_URL, AuthConfig.GOOGLE_CERTIFICATE_URL.replace("@", "%40")
        }) {
      HttpResponse response =
          transport.createRequestFactory().buildGetRequest(new GenericUrl(url)).execute();
      assertThat(response.getStatusCode(), equalTo(200));
      // Above firebase-admin's 5-minute refresh margin, so it does not re-parse on every call.
      assertThat(response.getHeaders().getCacheControl(), equalTo("public, max-age=3600"));
      assertThat(response.parseAsString(), equalTo(keys.certificateJson()));
    }
  }

  @Test
  void refusesOtherRequests() throws IOException {
    DevAuthKeys keys = DevAuthKeys.loadOrCreate(keyDir);
    CertificateServingTransport transport = new CertificateServingTransport(keys.certificateJson());
    IOException e =
        assertThrows(
            IOException.class,
            () ->
                transport
                    .createRequestFactory()
                    .buildGetRequest(new GenericUrl("https://oauth2.googleapis.com/token"))
                    .execute());
    assertThat(e.getMessage(), containsString("only serves the ID-token certificates"));
  }

  @Test
  void cacheHonoursMaxAge() throws IOException {
    AtomicInteger fetches = new AtomicInteger();
    long[] now = {0L};
    DevAuthKeys keys = DevAuthKeys.loadOrCreate(keyDir);
    CertificateCache cache =
        new CertificateCache(
            new CertificateCache.Source() {
              @Override
              public CertificateCache.Document fetch() {
                fetches.incrementAndGet();
                return new CertificateCache.Document(keys.certificateJson(), 1000);
              }

              @Override
              public String describe() {
                return "counting source";
              }
            },
            () -> now[0]);
    assertThat(cache.get().keys.keySet().contains(keys.kid()), is(true));
    now[0] = 600_000L; // 600 s of 1000: still fresh (refresh margin is min(300 s, max-age / 2))
    cache.get();
    assertThat(fetches.get(), equalTo(1));
    now[0] = 800_000L; // within the last 300 s: refreshed
    cache.get();
    assertThat(fetches.get(), equalTo(2));
    cache.get();
    assertThat(fetches.get(), equalTo(2));
  }

  @Test
  void unknownKeyIdsRefetchAtMostOncePerInterval() throws IOException {
    AtomicInteger fetches = new AtomicInteger();
    long[] now = {0L};
    DevAuthKeys keys = DevAuthKeys.loadOrCreate(keyDir);
    CertificateCache cache =
        new CertificateCache(
            new CertificateCache.Source() {
              @Override
              public CertificateCache.Document fetch() {
                fetches.incrementAndGet();
                return new CertificateCache.Document(keys.certificateJson(), 3600);
              }

              @Override
              public String describe() {
                return "counting source";
              }
            },
            () -> now[0]);
    CertificateCache.Snapshot first = cache.forKeyId(keys.kid());
    assertThat(fetches.get(), equalTo(1));
    // The fetch that filled the cache counts: no refetch within the interval.
    for (int i = 0; i < 100; i++) {
      assertThat(cache.forKeyId("unknown-" + i).keys.containsKey("unknown-" + i), is(false));
    }
    assertThat(fetches.get(), equalTo(1));
    now[0] += CertificateCache.UNKNOWN_KID_REFETCH_INTERVAL_MILLIS;
    for (int i = 0; i < 100; i++) {
      cache.forKeyId("unknown-" + i);
    }
    assertThat(fetches.get(), equalTo(2));
    // An unchanged document keeps the same string, so consumers see the same document.
    assertThat(cache.get().json == first.json, is(true));
    // A known key id never refetches.
    now[0] += CertificateCache.UNKNOWN_KID_REFETCH_INTERVAL_MILLIS;
    cache.forKeyId(keys.kid());
    assertThat(fetches.get(), equalTo(2));
  }

  @Test
  void maxAgeParsing() {
    assertThat(
        CertificateCache.maxAgeSeconds("public, max-age=19137, must-revalidate", null),
        equalTo(19137L));
    assertThat(CertificateCache.maxAgeSeconds("public, max-age=600", "100"), equalTo(500L));
    assertThat(CertificateCache.maxAgeSeconds("no-cache", null), equalTo(0L));
    assertThat(CertificateCache.maxAgeSeconds(null, null), equalTo(0L));
    assertThat(CertificateCache.maxAgeSeconds("s-maxage=50", null), equalTo(0L));
  }

  @Test
  void rejectsBadCertificateDocuments() {
    for (String json : new String[] {"", "[]", "{}", "{\"k\": 1}", "{\"k\": \"not a pem\"}"}) {
      assertThrows(IOException.class, () -> CertificateCache.parse(json, "test"), json);
    }
  }

  /** firebase-admin itself, fed through the transport, verifies a dev token offline. */
  @Test
  void firebaseAdminVerifiesThroughTheTransport() throws Exception {
    DevAuthKeys keys = DevAuthKeys.loadOrCreate(keyDir);
    FirebaseApp app =
        FirebaseApp.initializeApp(
            FirebaseOptions.builder()
                .setProjectId("demo-aiprod")
                .setCredentials(
                    GoogleCredentials.create(
                        new AccessToken("unused", Date.from(Instant.now().plusSeconds(86400)))))
                .setHttpTransport(new CertificateServingTransport(keys.certificateJson()))
                .build(),
            "transport-test-" + System.nanoTime());
    try {
      FirebaseAuth auth = FirebaseAuth.getInstance(app);
      FirebaseToken token = auth.verifyIdToken(new DevTokens(keys, "demo-aiprod").mint("alice"));
      assertThat(token.getUid(), equalTo("alice"));
      assertThat(
          auth.verifyIdToken(new DevTokens(keys, "demo-aiprod").mint("bob")).getUid(),
          equalTo("bob"));

      KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
      generator.initialize(2048);
      String forged =
          HostileTokens.rs256(
              HostileTokens.header("RS256", keys.kid()),
              HostileTokens.claims("demo-aiprod", "alice"),
              generator.generateKeyPair().getPrivate());
      FirebaseAuthException e =
          assertThrows(FirebaseAuthException.class, () -> auth.verifyIdToken(forged));
      assertThat(e.getAuthErrorCode(), equalTo(AuthErrorCode.INVALID_ID_TOKEN));
      assertThat(e.getMessage(), containsString("signature"));
    } finally {
      app.delete();
    }
  }
}
