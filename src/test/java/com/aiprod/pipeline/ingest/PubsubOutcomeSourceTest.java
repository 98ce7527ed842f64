package com.aiprod.pipeline.ingest;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasEntry;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.is;

import com.aiprod.pipeline.kernel.OutcomePart;
import com.aiprod.pipeline.testing.PubsubEmulator;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.beam.sdk.io.UnboundedSource.UnboundedReader;
import org.apache.beam.sdk.io.gcp.pubsub.PubsubClient;
import org.apache.beam.sdk.io.gcp.pubsub.PubsubClient.IncomingMessage;
import org.apache.beam.sdk.io.gcp.pubsub.PubsubJsonClient;
import org.apache.beam.sdk.io.gcp.pubsub.PubsubMessage;
import org.apache.beam.sdk.io.gcp.pubsub.PubsubOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link PubsubOutcomeSource} and {@link PendingAcks} against the Pub/Sub emulator: a message is
 * acknowledged only after it is settled, held (leased) until then beyond the subscription's ack
 * deadline, and handed back at once when the reader closes before emitting it or the JVM stops.
 */
class PubsubOutcomeSourceTest {
  @RegisterExtension static final PubsubEmulator PUBSUB = new PubsubEmulator();

  private static final int SUBSCRIPTION_DEADLINE_SECONDS = 10;

  /** A fresh topic and subscription, a reader on it (ack delay 0) and the JVM's registry. */
  private record Setup(
      String topic, String subscription, UnboundedReader<PubsubMessage> reader, PendingAcks acks) {}

  private static Setup setup() throws Exception {
    String name = "outcome-" + UUID.randomUUID();
    String topic = PUBSUB.createTopic(name);
    String subscription = PUBSUB.createSubscription(name, name, SUBSCRIPTION_DEADLINE_SECONDS);
    PubsubOptions options = PipelineOptionsFactory.create().as(PubsubOptions.class);
    options.setPubsubRootUrl(PUBSUB.rootUrl());
    UnboundedReader<PubsubMessage> reader =
        new PubsubOutcomeSource(subscription, 0).createReader(options, null);
    return new Setup(
        topic, subscription, reader, PendingAcks.forSubscription(subscription, options, 0));
  }

  /** Stops the registry as the JVM would; nothing may be left on the subscription. */
  private static void assertNothingLeft(Setup s) throws Exception {
    s.acks().close();
    assertThat(PUBSUB.pull(s.subscription(), 10), is(empty()));
    s.reader().close();
  }

  private static List<String> publish(Setup s, int n) throws Exception {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ids.add(
          PUBSUB.publish(
              s.topic(),
              ("{\"n\":" + i + "}").getBytes(StandardCharsets.UTF_8),
              Map.of("job_id", "job-0000" + i)));
    }
    return ids;
  }

  /** Reads until {@code n} messages came out (the emulator may answer a pull with fewer). */
  private static List<PubsubMessage> read(UnboundedReader<PubsubMessage> reader, int n)
      throws Exception {
    List<PubsubMessage> out = new ArrayList<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    boolean available = reader.start();
    while (System.nanoTime() < deadline) {
      if (available) {
        out.add(reader.getCurrent());
        if (out.size() == n) {
          break; // no further advance: the reader's buffer keeps what was not emitted
        }
      } else {
        Thread.sleep(100);
      }
      available = reader.advance();
    }
    return out;
  }

  private static List<String> ids(List<?> messages) {
    List<String> ids = new ArrayList<>();
    for (Object m : messages) {
      ids.add(
          m instanceof PubsubMessage p
              ? p.getMessageId()
              : m instanceof IncomingMessage i
                  ? i.recordId()
                  : ((PubsubEmulator.Received) m).messageId());
    }
    return ids;
  }

  @Test
  void onlySettledMessagesAreAcknowledgedAndTheOthersAreHeldThenHandedBack() throws Exception {
    Setup s = setup();
    List<String> published = publish(s, 5);
    UnboundedReader<PubsubMessage> reader = s.reader();
    PendingAcks acks = s.acks();

    List<PubsubMessage> got = read(reader, 5);
    assertThat(ids(got), containsInAnyOrder(published.toArray()));
    PubsubMessage first = got.get(0);
    assertThat(
        first.getAttributeMap(),
        hasEntry(equalTo("job_id"), org.hamcrest.Matchers.startsWith("job-0000")));
    assertThat(
        new String(first.getPayload(), StandardCharsets.UTF_8),
        org.hamcrest.Matchers.startsWith("{\"n\":"));
    assertThat(acks.held(), is(5));

    // Three outcomes are durable; two are still being worked on.
    for (String id : published.subList(0, 3)) {
      acks.settle(OutcomePart.whole(id));
    }
    // Beyond the subscription's own deadline: the unsettled two are still leased, the others acked.
    Thread.sleep((SUBSCRIPTION_DEADLINE_SECONDS + 5) * 1000L);
    assertThat(PUBSUB.pull(s.subscription(), 10), is(empty()));
    assertThat(acks.held(), is(2));

    // The JVM stops: the two without an outcome come back at once, the acknowledged three never.
    acks.close();
    List<PubsubEmulator.Received> back =
        PUBSUB.pullAtLeast(s.subscription(), 2, Duration.ofSeconds(10));
    assertThat(ids(back), containsInAnyOrder(published.subList(3, 5).toArray()));
    Thread.sleep(1000);
    assertThat(PUBSUB.pull(s.subscription(), 10), is(empty()));
    reader.close();
  }

  @Test
  void aMessageDeliveredAgainWhileHeldIsNotEmittedAgainAndIsAcknowledgedWithTheFirst()
      throws Exception {
    Setup s = setup();
    PendingAcks acks = s.acks();
    String id = publish(s, 1).get(0);
    List<IncomingMessage> first = new ArrayList<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (first.isEmpty() && System.nanoTime() < deadline) {
      first.addAll(acks.pull(10));
    }
    assertThat(ids(first), containsInAnyOrder(id));
    // Its lease lapses (as after a stalled renewal): Pub/Sub delivers it again.
    PubsubOptions options = PipelineOptionsFactory.create().as(PubsubOptions.class);
    options.setPubsubRootUrl(PUBSUB.rootUrl());
    try (PubsubClient client = PubsubJsonClient.FACTORY.newClient(null, null, options)) {
      client.modifyAckDeadline(
          PubsubClient.subscriptionPathFromPath(s.subscription()),
          List.of(first.get(0).ackId()),
          0);
    }
    long heldBefore = PendingAcks.redeliveriesHeld();
    List<IncomingMessage> again = new ArrayList<>();
    deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (PendingAcks.redeliveriesHeld() == heldBefore && System.nanoTime() < deadline) {
      again.addAll(acks.pull(10));
      Thread.sleep(50);
    }
    assertThat(PendingAcks.redeliveriesHeld(), is(heldBefore + 1));
    assertThat(again, is(empty()));
    assertThat(acks.held(), is(1));

    acks.settle(OutcomePart.whole(id));
    Thread.sleep(3000); // the ticker acknowledges every delivery it holds
    assertThat(acks.held(), is(0));
    assertNothingLeft(s);
  }

  @Test
  void aReaderClosedBeforeEmittingHandsItsBufferBack() throws Exception {
    Setup s = setup();
    List<String> published = publish(s, 3);
    UnboundedReader<PubsubMessage> reader = s.reader();
    PendingAcks acks = s.acks();
    List<PubsubMessage> got = read(reader, 1);
    assertThat(got, hasSize(1));
    reader.close(); // whatever it pulled but did not emit goes back
    acks.settle(OutcomePart.whole(got.get(0).getMessageId()));
    List<String> expected = new ArrayList<>(published);
    expected.remove(got.get(0).getMessageId());
    List<PubsubEmulator.Received> back =
        PUBSUB.pullAtLeast(s.subscription(), expected.size(), Duration.ofSeconds(10));
    assertThat(ids(back), containsInAnyOrder(expected.toArray()));
    acks.close();
  }

  @Test
  void aMessageSettledBeforeItsRedeliveryIsAcknowledgedWhenPulled() throws Exception {
    Setup s = setup();
    UnboundedReader<PubsubMessage> reader = s.reader();
    PendingAcks acks = s.acks();
    // A resumed job ends (its outcome is settled) before its message is delivered to this run.
    String id = publish(s, 1).get(0);
    acks.settle(OutcomePart.whole(id));
    assertThat(ids(read(reader, 1)), containsInAnyOrder(id));
    Thread.sleep(3000); // the ticker acknowledges within a second or two
    assertThat(acks.held(), is(0));
    assertNothingLeft(s);
  }

  @Test
  void aJobIsAcknowledgedOnlyOnceItsDocumentAndItsRowsAreCommitted() throws Exception {
    Setup s = setup();
    UnboundedReader<PubsubMessage> reader = s.reader();
    PendingAcks acks = s.acks();
    String id = publish(s, 1).get(0);
    assertThat(ids(read(reader, 1)), containsInAnyOrder(id));

    acks.settle(OutcomePart.of(id, OutcomePart.Part.JOB_DOCUMENT));
    acks.settle(OutcomePart.of(id, OutcomePart.Part.JOB_AUDIT_ROW));
    Thread.sleep(2500); // a few ticks: the job_results row is not committed yet
    assertThat(acks.held(), is(1));

    acks.settle(OutcomePart.of(id, OutcomePart.Part.JOB_RESULTS_ROW));
    Thread.sleep(2500);
    assertThat(acks.held(), is(0));
    assertNothingLeft(s);
  }
}
