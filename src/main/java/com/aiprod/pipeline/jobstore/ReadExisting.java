package com.aiprod.pipeline.jobstore;

import com.google.firestore.v1.BatchGetDocumentsRequest;
import com.google.firestore.v1.BatchGetDocumentsResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.coders.ByteArrayCoder;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderException;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.extensions.protobuf.ProtoCoder;
import org.apache.beam.sdk.io.gcp.firestore.FirestoreIO;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.state.BagState;
import org.apache.beam.sdk.state.StateSpec;
import org.apache.beam.sdk.state.StateSpecs;
import org.apache.beam.sdk.state.TimeDomain;
import org.apache.beam.sdk.state.Timer;
import org.apache.beam.sdk.state.TimerSpec;
import org.apache.beam.sdk.state.TimerSpecs;
import org.apache.beam.sdk.state.ValueState;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.FlatMapElements;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.transforms.join.RawUnionValue;
import org.apache.beam.sdk.transforms.join.UnionCoder;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TimestampedValue;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.joda.time.Duration;
import org.joda.time.Instant;

/**
 * Pairs each keyed element (key = full Firestore document name) with the document currently stored
 * under that name, read with FirestoreIO's {@code batchGetDocuments}.
 *
 * <ol>
 *   <li>{@code GroupInBundle}: a bundle's elements are grouped by (window, document name) and
 *       folded into one value {@code L} per name; the names go out as batch-get requests of up to
 *       {@value #NAMES_PER_REQUEST} distinct documents. No GroupByKey: this works unchanged in
 *       batch and streaming, in any windowing, and keeps the input's windowing.
 *   <li>{@code BatchGet}: FirestoreIO reads the documents (one response per name: found or
 *       missing).
 *   <li>{@code PairWithExisting}: a stateful DoFn joins each folded value with one response for its
 *       name (both sides may arrive in any order). Its state is keyed by a bucket of the document
 *       name ({@link #bucket}, {@value #BUCKETS_PER_WORKER} buckets per worker), not by the name:
 *       it buffers both sides and pairs them by name in flushes ({@link PairFn}), so the pairs
 *       leave in batches and the writer downstream gets large bundles (batched writes).
 * </ol>
 *
 * <p>Why buckets: runners run a stateful DoFn one key at a time, and the DirectRunner gives each
 * key its own bundle. Keyed by document name, every document travelled alone through the rest of
 * the pipeline: one bundle per document at every later step, and FirestoreIO opens a new channel
 * and sends one single-document BatchWrite per bundle (~20 documents/s against the emulator; see
 * docs/PERFORMANCE.md). A reshuffle after the join did not regroup them: Reshuffle's trigger fires
 * per element, so one-element bundles stayed one-element bundles.
 */
final class ReadExisting<T, L>
    extends PTransform<PCollection<KV<String, T>>, PCollection<KV<L, BatchGetDocumentsResponse>>> {
  static final int NAMES_PER_REQUEST = 100;
  static final int BUCKETS_PER_WORKER = 8;
  static final int FLUSH_SIZE = 500;
  static final Duration FLUSH_DELAY = Duration.millis(500);

  private final JobStore store;
  private final SerializableFunction<List<T>, L> fold;
  private final Coder<L> foldedCoder;

  ReadExisting(JobStore store, SerializableFunction<List<T>, L> fold, Coder<L> foldedCoder) {
    this.store = store;
    this.fold = fold;
    this.foldedCoder = foldedCoder;
  }

  @Override
  public PCollection<KV<L, BatchGetDocumentsResponse>> expand(PCollection<KV<String, T>> input) {
    TupleTag<KV<String, L>> folded = new TupleTag<>() {};
    TupleTag<BatchGetDocumentsRequest> requests = new TupleTag<>() {};
    PCollectionTuple grouped =
        input.apply(
            "GroupInBundle",
            ParDo.of(new GroupInBundleFn<T, L>(store.databaseName(), fold, requests))
                .withOutputTags(folded, TupleTagList.of(requests)));
    grouped.get(folded).setCoder(KvCoder.of(StringUtf8Coder.of(), foldedCoder));
    grouped.get(requests).setCoder(ProtoCoder.of(BatchGetDocumentsRequest.class));

    ProtoCoder<BatchGetDocumentsResponse> responseCoder =
        ProtoCoder.of(BatchGetDocumentsResponse.class);
    UnionCoder unionCoder = UnionCoder.of(List.of(foldedCoder, responseCoder));
    KvCoder<String, RawUnionValue> taggedCoder = KvCoder.of(StringUtf8Coder.of(), unionCoder);
    KvCoder<Integer, KV<String, RawUnionValue>> bucketedCoder =
        KvCoder.of(VarIntCoder.of(), taggedCoder);
    int buckets = BUCKETS_PER_WORKER * store.maxWorkersHint();

    PCollection<KV<Integer, KV<String, RawUnionValue>>> responses =
        grouped
            .get(requests)
            .apply(
                "BatchGet",
                FirestoreIO.v1()
                    .read()
                    .batchGetDocuments()
                    .withRpcQosOptions(store.rpcQosOptions())
                    .build())
            .apply(
                "TagResponses",
                FlatMapElements.into(
                        new TypeDescriptor<KV<Integer, KV<String, RawUnionValue>>>() {})
                    .via(
                        r ->
                            responseName(r).isEmpty()
                                ? List.<KV<Integer, KV<String, RawUnionValue>>>of()
                                : List.of(
                                    KV.of(
                                        bucket(responseName(r), buckets),
                                        KV.of(responseName(r), new RawUnionValue(1, r))))))
            .setCoder(bucketedCoder);
    PCollection<KV<Integer, KV<String, RawUnionValue>>> values =
        grouped
            .get(folded)
            .apply(
                "TagValues",
                MapElements.into(new TypeDescriptor<KV<Integer, KV<String, RawUnionValue>>>() {})
                    .via(
                        kv ->
                            KV.of(
                                bucket(kv.getKey(), buckets),
                                KV.of(kv.getKey(), new RawUnionValue(0, kv.getValue())))))
            .setCoder(bucketedCoder);
    return PCollectionList.of(values)
        .and(responses)
        .apply("Tagged", Flatten.pCollections())
        .setCoder(bucketedCoder)
        .apply(
            "PairWithExisting",
            ParDo.of(
                new PairFn<L>(unionCoder, input.isBounded() == PCollection.IsBounded.UNBOUNDED)))
        .setCoder(KvCoder.of(foldedCoder, responseCoder));
  }

  /** The state key of a document name: a stable hash bucket in {@code [0, buckets)}. */
  static int bucket(String documentName, int buckets) {
    return Math.floorMod(documentName.hashCode(), buckets);
  }

  /** The document name a batch-get response is about ("" for a response without a result). */
  static String responseName(BatchGetDocumentsResponse r) {
    if (r.hasFound()) {
      return r.getFound().getName();
    }
    return r.getMissing();
  }

  /** Groups a bundle's elements by (window, name); emits folded values and batch-get requests. */
  static final class GroupInBundleFn<T, L> extends DoFn<KV<String, T>, KV<String, L>> {
    private final String database;
    private final SerializableFunction<List<T>, L> fold;
    private final TupleTag<BatchGetDocumentsRequest> requests;
    private transient Map<BoundedWindow, Map<String, List<T>>> buffer;
    private transient Map<BoundedWindow, Instant> maxTimestamp;

    GroupInBundleFn(
        String database,
        SerializableFunction<List<T>, L> fold,
        TupleTag<BatchGetDocumentsRequest> requests) {
      this.database = database;
      this.fold = fold;
      this.requests = requests;
    }

    @StartBundle
    public void startBundle() {
      buffer = new HashMap<>();
      maxTimestamp = new HashMap<>();
    }

    @ProcessElement
    public void process(
        @Element KV<String, T> e, @Timestamp Instant timestamp, BoundedWindow window) {
      buffer
          .computeIfAbsent(window, w -> new LinkedHashMap<>())
          .computeIfAbsent(e.getKey(), k -> new ArrayList<>())
          .add(e.getValue());
      maxTimestamp.merge(window, timestamp, (a, b) -> a.isAfter(b) ? a : b);
    }

    @FinishBundle
    public void finishBundle(FinishBundleContext c) {
      for (Map.Entry<BoundedWindow, Map<String, List<T>>> w : buffer.entrySet()) {
        BoundedWindow window = w.getKey();
        Instant ts = maxTimestamp.get(window);
        BatchGetDocumentsRequest.Builder request = null;
        for (Map.Entry<String, List<T>> byName : w.getValue().entrySet()) {
          c.output(KV.of(byName.getKey(), fold.apply(byName.getValue())), ts, window);
          if (request == null) {
            request = BatchGetDocumentsRequest.newBuilder().setDatabase(database);
          }
          request.addDocuments(byName.getKey());
          if (request.getDocumentsCount() >= NAMES_PER_REQUEST) {
            c.output(requests, request.build(), ts, window);
            request = null;
          }
        }
        if (request != null) {
          c.output(requests, request.build(), ts, window);
        }
      }
      buffer = null;
      maxTimestamp = null;
    }
  }

  /**
   * Joins folded values (tag 0) with batch-get responses (tag 1) of the same document name, per
   * bucket of names. Both sides are buffered; a flush pairs them per name (first come, first
   * paired), emits the pairs and keeps what is still unpaired. A flush happens when {@value
   * #FLUSH_SIZE} elements were added since the last one, and on a timer: in streaming a
   * processing-time timer {@link #FLUSH_DELAY} after the first buffered element, in batch an
   * event-time timer at the end of the window (all input has arrived then). The timer's output
   * timestamp holds the watermark at the oldest buffered element, so a pair may carry its own
   * timestamp (the later of its two sides'), as GroupIntoBatches does.
   */
  static final class PairFn<L>
      extends DoFn<KV<Integer, KV<String, RawUnionValue>>, KV<L, BatchGetDocumentsResponse>> {
    private final Counter unpaired = Metrics.counter("aiprod", "read_existing_unpaired");
    private final boolean streaming;

    private final Coder<RawUnionValue> unionCoder;

    /**
     * Both sides, encoded: runners may copy state between bundles (the DirectRunner clones it for
     * every bundle of a key), and copying bytes is far cheaper than cloning documents.
     */
    @StateId("buffer")
    private final StateSpec<BagState<TimestampedValue<KV<String, byte[]>>>> bufferSpec =
        StateSpecs.bag(
            TimestampedValue.TimestampedValueCoder.of(
                KvCoder.of(StringUtf8Coder.of(), ByteArrayCoder.of())));

    /** Elements added since the last flush. */
    @StateId("added")
    private final StateSpec<ValueState<Integer>> addedSpec = StateSpecs.value(VarIntCoder.of());

    /** When the streaming flush timer fires (processing time, millis); absent when not set. */
    @StateId("timerAt")
    private final StateSpec<ValueState<Long>> timerAtSpec = StateSpecs.value(VarLongCoder.of());

    /** The output timestamp (watermark hold) of the set timer, millis; absent when not set. */
    @StateId("hold")
    private final StateSpec<ValueState<Long>> holdSpec = StateSpecs.value(VarLongCoder.of());

    @TimerId("flush")
    private final TimerSpec flushSpec = TimerSpecs.timer(TimeDomain.PROCESSING_TIME);

    @TimerId("windowEnd")
    private final TimerSpec windowEndSpec = TimerSpecs.timer(TimeDomain.EVENT_TIME);

    PairFn(Coder<RawUnionValue> unionCoder, boolean streaming) {
      this.unionCoder = unionCoder;
      this.streaming = streaming;
    }

    @Override
    public Duration getAllowedTimestampSkew() {
      // A pair flushed from processElement carries the later timestamp of its two sides, which
      // may be earlier than the current element's; the timer's output timestamp holds the
      // watermark at the oldest buffered element meanwhile.
      return Duration.millis(Long.MAX_VALUE);
    }

    @ProcessElement
    public void process(
        @Element KV<Integer, KV<String, RawUnionValue>> e,
        @Timestamp Instant timestamp,
        BoundedWindow window,
        @StateId("buffer") BagState<TimestampedValue<KV<String, byte[]>>> buffer,
        @StateId("added") ValueState<Integer> added,
        @StateId("timerAt") ValueState<Long> timerAt,
        @StateId("hold") ValueState<Long> hold,
        @TimerId("flush") Timer flush,
        @TimerId("windowEnd") Timer windowEnd,
        OutputReceiver<KV<L, BatchGetDocumentsResponse>> out) {
      buffer.add(
          TimestampedValue.of(
              KV.of(e.getValue().getKey(), encode(e.getValue().getValue())), timestamp));
      Integer before = added.read();
      int count = (before == null ? 0 : before) + 1;
      if (count >= FLUSH_SIZE) {
        Instant oldest = flush(buffer, out);
        added.clear();
        if (oldest == null) {
          (streaming ? flush : windowEnd).clear();
          timerAt.clear();
          hold.clear();
        } else {
          arm(window, flush, windowEnd, timerAt, hold, oldest);
        }
        return;
      }
      added.write(count);
      Long held = hold.read();
      if (held == null || timestamp.getMillis() < held) {
        arm(window, flush, windowEnd, timerAt, hold, timestamp);
      }
    }

    @OnTimer("flush")
    public void onFlush(
        BoundedWindow window,
        @StateId("buffer") BagState<TimestampedValue<KV<String, byte[]>>> buffer,
        @StateId("added") ValueState<Integer> added,
        @StateId("timerAt") ValueState<Long> timerAt,
        @StateId("hold") ValueState<Long> hold,
        @TimerId("flush") Timer flush,
        @TimerId("windowEnd") Timer windowEnd,
        OutputReceiver<KV<L, BatchGetDocumentsResponse>> out) {
      Instant oldest = flush(buffer, out);
      added.clear();
      timerAt.clear();
      hold.clear();
      if (oldest != null) {
        arm(window, flush, windowEnd, timerAt, hold, oldest);
      }
    }

    @OnTimer("windowEnd")
    public void onWindowEnd(
        @StateId("buffer") BagState<TimestampedValue<KV<String, byte[]>>> buffer,
        @StateId("added") ValueState<Integer> added,
        @StateId("hold") ValueState<Long> hold,
        OutputReceiver<KV<L, BatchGetDocumentsResponse>> out) {
      // All of the window's input has arrived: what stays unpaired now never pairs.
      flush(buffer, out);
      added.clear();
      hold.clear();
    }

    @OnWindowExpiration
    public void onExpiry(
        @StateId("buffer") BagState<TimestampedValue<KV<String, byte[]>>> buffer,
        OutputReceiver<KV<L, BatchGetDocumentsResponse>> out) {
      flush(buffer, out);
      int left = 0;
      for (TimestampedValue<KV<String, byte[]>> ignored : buffer.read()) {
        left++;
      }
      if (left > 0) {
        // A value whose read never answered (or a response without a value): nothing to pair.
        unpaired.inc(left);
      }
    }

    /**
     * (Re)sets the timer that flushes what stays buffered, holding the watermark at {@code oldest}:
     * in streaming at the firing time already chosen (else {@link #FLUSH_DELAY} from now), in batch
     * at the end of the window.
     */
    private void arm(
        BoundedWindow window,
        Timer flush,
        Timer windowEnd,
        ValueState<Long> timerAt,
        ValueState<Long> hold,
        Instant oldest) {
      if (streaming) {
        Long at = timerAt.read();
        long fireAt =
            at != null ? at : flush.getCurrentRelativeTime().getMillis() + FLUSH_DELAY.getMillis();
        flush.withOutputTimestamp(oldest).set(Instant.ofEpochMilli(fireAt));
        timerAt.write(fireAt);
      } else {
        windowEnd.withOutputTimestamp(oldest).set(window.maxTimestamp());
      }
      hold.write(oldest.getMillis());
    }

    /**
     * Emits every pair the buffer holds and keeps the rest; returns the oldest timestamp still
     * buffered (null when nothing is).
     */
    @SuppressWarnings("unchecked")
    private Instant flush(
        BagState<TimestampedValue<KV<String, byte[]>>> buffer,
        OutputReceiver<KV<L, BatchGetDocumentsResponse>> out) {
      Map<String, List<TimestampedValue<KV<String, byte[]>>>> values = new LinkedHashMap<>();
      Map<String, List<TimestampedValue<KV<String, byte[]>>>> responses = new HashMap<>();
      Map<TimestampedValue<KV<String, byte[]>>, RawUnionValue> decoded = new IdentityHashMap<>();
      for (TimestampedValue<KV<String, byte[]>> v : buffer.read()) {
        RawUnionValue u = decode(v.getValue().getValue());
        decoded.put(v, u);
        (u.getUnionTag() == 0 ? values : responses)
            .computeIfAbsent(v.getValue().getKey(), k -> new ArrayList<>())
            .add(v);
      }
      List<TimestampedValue<KV<String, byte[]>>> left = new ArrayList<>();
      for (Map.Entry<String, List<TimestampedValue<KV<String, byte[]>>>> byName :
          values.entrySet()) {
        List<TimestampedValue<KV<String, byte[]>>> vs = byName.getValue();
        List<TimestampedValue<KV<String, byte[]>>> rs =
            responses.getOrDefault(byName.getKey(), List.of());
        int pairs = Math.min(vs.size(), rs.size());
        for (int i = 0; i < pairs; i++) {
          TimestampedValue<KV<String, byte[]>> v = vs.get(i);
          TimestampedValue<KV<String, byte[]>> r = rs.get(i);
          out.outputWithTimestamp(
              KV.of(
                  (L) decoded.get(v).getValue(),
                  (BatchGetDocumentsResponse) decoded.get(r).getValue()),
              v.getTimestamp().isAfter(r.getTimestamp()) ? v.getTimestamp() : r.getTimestamp());
        }
        left.addAll(vs.subList(pairs, vs.size()));
        left.addAll(rs.subList(pairs, rs.size()));
        responses.remove(byName.getKey());
      }
      responses.values().forEach(left::addAll);
      buffer.clear();
      Instant oldest = null;
      for (TimestampedValue<KV<String, byte[]>> v : left) {
        buffer.add(v);
        if (oldest == null || v.getTimestamp().isBefore(oldest)) {
          oldest = v.getTimestamp();
        }
      }
      return oldest;
    }

    private byte[] encode(RawUnionValue u) {
      try {
        return CoderUtils.encodeToByteArray(unionCoder, u);
      } catch (CoderException e) {
        throw new IllegalStateException("Cannot encode a buffered element", e);
      }
    }

    private RawUnionValue decode(byte[] bytes) {
      try {
        return CoderUtils.decodeFromByteArray(unionCoder, bytes);
      } catch (CoderException e) {
        throw new IllegalStateException("Cannot decode a buffered element", e);
      }
    }
  }
}
