package com.aiprod.pipeline.ingest;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.aMapWithSize;
import static org.hamcrest.Matchers.anEmptyMap;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.hasEntry;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.aiprod.pipeline.model.RequestMessage;
import com.aiprod.pipeline.testing.PubsubEmulator;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.io.gcp.pubsub.PubsubMessage;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link ReadRequests#fromPubsub} on the DirectRunner in streaming mode, against the emulator. */
class ReadRequestsPubsubTest {
  @RegisterExtension static final PubsubEmulator PUBSUB = new PubsubEmulator();

  /** What each test's pipeline read, keyed by a per-test id (the DirectRunner shares the JVM). */
  private static final Map<String, Queue<RequestMessage>> COLLECTED = new ConcurrentHashMap<>();

  private static final String TOKEN =
      "eyJhbGciOiJSUzI1NiIsImtpZCI6ImRldiJ9.eyJzdWIiOiJ1c2VyLTEiLCJ0ZW5hbnQiOiJhY21lIn0.c2lnbmF0dXJl";
  private static final String VALID_BODY =
      "{\"content\":\"A calm sunrise over the harbour, boats leaving one by one.\"}";

  /** Adds every element to {@link #COLLECTED} under the test's id. */
  private static final class CollectFn extends DoFn<RequestMessage, Void> {
    private final String testId;

    CollectFn(String testId) {
      this.testId = testId;
    }

    @ProcessElement
    public void process(@Element RequestMessage m) {
      COLLECTED.computeIfAbsent(testId, k -> new ConcurrentLinkedQueue<>()).add(m);
    }
  }

  @Test
  void readsMessagesFromASubscriptionAsRequestMessages() throws Exception {
    String topic = PUBSUB.createTopic("requests-read");
    String subscription = PUBSUB.createSubscription("requests-read-sub", topic, 60);

    String validId =
        PUBSUB.publish(
            topic,
            VALID_BODY.getBytes(StandardCharsets.UTF_8),
            Map.of("authorization", "Bearer " + TOKEN, "action", "submit"));
    String badBodyId =
        PUBSUB.publish(
            topic,
            ("{\"content\": \"oops\", Bearer " + TOKEN).getBytes(StandardCharsets.UTF_8),
            Map.of("authorization", "Bearer " + TOKEN));
    String withJobId =
        PUBSUB.publish(
            topic,
            VALID_BODY.getBytes(StandardCharsets.UTF_8),
            Map.of("job_id", "job-pubsub-0001"));
    // No data at all (attributes only): an empty body, a read error.
    String emptyBodyId = PUBSUB.publish(topic, new byte[0], Map.of("action", "submit"));
    // Same job_id again: read as a message of its own (Admit makes it a DUPLICATE_JOB).
    String sameJobId =
        PUBSUB.publish(
            topic,
            "{\"content\":\"a different request with the same job id\"}"
                .getBytes(StandardCharsets.UTF_8),
            Map.of("job_id", "job-pubsub-0001"));

    String testId = UUID.randomUUID().toString();
    Pipeline p = Pipeline.create(streamingOptions());
    p.apply("ReadRequests", ReadRequests.fromPubsub(subscription, null))
        .apply("Collect", ParDo.of(new CollectFn(testId)));
    PipelineResult result = p.run();
    List<RequestMessage> read;
    try {
      read = awaitCollected(testId, 5, Duration.ofSeconds(60));
      // Give a wrongly redelivered message the time to show up before stopping.
      Thread.sleep(3_000);
      read = new ArrayList<>(COLLECTED.getOrDefault(testId, new ConcurrentLinkedQueue<>()));
    } finally {
      result.cancel();
      COLLECTED.remove(testId);
    }

    assertThat("messages read (each once, the repeated job_id too)", read.size(), equalTo(5));
    assertThat(
        read.stream().map(RequestMessage::getMessageId).toList(),
        org.hamcrest.Matchers.hasItem(sameJobId));
    Map<String, RequestMessage> byId = new HashMap<>();
    for (RequestMessage m : read) {
      assertThat(m.getSource(), equalTo(subscription));
      assertThat(m.getReceivedAtMillis(), greaterThanOrEqualTo(m.getOrdinal()));
      byId.put(m.getMessageId(), m);
    }

    RequestMessage valid = byId.get(validId);
    assertThat(
        "valid message by its Pub/Sub id " + validId + " in " + byId.keySet(), valid != null);
    // The emulator's ids are short integers: the default job id is prefixed.
    assertThat(validId.matches("[0-9]{1,7}"), is(true));
    assertThat(valid.getDefaultJobId(), equalTo("pubsub-" + validId));
    assertThat(new String(valid.getPayload(), StandardCharsets.UTF_8), equalTo(VALID_BODY));
    assertThat(valid.getReadErrorCode(), nullValue());
    assertThat(valid.getRawText(), nullValue());
    assertThat(valid.getAttributes(), aMapWithSize(2));
    assertThat(valid.getAttributes(), hasEntry("authorization", "Bearer " + TOKEN));
    assertThat(valid.getAttributes(), hasEntry("action", "submit"));

    RequestMessage bad = byId.get(badBodyId);
    assertThat("bad-body message " + badBodyId, bad != null);
    assertThat(bad.getDefaultJobId(), equalTo("pubsub-" + badBodyId));
    assertThat(bad.getPayload(), nullValue());
    assertThat(bad.getReadErrorCode(), equalTo("MALFORMED_JSON"));
    assertThat(bad.getReadErrorMessage(), containsString("request body is not valid JSON"));
    assertThat(bad.getRawText(), containsString("Bearer [REDACTED]"));
    assertThat(bad.getRawText(), not(containsString(TOKEN)));
    assertThat(bad.getAttributes(), hasEntry("authorization", "Bearer " + TOKEN));

    RequestMessage empty = byId.get(emptyBodyId);
    assertThat("empty-body message " + emptyBodyId, empty != null);
    assertThat(empty.getReadErrorCode(), equalTo("MALFORMED_JSON"));
    assertThat(empty.getReadErrorMessage(), containsString("request body is empty"));
    assertThat(new HashMap<>(empty.getAttributes()), equalTo(Map.of("action", "submit")));

    // job_id is not PubsubIO's id attribute: the message keeps its Pub/Sub message id.
    RequestMessage job =
        read.stream()
            .filter(m -> "job-pubsub-0001".equals(m.getAttributes().get("job_id")))
            .findFirst()
            .orElseThrow();
    assertThat(job.getMessageId(), equalTo(withJobId));
    assertThat(new String(job.getPayload(), StandardCharsets.UTF_8), equalTo(VALID_BODY));
    assertThat(new HashMap<>(job.getAttributes()), equalTo(Map.of("job_id", "job-pubsub-0001")));
    assertThat(job.getReadErrorCode(), nullValue());
  }

  @Test
  void readsFromATopicThroughASubscriptionOfItsOwn() throws Exception {
    String topic = PUBSUB.createTopic("requests-topic-read");
    String testId = UUID.randomUUID().toString();
    Pipeline p = Pipeline.create(streamingOptions());
    p.apply("ReadRequests", ReadRequests.fromPubsub(null, topic))
        .apply("Collect", ParDo.of(new CollectFn(testId)));
    PipelineResult result = p.run();
    List<String> published = new ArrayList<>();
    List<RequestMessage> read = List.of();
    try {
      // The runner creates its subscription when the reader starts; only messages published after
      // that reach it, so publish until one arrives.
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (read.isEmpty() && System.nanoTime() < deadline) {
        published.add(PUBSUB.publish(topic, VALID_BODY.getBytes(StandardCharsets.UTF_8), Map.of()));
        read = awaitCollected(testId, 1, Duration.ofSeconds(1));
      }
    } finally {
      result.cancel();
      COLLECTED.remove(testId);
    }
    assertThat("a message read from " + topic, read.isEmpty(), is(false));
    RequestMessage m = read.get(0);
    assertThat(m.getSource(), equalTo(topic));
    assertThat(published.contains(m.getMessageId()), is(true));
    assertThat(m.getDefaultJobId(), equalTo("pubsub-" + m.getMessageId()));
    assertThat(new String(m.getPayload(), StandardCharsets.UTF_8), equalTo(VALID_BODY));
  }

  @Test
  void mapsAMessageLikeABatchLine() {
    long publish = 1_764_000_000_123L;
    RequestMessage realId =
        ReadRequests.PubsubMessageFn.toMessage(
            new PubsubMessage(
                VALID_BODY.getBytes(StandardCharsets.UTF_8), null, "12345678901234567"),
            publish,
            "projects/p/subscriptions/s",
            publish + 5);
    assertThat(realId.getMessageId(), equalTo("12345678901234567"));
    assertThat(realId.getDefaultJobId(), equalTo("12345678901234567"));
    assertThat(realId.getAttributes(), anEmptyMap());
    assertThat(realId.getOrdinal(), equalTo(publish));
    assertThat(realId.getReceivedAtMillis(), equalTo(publish + 5));
    assertThat(realId.getSource(), equalTo("projects/p/subscriptions/s"));

    byte[] tooLarge = new byte[Envelope.MAX_PAYLOAD_BYTES + 1];
    java.util.Arrays.fill(tooLarge, (byte) 'a');
    RequestMessage large =
        ReadRequests.PubsubMessageFn.toMessage(
            new PubsubMessage(tooLarge, Map.of("job_id", "job-large-0001"), "job-large-0001"),
            publish,
            "projects/p/topics/t",
            publish);
    assertThat(large.getReadErrorCode(), equalTo("PAYLOAD_TOO_LARGE"));
    assertThat(large.getMessageId(), equalTo("job-large-0001"));
    assertThat(large.getRawText().length(), equalTo(4096));

    RequestMessage notUtf8 =
        ReadRequests.PubsubMessageFn.toMessage(
            new PubsubMessage(new byte[] {(byte) 0xff, (byte) 0xfe, '{', '}'}, Map.of(), "77"),
            publish,
            "projects/p/subscriptions/s",
            publish);
    assertThat(notUtf8.getReadErrorCode(), equalTo("MALFORMED_JSON"));
    assertThat(notUtf8.getReadErrorMessage(), containsString("not valid UTF-8"));
    assertThat(notUtf8.getDefaultJobId(), equalTo("pubsub-77"));
  }

  @Test
  void needsExactlyOneOfSubscriptionAndTopic() {
    assertThrows(IllegalArgumentException.class, () -> ReadRequests.fromPubsub(null, null));
    assertThrows(IllegalArgumentException.class, () -> ReadRequests.fromPubsub(" ", ""));
    assertThrows(
        IllegalArgumentException.class,
        () -> ReadRequests.fromPubsub("projects/p/subscriptions/s", "projects/p/topics/t"));
  }

  /** DirectRunner in streaming mode, returning from run() at once, against the emulator. */
  private static PipelineOptions streamingOptions() {
    return PipelineOptionsFactory.fromArgs(
            "--runner=DirectRunner",
            "--streaming=true",
            "--blockOnRun=false",
            "--targetParallelism=2",
            "--project=" + PubsubEmulator.PROJECT,
            "--pubsubRootUrl=" + PUBSUB.rootUrl(),
            "--credentialFactoryClass=org.apache.beam.sdk.extensions.gcp.auth.NoopCredentialFactory")
        .create();
  }

  private static List<RequestMessage> awaitCollected(String testId, int count, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      Queue<RequestMessage> q = COLLECTED.get(testId);
      if (q != null && q.size() >= count) {
        return new ArrayList<>(q);
      }
      Thread.sleep(200);
    }
    Queue<RequestMessage> q = COLLECTED.get(testId);
    return q == null ? List.of() : new ArrayList<>(q);
  }
}
