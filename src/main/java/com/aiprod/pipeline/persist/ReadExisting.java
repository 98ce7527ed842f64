package com.aiprod.pipeline.persist;

import com.google.firestore.v1.BatchGetDocumentsRequest;
import com.google.firestore.v1.BatchGetDocumentsResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.extensions.protobuf.ProtoCoder;
import org.apache.beam.sdk.io.gcp.firestore.FirestoreIO;
import org.apache.beam.sdk.state.BagState;
import org.apache.beam.sdk.state.StateSpec;
import org.apache.beam.sdk.state.StateSpecs;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.FlatMapElements;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.transforms.join.RawUnionValue;
import org.apache.beam.sdk.transforms.join.UnionCoder;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.joda.time.Instant;

/**
 * Pairs each keyed element (key = full Firestore document name) with the document currently
 * stored under that name, read with FirestoreIO's {@code batchGetDocuments}.
 *
 * <ol>
 *   <li>{@code GroupInBundle}: a bundle's elements are grouped by (window, document name) and
 *       folded into one value {@code L} per name; the names go out as batch-get requests of up to
 *       {@value #NAMES_PER_REQUEST} distinct documents. No GroupByKey: this works unchanged in batch
 *       and streaming, in any windowing, and keeps the input's windowing.
 *   <li>{@code BatchGet}: FirestoreIO reads the documents (one response per name: found or
 *       missing).
 *   <li>{@code PairWithExisting}: a stateful DoFn keyed by document name joins each folded value
 *       with one response for its name (both sides may arrive in any order; state holds whichever
 *       came first and is cleared once paired).
 *   <li>{@code Rebundle}: a bucketed reshuffle, so that the pairs reach the writer in large
 *       bundles rather than one bundle per document.
 * </ol>
 */
final class ReadExisting<T, L> extends PTransform<PCollection<KV<String, T>>, PCollection<KV<L, BatchGetDocumentsResponse>>> {
  static final int NAMES_PER_REQUEST = 100;
  static final int REBUNDLE_BUCKETS_PER_WORKER = 8;

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

    PCollection<KV<String, RawUnionValue>> responses =
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
                FlatMapElements.into(new TypeDescriptor<KV<String, RawUnionValue>>() {})
                    .via(
                        r ->
                            responseName(r).isEmpty()
                                ? List.<KV<String, RawUnionValue>>of()
                                : List.of(KV.of(responseName(r), new RawUnionValue(1, r)))))
            .setCoder(taggedCoder);
    PCollection<KV<String, RawUnionValue>> values =
        grouped
            .get(folded)
            .apply(
                "TagValues",
                MapElements.into(new TypeDescriptor<KV<String, RawUnionValue>>() {})
                    .via(kv -> KV.of(kv.getKey(), new RawUnionValue(0, kv.getValue()))))
            .setCoder(taggedCoder);
    return PCollectionList.of(values)
        .and(responses)
        .apply("Tagged", Flatten.pCollections())
        .setCoder(taggedCoder)
        .apply("PairWithExisting", ParDo.of(new PairFn<L>(foldedCoder)))
        .setCoder(KvCoder.of(foldedCoder, responseCoder))
        // A stateful DoFn emits per-key bundles on some runners (DirectRunner: one bundle per
        // document, so one Firestore channel and one RPC per document downstream); a bucketed
        // reshuffle regroups the pairs into a few large bundles for batched writes.
        .apply(
            "Rebundle",
            Reshuffle.<KV<L, BatchGetDocumentsResponse>>viaRandomKey()
                .withNumBuckets(REBUNDLE_BUCKETS_PER_WORKER * store.maxWorkersHint()));
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

  /** Joins folded values (tag 0) with batch-get responses (tag 1) per document name. */
  static final class PairFn<L> extends DoFn<KV<String, RawUnionValue>, KV<L, BatchGetDocumentsResponse>> {
    @StateId("values")
    private final StateSpec<BagState<L>> valuesSpec;

    @StateId("responses")
    private final StateSpec<BagState<BatchGetDocumentsResponse>> responsesSpec =
        StateSpecs.bag(ProtoCoder.of(BatchGetDocumentsResponse.class));

    PairFn(Coder<L> valueCoder) {
      this.valuesSpec = StateSpecs.bag(valueCoder);
    }

    @ProcessElement
    @SuppressWarnings("unchecked")
    public void process(
        @Element KV<String, RawUnionValue> e,
        @StateId("values") BagState<L> values,
        @StateId("responses") BagState<BatchGetDocumentsResponse> responses,
        OutputReceiver<KV<L, BatchGetDocumentsResponse>> out) {
      RawUnionValue u = e.getValue();
      if (u.getUnionTag() == 0) {
        values.add((L) u.getValue());
      } else {
        responses.add((BatchGetDocumentsResponse) u.getValue());
      }
      List<L> pendingValues = new ArrayList<>();
      values.read().forEach(pendingValues::add);
      List<BatchGetDocumentsResponse> pendingResponses = new ArrayList<>();
      responses.read().forEach(pendingResponses::add);
      int pairs = Math.min(pendingValues.size(), pendingResponses.size());
      if (pairs == 0) {
        return;
      }
      for (int i = 0; i < pairs; i++) {
        out.output(KV.of(pendingValues.get(i), pendingResponses.get(i)));
      }
      values.clear();
      responses.clear();
      pendingValues.subList(pairs, pendingValues.size()).forEach(values::add);
      pendingResponses.subList(pairs, pendingResponses.size()).forEach(responses::add);
    }
  }
}
