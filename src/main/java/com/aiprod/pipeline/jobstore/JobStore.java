package com.aiprod.pipeline.jobstore;

import java.io.Serializable;
import java.util.Objects;
import org.apache.beam.runners.dataflow.options.DataflowPipelineWorkerPoolOptions;
import org.apache.beam.sdk.extensions.gcp.options.GcpOptions;
import org.apache.beam.sdk.io.gcp.firestore.FirestoreOptions;
import org.apache.beam.sdk.io.gcp.firestore.RpcQosOptions;
import org.apache.beam.sdk.options.PipelineOptions;

/**
 * Where job documents live: the Firestore database {@code projects/{project}/databases/{db}} and
 * the document path {@code tenants/{tenant}/jobs/{job_id}} (DESIGN §7), plus the FirestoreIO
 * quality-of-service settings used by {@link WriteJobDocuments} and {@link ExistingJobLookup}.
 *
 * <p>{@link #fromOptions} reuses Beam's options: the project is {@code --firestoreProject} or else
 * {@code --project}, the database {@code --firestoreDb} (default {@code (default)}); the emulator
 * is {@code --emulatorHost}, read by FirestoreIO itself. FirestoreIO's default QoS assumes 500
 * workers and ramps up at about one write per second per worker; the hint here is the real maximum
 * worker count ({@code --maxNumWorkers} on Dataflow, else 1).
 */
public final class JobStore implements Serializable {
  private static final long serialVersionUID = 1L;

  private final String projectId;
  private final String databaseId;
  private final int maxWorkersHint;

  private JobStore(String projectId, String databaseId, int maxWorkersHint) {
    if (projectId == null || projectId.isBlank()) {
      throw new IllegalArgumentException(
          "The Firestore project is required: --project (or --firestoreProject)");
    }
    if (maxWorkersHint < 1) {
      throw new IllegalArgumentException("maxWorkersHint must be ≥ 1: " + maxWorkersHint);
    }
    this.projectId = projectId;
    this.databaseId = databaseId == null || databaseId.isBlank() ? "(default)" : databaseId;
    this.maxWorkersHint = maxWorkersHint;
  }

  /** The job store of a pipeline's options (see the class comment). */
  public static JobStore fromOptions(PipelineOptions options) {
    FirestoreOptions fs = options.as(FirestoreOptions.class);
    String project = fs.getFirestoreProject();
    if (project == null || project.isBlank()) {
      project = options.as(GcpOptions.class).getProject();
    }
    int workers = options.as(DataflowPipelineWorkerPoolOptions.class).getMaxNumWorkers();
    return new JobStore(project, fs.getFirestoreDb(), workers > 0 ? workers : 1);
  }

  /** The job store in {@code projects/{projectId}/databases/{databaseId}}, for one worker. */
  public static JobStore of(String projectId, String databaseId) {
    return new JobStore(projectId, databaseId, 1);
  }

  /** The same store with another FirestoreIO {@code hintMaxNumWorkers}. */
  public JobStore withMaxWorkersHint(int workers) {
    return new JobStore(projectId, databaseId, workers);
  }

  public String projectId() {
    return projectId;
  }

  public String databaseId() {
    return databaseId;
  }

  public int maxWorkersHint() {
    return maxWorkersHint;
  }

  /** {@code projects/{project}/databases/{db}}. */
  public String databaseName() {
    return "projects/" + projectId + "/databases/" + databaseId;
  }

  /** {@code projects/{project}/databases/{db}/documents}. */
  public String documentsRoot() {
    return databaseName() + "/documents";
  }

  /** The full document name of a job: {@code …/documents/tenants/{tenant}/jobs/{jobId}}. */
  public String documentName(String tenant, String jobId) {
    return documentsRoot() + "/" + relativePath(tenant, jobId);
  }

  /** {@code tenants/{tenant}/jobs/{jobId}}. */
  public static String relativePath(String tenant, String jobId) {
    return "tenants/" + tenant + "/jobs/" + jobId;
  }

  /**
   * FirestoreIO's adaptive throttler counts every write Firestore does not apply as a sign of
   * overload, and a lost precondition of the monotonic merge is such a write. FirestoreIO allows
   * ratios up to 1.5: the most tolerant one is used (throttling starts above a third of writes
   * refused instead of 5%). Streaming job documents avoid the refusals altogether ({@link
   * WriteJobDocumentsInOrder}); this applies to the batch writer and the lookups.
   */
  static final double OVERLOAD_RATIO = 1.5;

  /**
   * FirestoreIO QoS: ramp-up sized for {@link #maxWorkersHint()} workers, precondition-tolerant.
   */
  public RpcQosOptions rpcQosOptions() {
    return RpcQosOptions.newBuilder()
        .withHintMaxNumWorkers(maxWorkersHint)
        .withOverloadRatio(OVERLOAD_RATIO)
        .build();
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof JobStore)) {
      return false;
    }
    JobStore that = (JobStore) o;
    return projectId.equals(that.projectId)
        && databaseId.equals(that.databaseId)
        && maxWorkersHint == that.maxWorkersHint;
  }

  @Override
  public int hashCode() {
    return Objects.hash(projectId, databaseId, maxWorkersHint);
  }

  @Override
  public String toString() {
    return databaseName() + " (QoS workers hint " + maxWorkersHint + ")";
  }
}
