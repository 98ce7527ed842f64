package com.aiprod.pipeline.auth;

import static com.aiprod.pipeline.testing.StageFixtures.AUDIT;
import static com.aiprod.pipeline.testing.StageFixtures.eventTypes;
import static com.aiprod.pipeline.testing.StageFixtures.list;
import static com.aiprod.pipeline.testing.StageFixtures.message;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.model.AuthenticatedRequest;
import com.aiprod.pipeline.model.DeadLetter;
import com.aiprod.pipeline.model.Principal;
import com.aiprod.pipeline.model.RequestMessage;
import java.io.IOException;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The Authenticate transform in {@code --authMode=firebase}, on the DirectRunner, against the
 * loopback certificate server: the DoFn's verifier fetches the certificates over HTTP in the
 * workers, as it would fetch Google's.
 */
class FirebaseAuthenticateTest {
  private static final String PROJECT = "aiprod-prod";
  private static final String BODY =
      "{\"content\": \"A lighthouse at dawn. Waves crash on the rocks.\", \"mode\": \"preview\","
          + " \"duration_sec\": 10}";

  @RegisterExtension final TestPipelineExtension pipeline = TestPipelineExtension.create();

  private TestSigningKey key;
  private LoopbackCertificateServer server;
  private AuthConfig config;

  @BeforeEach
  void start() throws IOException {
    key = TestSigningKey.generate();
    server = LoopbackCertificateServer.start(key);
    config = AuthConfig.firebase(PROJECT).withCertificateUrl(server.url());
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private static RequestMessage withToken(String id, long ordinal, String token) {
    return message(id, ordinal, Map.of("authorization", "Bearer " + token), BODY);
  }

  private PCollectionTuple authenticate(Pipeline p, List<RequestMessage> messages) {
    return p.apply(Create.of(messages)).apply(new Authenticate(config, AUDIT));
  }

  @Test
  void firebaseTokensAreJudgedInThePipeline(TestPipeline p) {
    long now = Instant.now().getEpochSecond();
    Map<String, Object> good = HostileTokens.claims(PROJECT, "alice");
    good.put("tenant", "acme");
    good.put("role", "user");
    good.put("plan", "pro");
    Map<String, Object> expired = HostileTokens.claims(PROJECT, "bob");
    expired.put("iat", now - 7200);
    expired.put("auth_time", now - 7200);
    expired.put("exp", now - 3600);
    Map<String, Object> future = HostileTokens.claims(PROJECT, "carol");
    future.put("iat", now + 600);
    String[] signed = HostileTokens.parts(key.mint(PROJECT, "dave"));
    Map<String, Object> escalated = HostileTokens.claims(PROJECT, "dave");
    escalated.put("role", "admin");

    List<String> tokens =
        List.of(
            key.sign(good),
            key.mint("other-project", "erin"),
            key.sign(expired),
            key.sign(future),
            HostileTokens.unsigned(
                HostileTokens.header("none", key.kid), HostileTokens.claims(PROJECT, "mallory")),
            HostileTokens.hmac(
                "HS256",
                HostileTokens.header("HS256", key.kid),
                HostileTokens.claims(PROJECT, "mallory"),
                key.certificatePem.getBytes(java.nio.charset.StandardCharsets.US_ASCII)),
            signed[0] + "." + HostileTokens.b64Json(escalated) + "." + signed[2],
            TestSigningKey.generate().mint(PROJECT, "mallory"));
    List<RequestMessage> messages = new java.util.ArrayList<>();
    for (int i = 0; i < tokens.size(); i++) {
      messages.add(withToken("m-" + i, i, tokens.get(i)));
    }
    messages.add(message("m-missing", 99, Map.of(), BODY));
    PCollectionTuple out = authenticate(p, messages);

    PAssert.that(out.get(Authenticate.AUTHENTICATED))
        .satisfies(
            in -> {
              List<AuthenticatedRequest> all = list(in);
              assertThat(all, hasSize(1));
              assertThat(all.get(0).getMessage().getMessageId(), equalTo("m-0"));
              assertThat(
                  all.get(0).getPrincipal(),
                  equalTo(Principal.create("alice", "acme", "user", "pro")));
              assertThat(all.get(0).getMessage().getAttributes().isEmpty(), is(true));
              return null;
            });
    PAssert.that(out.get(StageTags.DEAD_LETTERS))
        .satisfies(
            dead -> {
              Map<String, String> reasons = new HashMap<>();
              for (DeadLetter d : dead) {
                reasons.put(d.getMessageId(), d.getReasonCode());
                assertThat(d.getStage(), equalTo("Authenticate"));
                for (String token : tokens) {
                  assertThat(d.toString(), not(containsString(token)));
                }
              }
              assertThat(
                  reasons,
                  equalTo(
                      Map.of(
                          "m-1", "AUTH_INVALID", // another project
                          "m-2", "AUTH_EXPIRED",
                          "m-3", "AUTH_INVALID", // iat in the future
                          "m-4", "AUTH_INVALID", // alg none
                          "m-5", "AUTH_INVALID", // HS256
                          "m-6", "AUTH_INVALID", // tampered payload
                          "m-7", "AUTH_INVALID", // key not served
                          "m-missing", "AUTH_MISSING")));
              return null;
            });
    PAssert.that(out.get(StageTags.AUDIT))
        .satisfies(
            events -> {
              List<AuditEvent> all = list(events);
              Map<String, Integer> failures = new HashMap<>();
              Map<String, Integer> alerts = new HashMap<>();
              for (AuditEvent e : all) {
                if (e.getEventType().equals("AUTH_FAILURE")) {
                  failures.merge(e.getMessageId(), 1, Integer::sum);
                } else if (e.getEventType().equals("SECURITY_ALERT")) {
                  alerts.merge(e.getMessageId(), 1, Integer::sum);
                }
                for (String token : tokens) {
                  assertThat(e.toString(), not(containsString(token)));
                }
              }
              assertThat(
                  eventTypes(all).stream().filter("AUTH_SUCCESS"::equals).count(), equalTo(1L));
              assertThat(failures.size(), equalTo(8));
              assertThat(failures.values().stream().allMatch(n -> n == 1), is(true));
              // Forged: alg none, HS256, tampered payload, unknown kid.
              assertThat(alerts.keySet(), containsInAnyOrder("m-4", "m-5", "m-6", "m-7"));
              return null;
            });
    p.run().waitUntilFinish();
    // However many DoFn instances the runner made, the worker fetched the certificates once.
    assertThat(server.hits(), equalTo(1));
  }

  @Test
  void anUnavailableCertificateEndpointFailsTheBundleForRetryInsteadOfRejecting(TestPipeline p)
      throws InterruptedException {
    server.failWith(500);
    String token = key.mint(PROJECT, "alice");
    PCollectionTuple out = authenticate(p, List.of(withToken("m-1", 1, token)));
    PAssert.that(out.get(StageTags.DEAD_LETTERS)).empty();

    RuntimeException e = assertThrows(RuntimeException.class, () -> p.run().waitUntilFinish());
    AuthUnavailableException unavailable = null;
    for (Throwable t = e; t != null; t = t.getCause()) {
      assertThat(String.valueOf(t.getMessage()), not(containsString(token)));
      if (t instanceof AuthUnavailableException) {
        unavailable = (AuthUnavailableException) t;
      }
    }
    assertThat(unavailable, notNullValue());
    assertThat(unavailable.getMessage(), containsString(server.url()));
    assertThat(unavailable.getMessage(), containsString("HTTP 500"));

    // The runner retries the bundle; once the endpoint answers (and the worker's 5 s back-off
    // after a failed fetch has passed), the same message authenticates.
    server.failWith(200);
    Thread.sleep(CertificateCache.FAILURE_BACKOFF_MILLIS + 200);
    Pipeline retry = Pipeline.create(TestPipeline.testingPipelineOptions());
    PCollectionTuple again = authenticate(retry, List.of(withToken("m-1", 1, token)));
    PAssert.that(again.get(Authenticate.AUTHENTICATED))
        .satisfies(
            in -> {
              assertThat(
                  list(in).get(0).getPrincipal(),
                  equalTo(Principal.create("alice", "alice", "viewer", "free")));
              return null;
            });
    PAssert.that(again.get(StageTags.DEAD_LETTERS)).empty();
    retry.run().waitUntilFinish();
  }
}
