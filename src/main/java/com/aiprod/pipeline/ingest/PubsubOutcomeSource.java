package com.aiprod.pipeline.ingest;

import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;
import java.util.NoSuchElementException;
import javax.annotation.Nullable;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.io.UnboundedSource;
import org.apache.beam.sdk.io.gcp.pubsub.PubsubClient.IncomingMessage;
import org.apache.beam.sdk.io.gcp.pubsub.PubsubMessage;
import org.apache.beam.sdk.io.gcp.pubsub.PubsubMessageWithAttributesAndMessageIdCoder;
import org.apache.beam.sdk.io.gcp.pubsub.PubsubOptions;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.joda.time.Duration;
import org.joda.time.Instant;

/**
 * A Pub/Sub subscription read for runners that keep their state in memory (DirectRunner, embedded
 * Flink): unlike PubsubIO, which acknowledges a message as soon as the runner has taken it in, a
 * message read here is acknowledged only once its outcome is durable ({@link PendingAcks}). A run
 * stopped or killed at any moment therefore loses no message: what it had not finished comes back
 * to the next run.
 *
 * <p>Messages carry their Pub/Sub message id, attributes and publish time (the element timestamp).
 * A redelivery of a message still being worked on is dropped by {@link PendingAcks#pull} (it holds
 * every delivered message until its outcome), so the source asks the runner for no deduplication
 * (on Flink that is a keyed exchange and a state entry with a timer per message). The checkpoint
 * holds nothing: acknowledgement does not follow checkpoints.
 */
public final class PubsubOutcomeSource
    extends UnboundedSource<PubsubMessage, PubsubOutcomeSource.NoCheckpoint> {
  private static final long serialVersionUID = 1L;

  /** Messages pulled per call. */
  static final int PULL_BATCH = 500;

  /** Above this many messages held without an outcome the reader stops pulling (backpressure). */
  static final int MAX_HELD = 5_000;

  /**
   * After a pull that did not fill ({@value #PULL_BATCH}), how long after it the next pull comes at
   * the earliest: runners call {@code advance} again at once (embedded Flink's single-reader loop
   * does not pause), and each pull is a round trip that costs the pipeline and Pub/Sub CPU. At most
   * this much latency; at 300 msg/s a pull brings ~15 messages instead of one or two.
   */
  static final long PULL_INTERVAL_MILLIS = 50;

  /** How far the watermark stays behind the clock when nothing is buffered. */
  static final Duration WATERMARK_LAG = Duration.standardSeconds(10);

  private final String subscription;
  private final long ackDelayMillis;

  /**
   * @param subscription {@code projects/P/subscriptions/S}
   * @param ackDelayMillis how long after its outcome a message is acknowledged
   */
  public PubsubOutcomeSource(String subscription, long ackDelayMillis) {
    this.subscription = subscription;
    this.ackDelayMillis = ackDelayMillis;
  }

  /** Nothing to finalize: messages are acknowledged when their outcome is durable. */
  public static final class NoCheckpoint implements UnboundedSource.CheckpointMark, Serializable {
    private static final long serialVersionUID = 1L;

    @Override
    public void finalizeCheckpoint() {}

    @Override
    public boolean equals(Object o) {
      return o instanceof NoCheckpoint;
    }

    @Override
    public int hashCode() {
      return NoCheckpoint.class.hashCode();
    }
  }

  @Override
  public List<PubsubOutcomeSource> split(int desiredNumSplits, PipelineOptions options) {
    return List.of(this); // one reader pulls up to PULL_BATCH a call: ample for one JVM
  }

  @Override
  public UnboundedReader<PubsubMessage> createReader(
      PipelineOptions options, @Nullable NoCheckpoint checkpointMark) {
    return new Reader(
        this,
        PendingAcks.forSubscription(subscription, options.as(PubsubOptions.class), ackDelayMillis));
  }

  @Override
  public Coder<NoCheckpoint> getCheckpointMarkCoder() {
    return SerializableCoder.of(NoCheckpoint.class);
  }

  @Override
  public boolean requiresDeduping() {
    return false; // PendingAcks drops redeliveries of messages in flight
  }

  @Override
  public Coder<PubsubMessage> getOutputCoder() {
    return PubsubMessageWithAttributesAndMessageIdCoder.of();
  }

  static final class Reader extends UnboundedReader<PubsubMessage> {
    private final PubsubOutcomeSource source;
    private final PendingAcks acks;
    private final ArrayDeque<IncomingMessage> buffer = new ArrayDeque<>();
    private @Nullable IncomingMessage current;
    private Instant watermark = BoundedWindow.TIMESTAMP_MIN_VALUE;
    private long lastPullAt;
    private boolean lastPullFull = true;

    Reader(PubsubOutcomeSource source, PendingAcks acks) {
      this.source = source;
      this.acks = acks;
    }

    @Override
    public boolean start() throws IOException {
      return advance();
    }

    @Override
    public boolean advance() throws IOException {
      if (buffer.isEmpty() && acks.held() < MAX_HELD) {
        long wait =
            lastPullFull ? 0 : lastPullAt + PULL_INTERVAL_MILLIS - System.currentTimeMillis();
        if (wait > 0) {
          try {
            Thread.sleep(wait);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
          }
        }
        lastPullAt = System.currentTimeMillis();
        List<IncomingMessage> got = acks.pull(PULL_BATCH);
        lastPullFull = got.size() >= PULL_BATCH;
        buffer.addAll(got);
      }
      current = buffer.poll();
      return current != null;
    }

    @Override
    public PubsubMessage getCurrent() {
      IncomingMessage m = requireCurrent();
      return new PubsubMessage(
          m.message().getData().toByteArray(), m.message().getAttributesMap(), m.recordId());
    }

    @Override
    public Instant getCurrentTimestamp() {
      return new Instant(requireCurrent().timestampMsSinceEpoch());
    }

    @Override
    public byte[] getCurrentRecordId() {
      return requireCurrent().recordId().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Behind the oldest publish time still buffered, else {@link #WATERMARK_LAG} behind the clock;
     * never moving back.
     */
    @Override
    public Instant getWatermark() {
      long candidate = System.currentTimeMillis() - WATERMARK_LAG.getMillis();
      for (IncomingMessage m : buffer) {
        candidate = Math.min(candidate, m.timestampMsSinceEpoch());
      }
      if (current != null) {
        candidate = Math.min(candidate, current.timestampMsSinceEpoch());
      }
      Instant next = new Instant(candidate);
      if (next.isAfter(watermark)) {
        watermark = next;
      }
      return watermark;
    }

    @Override
    public NoCheckpoint getCheckpointMark() {
      return new NoCheckpoint();
    }

    @Override
    public PubsubOutcomeSource getCurrentSource() {
      return source;
    }

    /** Messages pulled but never emitted go back to Pub/Sub at once. */
    @Override
    public void close() {
      acks.release(buffer);
      buffer.clear();
    }

    private IncomingMessage requireCurrent() {
      if (current == null) {
        throw new NoSuchElementException("no current Pub/Sub message");
      }
      return current;
    }
  }
}
