package com.aiprod.pipeline.ingest;

import com.aiprod.pipeline.model.Redaction;
import com.aiprod.pipeline.model.RequestMessage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.regex.Pattern;
import javax.annotation.Nullable;
import org.apache.beam.sdk.io.Compression;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.Read;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.io.gcp.pubsub.PubsubIO;
import org.apache.beam.sdk.io.gcp.pubsub.PubsubMessage;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.joda.time.Instant;

/**
 * ReadRequests (DESIGN §1, §2): turns the input into {@link RequestMessage}s. Batch reads JSONL
 * files line by line (keeping line numbers, which give each line a stable message id and default
 * job id); the streaming source is Pub/Sub. Unreadable input is not dropped: it becomes a message
 * with a read error, authenticated and dead-lettered downstream.
 */
public final class ReadRequests {
  /** The attribute naming a message's job (DESIGN §2). */
  public static final String JOB_ID_ATTRIBUTE = "job_id";

  private static final Pattern JOB_ID = Pattern.compile("[A-Za-z0-9_-]{8,64}");

  private ReadRequests() {}

  /**
   * Streaming source over Pub/Sub: exactly one of {@code subscription} ({@code
   * projects/P/subscriptions/S}) or {@code topic} ({@code projects/P/topics/T}; the runner then
   * creates a subscription of its own). Messages are read with {@link
   * PubsubIO#readMessagesWithAttributesAndMessageId()}, deduplicated by the runner on their Pub/Sub
   * message id (redeliveries of one message are dropped). Decision (DESIGN §7 conflict, see
   * docs/ARCHITECTURE.md "Deduplication"): {@code job_id} is NOT PubsubIO's id attribute. An id
   * attribute is global across tenants and covers every action, so it would silently drop another
   * tenant's job with the same {@code job_id} and every cancel published within the dedup window of
   * its job (a cancel names its job in {@code job_id}). Repeated {@code job_id}s are instead
   * recognised per tenant by Admit (first message wins, kept in state and in the job store): a
   * repeat ends as a {@code DUPLICATE_JOB} dead letter, never silently. Each message becomes a
   * {@link RequestMessage} exactly as a batch line's body does: its data goes through {@link
   * Envelope#checkPayload} and a bad body becomes a message with a read error (and its redacted
   * text), never dropped.
   *
   * <ul>
   *   <li>{@code messageId}: the Pub/Sub message id (a redelivery keeps it).
   *   <li>{@code defaultJobId}: the message id when it matches {@code [A-Za-z0-9_-]{8,64}}, else
   *       {@code "pubsub-" + messageId}. Real Pub/Sub ids are long decimal numbers and are used as
   *       they are; the emulator numbers messages 1, 2, 3… so its messages get {@code pubsub-1},
   *       {@code pubsub-2}…
   *   <li>{@code ordinal}: the publish time in epoch millis (the element timestamp); {@code
   *       receivedAtMillis}: when this DoFn saw it; {@code source}: the subscription or topic path
   *       (keys auth-failure burst detection).
   * </ul>
   *
   * <p>Set {@code --pubsubRootUrl} to read from an emulator.
   */
  public static PTransform<PBegin, PCollection<RequestMessage>> fromPubsub(
      @Nullable String subscription, @Nullable String topic) {
    return fromPubsub(subscription, topic, -1);
  }

  /**
   * Like {@link #fromPubsub(String, String)}; with {@code outcomeAckDelayMillis >= 0} (and a
   * subscription) the messages are read by {@link PubsubOutcomeSource} and acknowledged that long
   * after their outcome is durable instead of when the runner takes them in (see {@link
   * PendingAcks}).
   */
  public static PTransform<PBegin, PCollection<RequestMessage>> fromPubsub(
      @Nullable String subscription, @Nullable String topic, long outcomeAckDelayMillis) {
    boolean hasSubscription = subscription != null && !subscription.isBlank();
    boolean hasTopic = topic != null && !topic.isBlank();
    if (hasSubscription == hasTopic) {
      throw new IllegalArgumentException(
          "ReadRequests.fromPubsub needs exactly one of a subscription (projects/P/subscriptions/S)"
              + " or a topic (projects/P/topics/T); got subscription="
              + subscription
              + ", topic="
              + topic);
    }
    if (outcomeAckDelayMillis >= 0 && !hasSubscription) {
      throw new IllegalArgumentException(
          "outcome acknowledgement needs --inputSubscription (a topic read gets a subscription of the"
              + " runner's own, which a restart does not find again)");
    }
    return new FromPubsub(
        hasSubscription ? subscription : null, hasTopic ? topic : null, outcomeAckDelayMillis);
  }

  private static final class FromPubsub extends PTransform<PBegin, PCollection<RequestMessage>> {
    private final @Nullable String subscription;
    private final @Nullable String topic;
    private final long outcomeAckDelayMillis;

    FromPubsub(@Nullable String subscription, @Nullable String topic, long outcomeAckDelayMillis) {
      this.subscription = subscription;
      this.topic = topic;
      this.outcomeAckDelayMillis = outcomeAckDelayMillis;
    }

    @Override
    public PCollection<RequestMessage> expand(PBegin input) {
      String source = subscription != null ? subscription : topic;
      PCollection<PubsubMessage> messages;
      if (outcomeAckDelayMillis >= 0) {
        // Same step name as PubsubIO's read: the graph keeps its names whichever acks are used.
        messages =
            input.apply(
                "ReadPubsub",
                Read.from(new PubsubOutcomeSource(subscription, outcomeAckDelayMillis)));
      } else {
        PubsubIO.Read<PubsubMessage> read = PubsubIO.readMessagesWithAttributesAndMessageId();
        read = subscription != null ? read.fromSubscription(subscription) : read.fromTopic(topic);
        messages = input.apply("ReadPubsub", read);
      }
      return messages.apply("ToRequestMessages", ParDo.of(new PubsubMessageFn(source)));
    }
  }

  /** Maps one Pub/Sub message to a {@link RequestMessage} (see {@link #fromPubsub}). */
  static final class PubsubMessageFn extends DoFn<PubsubMessage, RequestMessage> {
    private final Counter received = Metrics.counter("aiprod", "requests_received");
    private final String source;

    PubsubMessageFn(String source) {
      this.source = source;
    }

    @ProcessElement
    public void process(
        @Element PubsubMessage message,
        @Timestamp Instant publishTime,
        OutputReceiver<RequestMessage> out) {
      received.inc();
      out.output(toMessage(message, publishTime.getMillis(), source, System.currentTimeMillis()));
    }

    static RequestMessage toMessage(
        PubsubMessage message, long publishTimeMillis, String source, long now) {
      Map<String, String> attributes =
          message.getAttributeMap() == null ? Map.of() : message.getAttributeMap();
      String messageId = messageId(message.getMessageId(), publishTimeMillis);
      Envelope.Parsed parsed = Envelope.checkPayload(attributes, message.getPayload());
      RequestMessage.Builder b =
          RequestMessage.builder()
              .setMessageId(messageId)
              .setDefaultJobId(defaultJobId(messageId))
              .setOrdinal(publishTimeMillis)
              .setSource(source)
              .setReceivedAtMillis(now)
              .setAttributes(attributes);
      if (parsed.isOk()) {
        return b.setPayload(parsed.payload).build();
      }
      byte[] body = message.getPayload() == null ? new byte[0] : message.getPayload();
      String excerpt = new String(body, 0, Math.min(body.length, 4096), StandardCharsets.UTF_8);
      return b.setRawText(Redaction.redactText(excerpt))
          .setReadErrorCode(parsed.errorCode)
          .setReadErrorMessage(parsed.errorMessage)
          .build();
    }

    /**
     * The id PubsubIO hands over is the {@code job_id} attribute when the message has a non-empty
     * one (PubsubUnboundedSource puts the record id in the message id), else the Pub/Sub id.
     */
    static String messageId(@Nullable String fromPubsubIo, long publishTimeMillis) {
      if (fromPubsubIo == null || fromPubsubIo.isEmpty()) {
        // Not expected from PubsubIO; keeps the message traceable rather than failing the bundle.
        return "pubsub@" + publishTimeMillis;
      }
      return fromPubsubIo;
    }

    static String defaultJobId(String messageId) {
      return JOB_ID.matcher(messageId).matches() ? messageId : "pubsub-" + messageId;
    }
  }

  /** Batch source over JSONL files matching {@code filepattern}. */
  public static PTransform<PBegin, PCollection<RequestMessage>> fromFiles(String filepattern) {
    return new FromFiles(filepattern);
  }

  private static final class FromFiles extends PTransform<PBegin, PCollection<RequestMessage>> {
    private final String filepattern;

    FromFiles(String filepattern) {
      this.filepattern = filepattern;
    }

    @Override
    public PCollection<RequestMessage> expand(PBegin input) {
      return input
          .apply(
              "MatchInputFiles",
              FileIO.match()
                  .filepattern(filepattern)
                  .withEmptyMatchTreatment(EmptyMatchTreatment.DISALLOW))
          .apply("OpenInputFiles", FileIO.readMatches())
          .apply("ReadLines", ParDo.of(new ReadLinesFn()));
    }
  }

  /**
   * The messages {@link #fromFiles} reads from the files matching {@code filepattern}: their
   * non-blank lines, by the same rule (and decompression) as the source.
   */
  public static long countMessages(String filepattern) throws IOException {
    long n = 0;
    for (MatchResult.Metadata m :
        FileSystems.match(filepattern, EmptyMatchTreatment.DISALLOW).metadata()) {
      Compression compression = Compression.detect(m.resourceId().getFilename());
      try (InputStream in =
          Channels.newInputStream(compression.readDecompressed(FileSystems.open(m.resourceId())))) {
        LineReader reader = new LineReader(in, Envelope.MAX_LINE_BYTES + 1);
        for (LineReader.Line line = reader.next(); line != null; line = reader.next()) {
          if (!line.isBlank()) {
            n++;
          }
        }
      }
    }
    return n;
  }

  /** Emits one message per non-blank line, reading at most MAX_LINE_BYTES+1 bytes of a line. */
  static final class ReadLinesFn extends DoFn<FileIO.ReadableFile, RequestMessage> {
    private final Counter received = Metrics.counter("aiprod", "requests_received");

    @ProcessElement
    public void process(@Element FileIO.ReadableFile file, OutputReceiver<RequestMessage> out)
        throws IOException {
      String path = file.getMetadata().resourceId().toString();
      long now = System.currentTimeMillis();
      try (InputStream in = Channels.newInputStream(file.open())) {
        LineReader reader = new LineReader(in, Envelope.MAX_LINE_BYTES + 1);
        long lineNo = 0;
        LineReader.Line line;
        while ((line = reader.next()) != null) {
          lineNo++;
          if (line.isBlank()) {
            continue;
          }
          received.inc();
          // Processing time as event time: auth-failure bursts are counted per minute of it.
          out.outputWithTimestamp(toMessage(path, lineNo, line, now), new Instant(now));
        }
      }
    }

    static RequestMessage toMessage(String path, long lineNo, LineReader.Line line, long now) {
      // A truncated line holds cap = MAX_LINE_BYTES + 1 bytes: parseLine reports it as too large.
      Envelope.Parsed parsed = Envelope.parseLine(line.bytes);
      RequestMessage.Builder b =
          RequestMessage.builder()
              .setMessageId(path + ":" + lineNo)
              .setDefaultJobId(derivedJobId(path, lineNo))
              .setOrdinal(lineNo)
              .setSource(path)
              .setReceivedAtMillis(now)
              .setAttributes(parsed.attributes == null ? Map.of() : parsed.attributes);
      if (parsed.isOk()) {
        return b.setPayload(parsed.payload).build();
      }
      String excerpt =
          new String(line.bytes, 0, Math.min(line.bytes.length, 4096), StandardCharsets.UTF_8);
      return b.setRawText(Redaction.redactText(excerpt))
          .setReadErrorCode(parsed.errorCode)
          .setReadErrorMessage(parsed.errorMessage)
          .build();
    }
  }

  /**
   * Stable job id for a line without a job_id attribute: {@code L} + 32 hex of SHA-256(path:line).
   */
  public static String derivedJobId(String path, long lineNo) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      byte[] digest = sha.digest((path + ":" + lineNo).getBytes(StandardCharsets.UTF_8));
      return "L" + HexFormat.of().formatHex(digest, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Splits a stream on \n (dropping a trailing \r), capping the bytes kept per line. */
  static final class LineReader {
    static final class Line {
      final byte[] bytes;
      final boolean truncated;

      Line(byte[] bytes, boolean truncated) {
        this.bytes = bytes;
        this.truncated = truncated;
      }

      boolean isBlank() {
        for (byte b : bytes) {
          if (b != ' ' && b != '\t' && b != '\r') {
            return false;
          }
        }
        return !truncated;
      }
    }

    private final InputStream in;
    private final int cap;
    private final byte[] buf = new byte[64 * 1024];
    private int pos;
    private int len;
    private boolean eof;

    LineReader(InputStream in, int cap) {
      this.in = in;
      this.cap = cap;
    }

    Line next() throws IOException {
      ByteArrayOutputStream line = new ByteArrayOutputStream();
      boolean truncated = false;
      boolean sawAny = false;
      while (true) {
        if (pos == len) {
          if (eof) {
            break;
          }
          len = in.read(buf, 0, buf.length);
          pos = 0;
          if (len <= 0) {
            len = 0;
            eof = true;
            break;
          }
        }
        sawAny = true;
        int start = pos;
        while (pos < len && buf[pos] != '\n') {
          pos++;
        }
        int n = pos - start;
        int room = cap - line.size();
        if (n > room) {
          truncated = true;
        }
        line.write(buf, start, Math.max(0, Math.min(n, room)));
        if (pos < len) {
          pos++; // the \n
          return finish(line, truncated);
        }
      }
      if (!sawAny && line.size() == 0) {
        return null;
      }
      return finish(line, truncated);
    }

    private static Line finish(ByteArrayOutputStream line, boolean truncated) {
      byte[] b = line.toByteArray();
      if (!truncated && b.length > 0 && b[b.length - 1] == '\r') {
        byte[] c = new byte[b.length - 1];
        System.arraycopy(b, 0, c, 0, c.length);
        b = c;
      }
      return new Line(b, truncated);
    }
  }
}
