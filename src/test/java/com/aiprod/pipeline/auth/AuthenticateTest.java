package com.aiprod.pipeline.auth;

import static com.aiprod.pipeline.testing.StageFixtures.AUDIT;
import static com.aiprod.pipeline.testing.StageFixtures.eventTypes;
import static com.aiprod.pipeline.testing.StageFixtures.list;
import static com.aiprod.pipeline.testing.StageFixtures.message;
import static com.aiprod.pipeline.testing.StageFixtures.reasonCodes;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasEntry;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;

import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.model.AuthenticatedRequest;
import com.aiprod.pipeline.model.DeadLetter;
import com.aiprod.pipeline.model.Principal;
import com.aiprod.pipeline.model.RequestMessage;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class AuthenticateTest {
  private static final String PROJECT = "demo-aiprod";
  private static final String BODY =
      "{\"content\": \"A lighthouse at dawn. Waves crash on the rocks.\", \"mode\": \"preview\","
          + " \"duration_sec\": 10}";

  @RegisterExtension final TestPipelineExtension pipeline = TestPipelineExtension.create();

  @TempDir static Path keyDir;

  private static DevAuthKeys keys;
  private static String token;

  @BeforeAll
  static void keys() throws IOException {
    keys = DevAuthKeys.loadOrCreate(keyDir);
    token = new DevTokens(keys, PROJECT).mint("alice", "acme", "user", "pro", Duration.ofHours(1));
  }

  private static PCollectionTuple authenticate(TestPipeline p, RequestMessage... messages) {
    return p.apply(Create.of(List.of(messages)))
        .apply(new Authenticate(AuthConfig.dev(PROJECT, keyDir.toString()), AUDIT));
  }

  /** No audit event or dead letter may carry the token or any long part of it. */
  private static void assertNoToken(String tokenUsed, Object value) {
    String text = value.toString();
    assertThat(text, not(containsString(tokenUsed)));
    for (String part : tokenUsed.split("\\.")) {
      if (part.length() >= 16) {
        assertThat(text, not(containsString(part)));
      }
    }
  }

  private static void assertRedacted(DeadLetter d, String tokenUsed) {
    assertNoToken(tokenUsed, d);
    d.getAttributes()
        .forEach(
            (k, v) -> {
              if (k.toLowerCase(Locale.ROOT).contains("authorization")) {
                assertThat(k, v, equalTo("[REDACTED]"));
              }
            });
  }

  @Test
  void validTokenIsAuthenticatedWithoutItsAuthorizationAttribute(TestPipeline p) {
    PCollectionTuple out =
        authenticate(
            p,
            message(
                "m-1",
                1,
                Map.of("authorization", "Bearer " + token, "job_id", "job-0000001"),
                BODY),
            message("m-2", 2, Map.of("Authorization", "Bearer " + token), BODY));

    PAssert.that(out.get(Authenticate.AUTHENTICATED))
        .satisfies(
            in -> {
              List<AuthenticatedRequest> all = list(in);
              assertThat(all, hasSize(2));
              for (AuthenticatedRequest r : all) {
                for (String key : r.getMessage().getAttributes().keySet()) {
                  assertThat(key.toLowerCase(Locale.ROOT), not(equalTo("authorization")));
                }
                assertNoToken(token, r);
                assertThat(
                    r.getPrincipal(), equalTo(Principal.create("alice", "acme", "user", "pro")));
                if (r.getMessage().getMessageId().equals("m-1")) {
                  assertThat(
                      new TreeMap<>(r.getMessage().getAttributes()),
                      equalTo(Map.of("job_id", "job-0000001")));
                }
              }
              return null;
            });
    PAssert.that(out.get(StageTags.AUDIT))
        .satisfies(
            events -> {
              List<AuditEvent> all = list(events);
              assertThat(eventTypes(all), contains("AUTH_SUCCESS", "AUTH_SUCCESS"));
              assertThat(
                  all.stream().map(AuditEvent::getMessageId).toList(),
                  containsInAnyOrder("m-1", "m-2"));
              for (AuditEvent e : all) {
                assertThat(e.getStatus(), equalTo("success"));
                assertThat(e.getTenant(), equalTo("acme"));
                assertThat(e.getUserId(), equalTo("alice"));
                assertNoToken(token, e);
              }
              return null;
            });
    PAssert.that(out.get(StageTags.DEAD_LETTERS)).empty();
    p.run().waitUntilFinish();
  }

  @Test
  void missingTokenIsDeadLetteredWithOneFailureEvent(TestPipeline p) {
    PCollectionTuple out =
        authenticate(p, message("m-1", 1, Map.of("job_id", "job-0000001"), BODY));

    PAssert.that(out.get(Authenticate.AUTHENTICATED)).empty();
    PAssert.that(out.get(StageTags.DEAD_LETTERS))
        .satisfies(
            dead -> {
              DeadLetter d = list(dead).get(0);
              assertThat(reasonCodes(dead), contains("AUTH_MISSING"));
              assertThat(d.getStage(), equalTo("Authenticate"));
              assertThat(d.getMessageId(), equalTo("m-1"));
              assertThat(d.getPayloadString(), equalTo(BODY));
              assertThat(d.getAttributes(), hasEntry("job_id", "job-0000001"));
              return null;
            });
    PAssert.that(out.get(StageTags.AUDIT))
        .satisfies(
            events -> {
              assertThat(eventTypes(events), contains("AUTH_FAILURE"));
              AuditEvent e = list(events).get(0);
              assertThat(e.getStatus(), equalTo("failure"));
              assertThat(e.getMessageId(), equalTo("m-1"));
              assertThat(e.getDetails(), containsString("AUTH_MISSING"));
              return null;
            });
    p.run().waitUntilFinish();
  }

  @Test
  void forgedTokenIsInvalidAndRaisesASecurityAlert(TestPipeline p) {
    String forged =
        HostileTokens.unsigned(
            HostileTokens.header("none", keys.kid()), HostileTokens.claims(PROJECT, "mallory"));
    PCollectionTuple out =
        authenticate(
            p,
            message(
                "m-1",
                1,
                Map.of("authorization", "Bearer " + forged, "job_id", "job-0000001"),
                BODY));

    PAssert.that(out.get(Authenticate.AUTHENTICATED)).empty();
    PAssert.that(out.get(StageTags.DEAD_LETTERS))
        .satisfies(
            dead -> {
              assertThat(reasonCodes(dead), contains("AUTH_INVALID"));
              DeadLetter d = list(dead).get(0);
              assertThat(d.getStage(), equalTo("Authenticate"));
              assertThat(d.getAttributes(), hasEntry("authorization", "[REDACTED]"));
              assertRedacted(d, forged);
              return null;
            });
    PAssert.that(out.get(StageTags.AUDIT))
        .satisfies(
            events -> {
              assertThat(eventTypes(events), containsInAnyOrder("AUTH_FAILURE", "SECURITY_ALERT"));
              for (AuditEvent e : events) {
                assertThat(e.getMessageId(), equalTo("m-1"));
                assertThat(e.getTenant(), nullValue());
                assertNoToken(forged, e);
              }
              return null;
            });
    p.run().waitUntilFinish();
  }

  @Test
  void unreadableMessageIsAuthenticatedThenDeadLetteredWithItsReadError(TestPipeline p) {
    RequestMessage unreadable =
        message("in.jsonl:3", 3, Map.of("authorization", "Bearer " + token), null).toBuilder()
            .setRawText("{\"data\": {not json")
            .setReadErrorCode("MALFORMED_JSON")
            .setReadErrorMessage("line 3 is not JSON: fix the envelope")
            .build();
    PCollectionTuple out = authenticate(p, unreadable);

    PAssert.that(out.get(Authenticate.AUTHENTICATED)).empty();
    PAssert.that(out.get(StageTags.AUDIT))
        .satisfies(
            events -> {
              assertThat(eventTypes(events), contains("AUTH_SUCCESS"));
              AuditEvent e = list(events).get(0);
              assertThat(e.getMessageId(), equalTo("in.jsonl:3"));
              assertNoToken(token, e);
              return null;
            });
    PAssert.that(out.get(StageTags.DEAD_LETTERS))
        .satisfies(
            dead -> {
              assertThat(reasonCodes(dead), contains("MALFORMED_JSON"));
              DeadLetter d = list(dead).get(0);
              assertThat(d.getStage(), equalTo("ReadRequests"));
              assertThat(d.getMessageId(), equalTo("in.jsonl:3"));
              assertThat(d.getPayloadString(), equalTo("{\"data\": {not json"));
              assertThat(d.getErrorMessage(), equalTo("line 3 is not JSON: fix the envelope"));
              assertThat(d.getAttributes(), hasEntry("authorization", "[REDACTED]"));
              assertRedacted(d, token);
              return null;
            });
    p.run().waitUntilFinish();
  }
}
