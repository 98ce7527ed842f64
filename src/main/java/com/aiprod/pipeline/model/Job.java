package com.aiprod.pipeline.model;

import com.google.auto.value.AutoValue;
import java.util.ArrayList;
import java.util.List;
import javax.annotation.Nullable;
import org.apache.beam.sdk.coders.DefaultCoder;

/**
 * One authenticated job as it moves from Validate to Deliver. Each stage fills in what it knows
 * (request, route, shots, output, QA) and appends to {@link #history()}; the job document and the
 * {@code job_results} row are both derived from it.
 */
@DefaultCoder(JobCoder.class)
@AutoValue
public abstract class Job {
  public abstract String getMessageId();

  public abstract String getJobId();

  public abstract String getTenant();

  public abstract String getUid();

  public abstract String getRole();

  public abstract String getPlan();

  public abstract long getReceivedAtMillis();

  public abstract String getState();

  /** Reason code of a refusal or failure (DESIGN §10), else null. */
  public abstract @Nullable String getReasonCode();

  /** Human-readable reason: what to fix. */
  public abstract @Nullable String getReason();

  /** Null only when the body could not be validated (a REJECTED SCHEMA_VIOLATION job). */
  public abstract @Nullable JobRequest getRequest();

  public abstract @Nullable String getBackend();

  /**
   * The router's next candidates after {@link #getBackend()}, best first: who takes over a shot the
   * chosen backend fails (DESIGN §5). Empty for a forced backend and for previews.
   */
  public abstract List<String> getFallbackBackends();

  public abstract double getEstimateUsd();

  /**
   * What the tenant is charged (DESIGN §5 "Charging", {@code catalog.Charges}): the list price of
   * the delivered shots; $0 for FAILED, REJECTED, estimates and refusals. Before a terminal state,
   * the list price of the shots delivered so far.
   */
  public abstract double getCostUsd();

  /** What the providers billed for this job: the sum of every render attempt's cost. */
  public abstract double getProviderCostUsd();

  /** Clip length of the chosen backend, which the planner cuts shots to. */
  public abstract double getClipSeconds();

  public abstract List<ShotSpec> getShots();

  /**
   * Which planner wrote {@link #getShots()}: {@code gemini:<model>} or {@code
   * local-sentence-planner}; null before Plan.
   */
  public abstract @Nullable String getPlanner();

  public abstract int getShotsDone();

  /** URIs of the rendered shots in shot order, once assembled. */
  public abstract List<String> getShotUris();

  public abstract @Nullable Double getQaTechnical();

  public abstract @Nullable Double getQaSemantic();

  /** Which semantic scorer produced qaSemantic (e.g. {@code local-coverage-heuristic}). */
  public abstract @Nullable String getQaSemanticScorer();

  public abstract @Nullable String getVideoUri();

  public abstract @Nullable String getManifestUri();

  /**
   * {@code contact_sheet.png} beside {@code final.mp4}: named at assembly, drawn by Deliver once
   * the state and the charge are final; null when the job has no {@code final.mp4} or the sheet
   * could not be written.
   */
  public abstract @Nullable String getContactSheetUri();

  public abstract List<HistoryEntry> getHistory();

  public abstract @Nullable Long getFinishedAtMillis();

  /** Orders the messages of one run (line number in batch, publish time in streaming). */
  public abstract long getOrdinal();

  /**
   * The raw request body, kept only until Admit has ruled out duplicates so that a DUPLICATE_JOB
   * dead letter still carries it; null afterwards.
   */
  public abstract @Nullable String getInputPayload();

  /**
   * Null for a submitted job; {@code cancel} for a cancel request, which travels as a Job of the
   * requester (uid, role, tenant) naming the job to cancel until it reaches that job's assembly.
   */
  public abstract @Nullable String getAction();

  /** The message id of the cancel request that ended this job CANCELLED, else null. */
  public abstract @Nullable String getCancelMessageId();

  public boolean isCancelRequest() {
    return "cancel".equals(getAction());
  }

  public String key() {
    return keyOf(getTenant(), getJobId());
  }

  public static String keyOf(String tenant, String jobId) {
    return tenant + "/" + jobId;
  }

  /**
   * When the preset's deadline passes (DESIGN §4): received + the preset's deadline, epoch ms; 0
   * when the job has no receipt time or no request.
   */
  public long deadlineAtMillis() {
    if (getReceivedAtMillis() <= 0 || getRequest() == null) {
      return 0;
    }
    return getReceivedAtMillis() + getRequest().presetValue().deadlineSec() * 1000L;
  }

  public JobState stateValue() {
    return JobState.valueOf(getState());
  }

  /** This job moved to {@code next} at {@code atMillis}, with a history entry. */
  public Job transition(JobState next, long atMillis, String detail) {
    List<HistoryEntry> h = new ArrayList<>(getHistory());
    h.add(HistoryEntry.create(next.name(), atMillis, detail));
    Builder b = toBuilder().setState(next.name()).setHistory(h);
    if (next.isTerminal()) {
      b.setFinishedAtMillis(atMillis);
    }
    return b.build();
  }

  /** A terminal refusal or failure with its reason code and message. */
  public Job finish(JobState terminal, @Nullable ReasonCode code, String message, long atMillis) {
    return toBuilder()
        .setReasonCode(code == null ? null : code.name())
        .setReason(message)
        .build()
        .transition(terminal, atMillis, code == null ? message : code.name() + ": " + message);
  }

  public static Builder builder() {
    return new AutoValue_Job.Builder()
        .setEstimateUsd(0)
        .setCostUsd(0)
        .setProviderCostUsd(0)
        .setShots(new ArrayList<>())
        .setShotsDone(0)
        .setShotUris(new ArrayList<>())
        .setFallbackBackends(new ArrayList<>())
        .setClipSeconds(0)
        .setOrdinal(0)
        .setHistory(new ArrayList<>());
  }

  public abstract Builder toBuilder();

  @AutoValue.Builder
  public abstract static class Builder {
    public abstract Builder setMessageId(String v);

    public abstract Builder setJobId(String v);

    public abstract Builder setTenant(String v);

    public abstract Builder setUid(String v);

    public abstract Builder setRole(String v);

    public abstract Builder setPlan(String v);

    public abstract Builder setReceivedAtMillis(long v);

    public abstract Builder setState(String v);

    public abstract Builder setReasonCode(@Nullable String v);

    public abstract Builder setReason(@Nullable String v);

    public abstract Builder setRequest(@Nullable JobRequest v);

    public abstract Builder setBackend(@Nullable String v);

    public abstract Builder setEstimateUsd(double v);

    public abstract Builder setCostUsd(double v);

    public abstract Builder setProviderCostUsd(double v);

    public abstract Builder setClipSeconds(double v);

    public abstract Builder setShots(List<ShotSpec> v);

    public abstract Builder setPlanner(@Nullable String v);

    public abstract Builder setShotsDone(int v);

    public abstract Builder setShotUris(List<String> v);

    public abstract Builder setFallbackBackends(List<String> v);

    public abstract Builder setQaTechnical(@Nullable Double v);

    public abstract Builder setQaSemantic(@Nullable Double v);

    public abstract Builder setQaSemanticScorer(@Nullable String v);

    public abstract Builder setVideoUri(@Nullable String v);

    public abstract Builder setManifestUri(@Nullable String v);

    public abstract Builder setContactSheetUri(@Nullable String v);

    public abstract Builder setHistory(List<HistoryEntry> v);

    public abstract Builder setFinishedAtMillis(@Nullable Long v);

    public abstract Builder setOrdinal(long v);

    public abstract Builder setInputPayload(@Nullable String v);

    public abstract Builder setAction(@Nullable String v);

    public abstract Builder setCancelMessageId(@Nullable String v);

    public abstract Job build();
  }
}
