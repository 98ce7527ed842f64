package com.aiprod.pipeline.persist;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.aiprod.pipeline.kernel.DeadLetters;
import com.aiprod.pipeline.model.DeadLetter;
import com.aiprod.pipeline.model.ReasonCode;
import com.aiprod.pipeline.model.RequestMessage;
import com.aiprod.pipeline.testing.PubsubEmulator;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.io.gcp.pubsub.PubsubMessage;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.Create;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link PublishDeadLetters} in a batch pipeline against the Pub/Sub emulator. */
class PublishDeadLettersTest {
  @RegisterExtension static final PubsubEmulator PUBSUB = new PubsubEmulator();

  private static final String TOKEN =
      "eyJhbGciOiJSUzI1NiIsImtpZCI6ImRldiJ9.eyJzdWIiOiJ1c2VyLTEiLCJ0ZW5hbnQiOiJhY21lIn0.c2lnbmF0dXJl";
  private static final Set<String> ATTRIBUTES =
      Set.of("reason_code", "stage", "message_id", "error_message");

  private static RequestMessage.Builder message(String id) {
    return RequestMessage.builder()
        .setMessageId(id)
        .setDefaultJobId("pubsub-" + id)
        .setOrdinal(1)
        .setReceivedAtMillis(System.currentTimeMillis())
        .setSource("projects/demo-aiprod/subscriptions/requests")
        .setAttributes(Map.of("authorization", "Bearer " + TOKEN, "job_id", "job-dead-0001"));
  }

  @Test
  void publishesOneRedactedMessagePerDeadLetter() throws Exception {
    String topic = PUBSUB.createTopic("dead-letters");
    String subscription = PUBSUB.createSubscription("dead-letters-sub", topic, 30);

    // An unreadable body quoting the token, and an expired-token rejection with a long message.
    DeadLetter malformed =
        DeadLetters.of(
            message("101")
                .setRawText("{\"content\": \"x\", \"authorization\": \"Bearer " + TOKEN + "\"")
                .setReadErrorCode("MALFORMED_JSON")
                .setReadErrorMessage("request body is not valid JSON")
                .build(),
            ReasonCode.MALFORMED_JSON,
            "request body is not valid JSON (unexpected end) at column 60",
            "ReadRequests",
            null);
    String body = "{\"content\":\"A calm sunrise over the harbour.\"}";
    DeadLetter expired =
        DeadLetters.of(
            message("102").setPayload(body.getBytes(StandardCharsets.UTF_8)).build(),
            ReasonCode.AUTH_EXPIRED,
            "token " + TOKEN + " expired; " + "sign in again. ".repeat(100),
            "Authenticate",
            new IllegalStateException("expired: Bearer " + TOKEN));

    Pipeline p =
        Pipeline.create(
            PipelineOptionsFactory.fromArgs(
                    "--runner=DirectRunner",
                    "--project=" + PubsubEmulator.PROJECT,
                    "--pubsubRootUrl=" + PUBSUB.rootUrl(),
                    "--credentialFactoryClass=org.apache.beam.sdk.extensions.gcp.auth.NoopCredentialFactory")
                .create());
    p.apply(Create.of(malformed, expired)).apply(PublishDeadLetters.to(topic));
    p.run().waitUntilFinish();

    List<PubsubEmulator.Received> pulled =
        PUBSUB.pullAtLeast(subscription, 2, Duration.ofSeconds(30));
    assertThat(pulled.size(), equalTo(2));
    Map<String, PubsubEmulator.Received> byMessageId = new HashMap<>();
    for (PubsubEmulator.Received r : pulled) {
      assertThat(r.attributes().keySet(), equalTo(ATTRIBUTES));
      String everything = new String(r.data(), StandardCharsets.UTF_8) + r.attributes();
      assertThat(everything, not(containsString(TOKEN)));
      assertThat(everything, not(containsString(TOKEN.substring(0, 36))));
      assertThat(everything.toLowerCase(), not(containsString("authorization\":\"bearer e")));
      byMessageId.put(r.attributes().get("message_id"), r);
    }

    PubsubEmulator.Received first = byMessageId.get("101");
    assertThat(first.attributes().get("reason_code"), equalTo("MALFORMED_JSON"));
    assertThat(first.attributes().get("stage"), equalTo("ReadRequests"));
    assertThat(
        first.attributes().get("error_message"),
        equalTo("request body is not valid JSON (unexpected end) at column 60"));
    assertThat(
        new String(first.data(), StandardCharsets.UTF_8),
        equalTo("{\"content\": \"x\", \"authorization\": \"[REDACTED]\""));

    PubsubEmulator.Received second = byMessageId.get("102");
    assertThat(second.attributes().get("reason_code"), equalTo("AUTH_EXPIRED"));
    assertThat(second.attributes().get("stage"), equalTo("Authenticate"));
    assertThat(second.attributes().get("error_message").length(), equalTo(1_000));
    assertThat(
        second.attributes().get("error_message"), startsWith("token [REDACTED] expired; sign in"));
    assertThat(new String(second.data(), StandardCharsets.UTF_8), equalTo(body));
  }

  @Test
  void choosesTheDataAndLimitsAttributeValues() {
    DeadLetter.Builder base =
        DeadLetter.builder()
            .setTimestampMillis(1L)
            .setAttributes(Map.of("authorization", "[REDACTED]"))
            .setReasonCode("MALFORMED_JSON")
            .setStage("ReadRequests")
            .setMessageId("m-1")
            .setErrorMessage("body is not UTF-8");
    byte[] raw = {(byte) 0xff, 0x00, 0x7b};
    PubsubMessage bytes =
        PublishDeadLetters.toMessage(base.setPayloadBytes(raw).setPayloadString("ignored").build());
    assertThat(bytes.getPayload(), equalTo(raw));

    PubsubMessage noPayload =
        PublishDeadLetters.toMessage(base.setPayloadBytes(null).setPayloadString(null).build());
    assertThat(
        new String(noPayload.getPayload(), StandardCharsets.UTF_8), equalTo("body is not UTF-8"));
    assertThat(noPayload.getAttributeMap().keySet(), equalTo(ATTRIBUTES));

    // 1,000 three-byte characters would be 3,000 bytes: cut to Pub/Sub's 1,024 bytes per value.
    String wide = "€".repeat(1_200);
    PubsubMessage limited = PublishDeadLetters.toMessage(base.setErrorMessage(wide).build());
    String message = limited.getAttribute("error_message");
    assertThat(message.getBytes(StandardCharsets.UTF_8).length, lessThanOrEqualTo(1_024));
    assertThat(message, equalTo("€".repeat(341)));

    String emoji = "😀".repeat(600);
    String cut = PublishDeadLetters.limit(emoji, 1_000);
    assertThat(cut, equalTo("😀".repeat(256)));
  }

  @Test
  void needsATopicPath() {
    assertThrows(IllegalArgumentException.class, () -> PublishDeadLetters.to("dead-letters"));
    assertThrows(IllegalArgumentException.class, () -> PublishDeadLetters.to(null));
  }
}
