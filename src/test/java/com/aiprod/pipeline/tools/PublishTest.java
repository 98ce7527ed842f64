package com.aiprod.pipeline.tools;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.anEmptyMap;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.aiprod.pipeline.testing.PubsubEmulator;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@link Publish} against the Pub/Sub emulator. */
class PublishTest {
  @RegisterExtension static final PubsubEmulator PUBSUB = new PubsubEmulator();

  @Test
  void publishesEachLineAndPullsItBack(@TempDir Path dir) throws Exception {
    String topic = PUBSUB.createTopic("publish-tool");
    String subscription = PUBSUB.createSubscription("publish-tool-sub", topic, 30);
    Path file = dir.resolve("requests.jsonl");
    String broken = "{\"attributes\": {\"job_id\": \"job-broken-01\"}, \"data\": ";
    Files.writeString(
        file,
        String.join(
            "\n",
            "{\"attributes\":{\"authorization\":\"Bearer abc\",\"job_id\":\"job-publish-01\"},"
                + "\"data\":{\"content\":\"A calm sunrise over the harbour.\",\"preset\":\"quick_social\"}}",
            "",
            "{\"attributes\":{\"action\":\"submit\"},\"data_b64\":\"/wB7\"}",
            "   ",
            broken,
            ""),
        StandardCharsets.UTF_8);

    List<String> ids = Publish.to(PUBSUB.rootUrl()).publishFile(file, topic);
    assertThat(ids.size(), equalTo(3));

    List<PubsubEmulator.Received> pulled =
        PUBSUB.pullAtLeast(subscription, 3, Duration.ofSeconds(30));
    assertThat(pulled.size(), equalTo(3));
    Map<String, PubsubEmulator.Received> byId = new HashMap<>();
    pulled.forEach(r -> byId.put(r.messageId(), r));

    PubsubEmulator.Received envelope = byId.get(ids.get(0));
    assertThat(
        envelope.attributes(),
        equalTo(Map.of("authorization", "Bearer abc", "job_id", "job-publish-01")));
    assertThat(
        new String(envelope.data(), StandardCharsets.UTF_8),
        equalTo("{\"content\":\"A calm sunrise over the harbour.\",\"preset\":\"quick_social\"}"));

    PubsubEmulator.Received rawBytes = byId.get(ids.get(1));
    assertThat(rawBytes.attributes(), equalTo(Map.of("action", "submit")));
    assertThat(rawBytes.data(), equalTo(new byte[] {(byte) 0xff, 0x00, 0x7b}));

    PubsubEmulator.Received raw = byId.get(ids.get(2));
    assertThat(raw.attributes(), anEmptyMap());
    assertThat(new String(raw.data(), StandardCharsets.UTF_8), equalTo(broken));
  }

  @Test
  void batchesAtMostOneHundredMessagesPerRequest() throws Exception {
    String topic = PUBSUB.createTopic("publish-batches");
    String subscription = PUBSUB.createSubscription("publish-batches-sub", topic, 30);
    List<Publish.Message> messages = new ArrayList<>();
    for (int i = 0; i < 250; i++) {
      messages.add(Publish.toMessage("{\"data\":{\"n\":" + i + "}}"));
    }
    List<String> ids = Publish.to(PUBSUB.rootUrl()).publish(topic, messages);
    assertThat(ids.size(), equalTo(250));
    assertThat(new java.util.HashSet<>(ids).size(), equalTo(250));
    List<PubsubEmulator.Received> pulled =
        PUBSUB.pullAtLeast(subscription, 250, Duration.ofSeconds(60));
    assertThat(pulled.size(), equalTo(250));
    // The i-th id returned is the i-th message, across batches.
    Map<String, String> dataById = new HashMap<>();
    pulled.forEach(r -> dataById.put(r.messageId(), new String(r.data(), StandardCharsets.UTF_8)));
    for (int i = 0; i < 250; i++) {
      assertThat(dataById.get(ids.get(i)), equalTo("{\"n\":" + i + "}"));
    }
  }

  @Test
  void readsEnvelopesAndFallsBackToRawLines() {
    Publish.Message m = Publish.toMessage("{\"data\":{\"a\":1}}");
    assertThat(new String(m.data(), StandardCharsets.UTF_8), equalTo("{\"a\":1}"));
    assertThat(m.attributes(), anEmptyMap());
    // Unknown member, non-string attribute, both data and data_b64, bad base64, not an object.
    for (String line :
        List.of(
            "{\"data\":{},\"extra\":1}",
            "{\"attributes\":{\"n\":1},\"data\":{}}",
            "{\"data\":{},\"data_b64\":\"AA==\"}",
            "{\"data_b64\":\"***\"}",
            "[1,2]",
            "not json at all")) {
      Publish.Message raw = Publish.toMessage(line);
      assertThat(line, new String(raw.data(), StandardCharsets.UTF_8), equalTo(line));
      assertThat(raw.attributes(), anEmptyMap());
    }
  }

  @Test
  void refusesATopicThatIsNotAPath() {
    assertThrows(
        IllegalArgumentException.class,
        () ->
            Publish.to(PUBSUB.rootUrl()).publish("publish-tool", List.of(Publish.toMessage("x"))));
  }
}
