package com.aiprod.pipeline.ingest;

import com.aiprod.pipeline.kernel.OutcomePart;
import javax.annotation.Nullable;
import org.apache.beam.sdk.io.gcp.pubsub.PubsubOptions;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PDone;

/**
 * The one consumer of the outcome parts every sink emits (docs/ARCHITECTURE.md "Acknowledgement"):
 * with the outcome-acknowledged source ({@link ReadRequests#fromPubsub} with an ack delay), each
 * part settles its message in that subscription's {@link PendingAcks}, which acknowledges a message
 * once its whole outcome is durable. With any other source (files, PubsubIO, whose runner
 * acknowledges) the parts are only counted.
 */
public final class AcknowledgeOutcomes extends PTransform<PCollection<OutcomePart>, PDone> {
  private final @Nullable String subscription;
  private final long ackDelayMillis;

  private AcknowledgeOutcomes(@Nullable String subscription, long ackDelayMillis) {
    this.subscription = subscription;
    this.ackDelayMillis = ackDelayMillis;
  }

  /**
   * Acknowledges in {@code subscription} (the one {@link PubsubOutcomeSource} reads) {@code
   * ackDelayMillis} after each message's outcome is durable.
   */
  public static AcknowledgeOutcomes inSubscription(String subscription, long ackDelayMillis) {
    return new AcknowledgeOutcomes(subscription, ackDelayMillis);
  }

  /** Counts the parts; nothing to acknowledge (files, or a source whose runner acknowledges). */
  public static AcknowledgeOutcomes countOnly() {
    return new AcknowledgeOutcomes(null, -1);
  }

  @Override
  public PDone expand(PCollection<OutcomePart> parts) {
    parts.apply("SettleMessages", ParDo.of(new SettleFn(subscription, ackDelayMillis)));
    return PDone.in(parts.getPipeline());
  }

  static final class SettleFn extends DoFn<OutcomePart, Void> {
    private final @Nullable String subscription;
    private final long ackDelayMillis;
    private final Counter parts = Metrics.counter("aiprod", "outcome_parts");
    private transient @Nullable PendingAcks acks;

    SettleFn(@Nullable String subscription, long ackDelayMillis) {
      this.subscription = subscription;
      this.ackDelayMillis = ackDelayMillis;
    }

    @ProcessElement
    public void process(@Element OutcomePart part, PipelineOptions options) {
      parts.inc();
      if (subscription == null) {
        return;
      }
      if (acks == null) {
        // The reader's registry in this JVM (the mode is chosen only for single-JVM runners).
        acks =
            PendingAcks.forSubscription(
                subscription, options.as(PubsubOptions.class), ackDelayMillis);
      }
      acks.settle(part);
    }
  }
}
