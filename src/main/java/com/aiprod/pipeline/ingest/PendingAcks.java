package com.aiprod.pipeline.ingest;

import com.aiprod.pipeline.kernel.OutcomePart;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.beam.sdk.io.gcp.pubsub.PubsubClient;
import org.apache.beam.sdk.io.gcp.pubsub.PubsubClient.IncomingMessage;
import org.apache.beam.sdk.io.gcp.pubsub.PubsubClient.SubscriptionPath;
import org.apache.beam.sdk.io.gcp.pubsub.PubsubJsonClient;
import org.apache.beam.sdk.io.gcp.pubsub.PubsubOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Outcome acknowledgement of Pub/Sub messages (docs/ARCHITECTURE.md "Acknowledgement"): a message
 * read by {@link PubsubOutcomeSource} stays unacknowledged — its lease extended — until the
 * pipeline has made its outcome durable ({@link AcknowledgeOutcomes} calls {@link #settle} with the
 * committed parts of its outcome); it is then acknowledged {@code ackDelay} later, so that the
 * writes running beside the outcome (audit rows, the job_results row, the dead-letter topic) have
 * landed too. A process that stops or dies before that loses nothing: Pub/Sub redelivers the
 * message to the next run, which recognises a message whose outcome exists (Admit drops it, the
 * warehouse ignores repeated keys, audit event ids are deterministic).
 *
 * <p>The outcome parts come from the sinks and stages that commit them (a terminal job document, a
 * dead_letters row, the rows of a redelivered ended job, a cancel whose job had ended), as
 * PCollections flattened into {@link AcknowledgeOutcomes}: no sink knows this class.
 *
 * <p>One registry per subscription and JVM: the reader and {@link AcknowledgeOutcomes} must share
 * the JVM, which holds for the DirectRunner and embedded Flink, the runners this mode is chosen for
 * ({@code --pubsubAcks=auto}). Dataflow acknowledges after its own durable commit and keeps
 * PubsubIO. On JVM shutdown, messages without an outcome are handed back to Pub/Sub at once
 * (deadline 0) so that the next run gets them without waiting for their lease to run out.
 */
public final class PendingAcks {
  private static final Logger LOG = LoggerFactory.getLogger(PendingAcks.class);

  /**
   * The ack deadline a held message's lease is extended to (first once a third of the
   * subscription's deadline has passed) and renewed while it has no outcome: after a crash
   * (SIGKILL) the messages a run held come back at most this long after its last renewal.
   */
  public static final int LEASE_SECONDS = 30;

  /** How often a lease is renewed (a third of it: two renewals may be late before it lapses). */
  static final long RENEW_EVERY_MILLIS = 10_000;

  /**
   * Longest a message is kept leased without an outcome; then Pub/Sub redelivers it (and a run that
   * knows its outcome acknowledges it). Longer than any preset deadline (DESIGN §4).
   */
  static final long MAX_LEASE_MILLIS = TimeUnit.HOURS.toMillis(3);

  /**
   * How long an outcome is remembered for a message id this registry does not hold (yet), and for
   * how many ids at most (the oldest go first). An acknowledged message's is dropped at once.
   */
  static final long REMEMBER_SETTLED_MILLIS = TimeUnit.HOURS.toMillis(3);

  static final int MAX_REMEMBERED = 200_000;

  private static final int MAX_IDS_PER_CALL = 500;
  private static final long SHUTDOWN_WAIT_MILLIS = 10_000;
  private static final Map<String, PendingAcks> BY_SUBSCRIPTION = new ConcurrentHashMap<>();
  private static final AtomicLong ACKED = new AtomicLong();
  private static final AtomicLong NACKED = new AtomicLong();
  private static final AtomicLong REDELIVERIES_HELD = new AtomicLong();

  /** Pub/Sub's shortest ack deadline. */
  private static final int MIN_DEADLINE_SECONDS = 10;

  private final String key;
  private final SubscriptionPath subscription;
  private final PubsubClient client;
  private final long ackDelayMillis;

  /**
   * The lease a pull gives a message: the subscription's ack deadline. No deadline is set at the
   * pull (a round trip per pull); the ticker extends it to {@link #LEASE_SECONDS} once a third of
   * it has passed, in one call for every message due, so that a message settled within a few
   * seconds costs no call but its acknowledgement.
   */
  private final long pulledLeaseMillis;

  private final ScheduledExecutorService ticker;
  private final Map<String, Entry> tracked = new HashMap<>();

  /** What is known of outcomes, by message id, held or not (in the order first heard of). */
  private final LinkedHashMap<String, Outcome> outcomes = new LinkedHashMap<>();

  private boolean closed;

  private static final class Entry {
    final List<String> ackIds = new ArrayList<>();
    final long firstPulledAt;
    long renewedAt;

    /** The lease the last renewal (or the pull, with the subscription's deadline) gave it. */
    long leaseMillis;

    Entry(long now, long leaseMillis) {
      this.firstPulledAt = now;
      this.renewedAt = now;
      this.leaseMillis = leaseMillis;
    }

    /** Renewed once a third of its lease has passed (or {@link #RENEW_EVERY_MILLIS}). */
    boolean renewalDue(long now) {
      return now - renewedAt >= Math.min(RENEW_EVERY_MILLIS, leaseMillis / 3);
    }
  }

  /** The parts of a message's outcome committed so far; settled when all required ones are. */
  private static final class Outcome {
    final long firstHeardAt;
    final Set<OutcomePart.Part> parts = EnumSet.noneOf(OutcomePart.Part.class);
    final Set<OutcomePart.Part> required = EnumSet.noneOf(OutcomePart.Part.class);
    long settledAt;

    Outcome(long now) {
      this.firstHeardAt = now;
    }
  }

  private PendingAcks(String subscriptionPath, PubsubClient client, long ackDelayMillis) {
    this.key = subscriptionPath;
    this.subscription = PubsubClient.subscriptionPathFromPath(subscriptionPath);
    this.client = client;
    this.ackDelayMillis = ackDelayMillis;
    this.pulledLeaseMillis = subscriptionDeadlineSeconds(client, subscription) * 1000L;
    this.ticker =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "pending-acks");
              t.setDaemon(true);
              return t;
            });
    ticker.scheduleWithFixedDelay(this::tickQuietly, 1, 1, TimeUnit.SECONDS);
  }

  /**
   * The registry of {@code subscription} in this JVM, made on first use with a Pub/Sub client for
   * {@code options} ({@code --pubsubRootUrl} names an emulator).
   */
  public static PendingAcks forSubscription(
      String subscription, PubsubOptions options, long ackDelayMillis) {
    return BY_SUBSCRIPTION.computeIfAbsent(
        subscription,
        s -> {
          try {
            PendingAcks acks =
                new PendingAcks(
                    s, PubsubJsonClient.FACTORY.newClient(null, null, options), ackDelayMillis);
            Runtime.getRuntime()
                .addShutdownHook(new Thread(acks::closeWithinShutdown, "pending-acks-shutdown"));
            return acks;
          } catch (IOException e) {
            throw new IllegalStateException(
                "cannot open a Pub/Sub client for " + s + ": " + e.getMessage(), e);
          }
        });
  }

  /**
   * A part of message {@code part.getMessageId()}'s outcome is committed ({@link
   * AcknowledgeOutcomes} calls this): the message is settled once every part its part requires is
   * ({@link OutcomePart.Part#required()}: a terminal job needs its document, its job_results row
   * and its terminal audit row, so that a crash between them cannot acknowledge a message whose
   * rows are missing), then acknowledged (every delivery of it held here) after the ack delay. A
   * message id not held (yet) is remembered for a while, so that a redelivery pulled later is
   * acknowledged too.
   */
  public void settle(OutcomePart part) {
    settleHere(part.getMessageId(), part.part(), System.currentTimeMillis());
  }

  /** Acknowledgements sent by this JVM (for tests and logs). */
  public static long acknowledged() {
    return ACKED.get();
  }

  /** Messages handed back to Pub/Sub by this JVM (for tests and logs). */
  public static long handedBack() {
    return NACKED.get();
  }

  /**
   * Pulls at most {@code max} messages without waiting and holds each until it is settled or {@link
   * #release}d (its lease kept by the ticker). A message this registry already holds (Pub/Sub
   * delivered it again while it is being worked on) is not returned: its new delivery is held with
   * the first and acknowledged with it. This is the reader's deduplication (the runner's, keyed by
   * record id, would cost a keyed exchange and state per message).
   */
  List<IncomingMessage> pull(int max) throws IOException {
    synchronized (this) {
      if (closed) {
        return List.of(); // shutting down: what is pulled now would wait out its lease
      }
    }
    List<IncomingMessage> got = client.pull(System.currentTimeMillis(), subscription, max, true);
    if (got.isEmpty()) {
      return got;
    }
    List<IncomingMessage> fresh = new ArrayList<>(got.size());
    long now = System.currentTimeMillis();
    synchronized (this) {
      for (IncomingMessage m : got) {
        String id = m.recordId(); // the Pub/Sub message id: the client has no id attribute
        Entry e = tracked.get(id);
        if (e == null) {
          e = new Entry(now, pulledLeaseMillis);
          tracked.put(id, e);
          fresh.add(m);
        } else {
          // In flight here already: the new delivery's lease is the subscription's from now on.
          e.leaseMillis = Math.min(e.leaseMillis, pulledLeaseMillis);
          REDELIVERIES_HELD.incrementAndGet();
        }
        e.ackIds.add(m.ackId());
      }
    }
    return fresh;
  }

  /** Deliveries of a message held already, kept with it instead of emitted again (this JVM). */
  public static long redeliveriesHeld() {
    return REDELIVERIES_HELD.get();
  }

  /** The subscription's ack deadline in seconds; Pub/Sub's minimum (10) when it cannot be read. */
  private static int subscriptionDeadlineSeconds(
      PubsubClient client, SubscriptionPath subscription) {
    try {
      return Math.max(MIN_DEADLINE_SECONDS, client.ackDeadlineSeconds(subscription));
    } catch (IOException | RuntimeException e) {
      LOG.warn(
          "cannot read the ack deadline of {} ({}): assuming {} s",
          subscription.getPath(),
          e.toString(),
          MIN_DEADLINE_SECONDS);
      return MIN_DEADLINE_SECONDS;
    }
  }

  /** Hands pulled messages that were never emitted back to Pub/Sub (deadline 0). */
  void release(Collection<IncomingMessage> messages) {
    if (messages.isEmpty()) {
      return;
    }
    List<String> ackIds = new ArrayList<>();
    synchronized (this) {
      for (IncomingMessage m : messages) {
        Entry e = tracked.get(m.recordId());
        if (e != null && e.ackIds.remove(m.ackId())) {
          ackIds.add(m.ackId());
          if (e.ackIds.isEmpty()) {
            tracked.remove(m.recordId());
          }
        }
      }
    }
    modify(ackIds, 0);
    NACKED.addAndGet(ackIds.size());
  }

  /** Messages held without an acknowledgement yet. */
  synchronized int held() {
    return tracked.size();
  }

  synchronized void settleHere(String messageId, OutcomePart.Part part, long now) {
    Outcome o = outcomes.computeIfAbsent(messageId, k -> new Outcome(now));
    o.parts.add(part);
    o.required.addAll(part.required());
    if (o.settledAt == 0 && (part == OutcomePart.Part.OUTCOME || o.parts.containsAll(o.required))) {
      o.settledAt = now;
    }
  }

  /** When the message's outcome was settled, or 0. */
  private long settledAt(String messageId) {
    Outcome o = outcomes.get(messageId);
    return o == null ? 0 : o.settledAt;
  }

  private void tickQuietly() {
    try {
      tick(System.currentTimeMillis());
    } catch (RuntimeException e) {
      LOG.warn("Pub/Sub lease upkeep failed for {}: {}", subscription.getPath(), e.toString());
    }
  }

  /** Acknowledges what is due, renews the leases that need it, forgets old remembered ids. */
  void tick(long now) {
    List<String> toAck = new ArrayList<>();
    List<String> toRenew = new ArrayList<>();
    synchronized (this) {
      if (closed) {
        return;
      }
      Iterator<Map.Entry<String, Entry>> it = tracked.entrySet().iterator();
      while (it.hasNext()) {
        Map.Entry<String, Entry> held = it.next();
        Entry e = held.getValue();
        long settledAt = settledAt(held.getKey());
        if (settledAt != 0 && now - settledAt >= ackDelayMillis) {
          toAck.addAll(e.ackIds);
          it.remove();
          outcomes.remove(held.getKey());
        } else if (e.renewalDue(now) && now - e.firstPulledAt < MAX_LEASE_MILLIS) {
          toRenew.addAll(e.ackIds);
          e.renewedAt = now;
          e.leaseMillis = LEASE_SECONDS * 1000L;
        } else if (now - e.firstPulledAt >= MAX_LEASE_MILLIS + LEASE_SECONDS * 1000L) {
          it.remove(); // Pub/Sub has redelivered it by now; the new delivery is held instead
        }
      }
      Iterator<Outcome> old = outcomes.values().iterator();
      int excess = outcomes.size() - MAX_REMEMBERED;
      while (old.hasNext()) {
        Outcome o = old.next();
        if (excess > 0 || now - o.firstHeardAt > REMEMBER_SETTLED_MILLIS) {
          old.remove();
          excess--;
        } else {
          break;
        }
      }
    }
    acknowledge(toAck);
    modify(toRenew, LEASE_SECONDS);
  }

  /**
   * JVM shutdown: acknowledges the settled messages and hands back the others, so that the next run
   * gets them at once.
   */
  void close() {
    List<String> toAck = new ArrayList<>();
    List<String> toHandBack = new ArrayList<>();
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      BY_SUBSCRIPTION.remove(key, this);
      for (Map.Entry<String, Entry> e : tracked.entrySet()) {
        (settledAt(e.getKey()) != 0 ? toAck : toHandBack).addAll(e.getValue().ackIds);
      }
      tracked.clear();
    }
    ticker.shutdownNow();
    acknowledge(toAck);
    modify(toHandBack, 0);
    NACKED.addAndGet(toHandBack.size());
    LOG.info(
        "Pub/Sub {}: {} settled messages acknowledged, {} without an outcome handed back at shutdown",
        subscription.getPath(),
        toAck.size(),
        toHandBack.size());
  }

  /**
   * {@link #close} on JVM shutdown, waiting at most {@link #SHUTDOWN_WAIT_MILLIS}: an unreachable
   * Pub/Sub must not hold the exit (the messages then come back when their lease ends).
   */
  private void closeWithinShutdown() {
    Thread t = new Thread(this::close, "pending-acks-close");
    t.setDaemon(true);
    t.start();
    try {
      t.join(SHUTDOWN_WAIT_MILLIS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void acknowledge(List<String> ackIds) {
    for (List<String> chunk : chunks(ackIds)) {
      try {
        client.acknowledge(subscription, chunk);
        ACKED.addAndGet(chunk.size());
      } catch (IOException | RuntimeException e) {
        // Not acknowledged: Pub/Sub redelivers, and the next delivery is recognised and settled.
        LOG.warn(
            "acknowledging {} messages of {} failed: {}",
            chunk.size(),
            subscription.getPath(),
            e.toString());
      }
    }
  }

  private void modify(List<String> ackIds, int seconds) {
    for (List<String> chunk : chunks(ackIds)) {
      try {
        client.modifyAckDeadline(subscription, chunk, seconds);
      } catch (IOException | RuntimeException e) {
        // An expired lease only means an earlier redelivery, which is recognised downstream.
        LOG.warn(
            "setting the ack deadline of {} messages of {} to {} s failed: {}",
            chunk.size(),
            subscription.getPath(),
            seconds,
            e.toString());
      }
    }
  }

  private static List<List<String>> chunks(List<String> ids) {
    List<List<String>> out = new ArrayList<>();
    for (int i = 0; i < ids.size(); i += MAX_IDS_PER_CALL) {
      out.add(ids.subList(i, Math.min(ids.size(), i + MAX_IDS_PER_CALL)));
    }
    return out;
  }
}
