package com.aiprod.pipeline.jobstore;

import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobState;
import com.google.firestore.v1.ArrayValue;
import com.google.firestore.v1.RunQueryRequest;
import com.google.firestore.v1.RunQueryResponse;
import com.google.firestore.v1.StructuredQuery;
import com.google.firestore.v1.Value;
import org.apache.beam.sdk.extensions.protobuf.ProtoCoder;
import org.apache.beam.sdk.io.gcp.firestore.FirestoreIO;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;

/**
 * At the start of a streaming run: every job document that has not ended (RECEIVED, PLANNED,
 * RENDERING, QA) becomes a job again, so that a job whose Pub/Sub message was acknowledged before
 * the previous run stopped is finished by this one. The jobs enter Admit like new messages with
 * their original message id: a message redelivered at the same time is dropped as the same message,
 * and the store lookup lets them through as their own claim. Needs a collection-group index on
 * {@code jobs.state} in production (terraform).
 */
public final class ResumeUnfinishedJobs extends PTransform<PBegin, PCollection<Job>> {
  private final JobStore store;

  public ResumeUnfinishedJobs(JobStore store) {
    this.store = store;
  }

  @Override
  public PCollection<Job> expand(PBegin begin) {
    ArrayValue.Builder unfinished = ArrayValue.newBuilder();
    for (JobState s : JobState.values()) {
      if (!s.isTerminal()) {
        unfinished.addValues(Value.newBuilder().setStringValue(s.name()));
      }
    }
    RunQueryRequest query =
        RunQueryRequest.newBuilder()
            .setParent(store.documentsRoot())
            .setStructuredQuery(
                StructuredQuery.newBuilder()
                    .addFrom(
                        StructuredQuery.CollectionSelector.newBuilder()
                            .setCollectionId("jobs")
                            .setAllDescendants(true))
                    .setWhere(
                        StructuredQuery.Filter.newBuilder()
                            .setFieldFilter(
                                StructuredQuery.FieldFilter.newBuilder()
                                    .setField(
                                        StructuredQuery.FieldReference.newBuilder()
                                            .setFieldPath("state"))
                                    .setOp(StructuredQuery.FieldFilter.Operator.IN)
                                    .setValue(Value.newBuilder().setArrayValue(unfinished)))))
            .build();
    return begin
        .apply(
            "UnfinishedJobsQuery", Create.of(query).withCoder(ProtoCoder.of(RunQueryRequest.class)))
        .apply(
            "QueryUnfinishedJobs",
            FirestoreIO.v1().read().runQuery().withRpcQosOptions(store.rpcQosOptions()).build())
        .apply("ToJobs", ParDo.of(new ToJobFn()));
  }

  static final class ToJobFn extends DoFn<RunQueryResponse, Job> {
    private final Counter resumed = Metrics.counter("aiprod", "jobs_resumed");

    @ProcessElement
    public void process(@Element RunQueryResponse r, OutputReceiver<Job> out) {
      if (!r.hasDocument()) {
        return;
      }
      Job job = JobDocuments.resumable(r.getDocument());
      if (job != null) {
        resumed.inc();
        out.output(job);
      }
    }
  }
}
