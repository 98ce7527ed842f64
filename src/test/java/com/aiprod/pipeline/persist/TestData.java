package com.aiprod.pipeline.persist;

import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.model.DeadLetter;
import com.aiprod.pipeline.model.HistoryEntry;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobRequest;
import com.aiprod.pipeline.model.JobState;
import com.aiprod.pipeline.model.ShotResult;
import com.aiprod.pipeline.model.ShotSpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Builders of realistic test values shared by the persist tests. */
final class TestData {
  static final long T0 = 1_764_000_000_000L;

  private TestData() {}

  static JobRequest request() {
    return JobRequest.builder()
        .setContent("A lighthouse at dawn. Waves crash on the rocks.")
        .setPreset("quick_social")
        .setMode("preview")
        .setPriority("low")
        .setLang("fr")
        .setDurationSec(10)
        .setBudgetUsd(0.5)
        .build();
  }

  /** A job received at {@code T0 + offset}. */
  static Job received(String tenant, String jobId) {
    return Job.builder()
        .setMessageId("msg-" + jobId)
        .setJobId(jobId)
        .setTenant(tenant)
        .setUid("user-" + tenant)
        .setRole("user")
        .setPlan("pro")
        .setReceivedAtMillis(T0)
        .setState(JobState.RECEIVED.name())
        .setRequest(request())
        .setHistory(List.of(HistoryEntry.create("RECEIVED", T0, "accepted")))
        .build();
  }

  static Job planned(String tenant, String jobId) {
    return received(tenant, jobId).toBuilder()
        .setBackend("preview")
        .setEstimateUsd(0)
        .setShots(
            List.of(
                ShotSpec.create(0, 5, "A lighthouse at dawn.", 11L),
                ShotSpec.create(1, 5, "Waves crash on the rocks.", 12L)))
        .build()
        .transition(JobState.PLANNED, T0 + 1_000, "2 shots on preview");
  }

  static Job delivered(String tenant, String jobId) {
    return planned(tenant, jobId)
        .transition(JobState.RENDERING, T0 + 2_000, "rendering")
        .transition(JobState.QA, T0 + 5_000, "qa")
        .toBuilder()
        .setShotsDone(2)
        .setQaTechnical(1.0)
        .setQaSemantic(0.85)
        .setQaSemanticScorer("local-coverage-heuristic")
        .setVideoUri("/tmp/out/" + tenant + "/" + jobId + "/final.mp4")
        .setManifestUri("/tmp/out/" + tenant + "/" + jobId + "/manifest.json")
        .build()
        .transition(JobState.DELIVERED, T0 + 6_000, "delivered");
  }

  static ShotResult shot(String jobId, int index, int attempt) {
    return ShotResult.builder()
        .setTenant("acme")
        .setJobId(jobId)
        .setShotIndex(index)
        .setAttempt(attempt)
        .setBackend("preview")
        .setStatus("succeeded")
        .setError(null)
        .setCostUsd(0.0)
        .setLatencyMs(120)
        .setStartedAtMillis(T0 + 2_000)
        .setFinishedAtMillis(T0 + 2_120)
        .setUri("/tmp/out/shot-" + index + ".mp4")
        .build();
  }

  static AuditEvent audit(String eventId) {
    return AuditEvent.builder()
        .setEventId(eventId)
        .setEventTimeMillis(T0)
        .setEventType("DATA_ACCESS")
        .setEnvironment("dev")
        .setTenant("acme")
        .setUserId("user-acme")
        .setAction("job_document.write")
        .setResource("tenants/acme/jobs/job-00000001")
        .setStatus("success")
        .setJobId("job-00000001")
        .setMessageId("msg-1")
        .setDetails("{\"state\":\"DELIVERED\",\"shots\":2}")
        .setSignature("abc123")
        .build();
  }

  static DeadLetter deadLetter(String messageId) {
    Map<String, String> attributes = new LinkedHashMap<>();
    attributes.put("job_id", "job-00000009");
    attributes.put("authorization", "Bearer secret-token");
    return DeadLetter.builder()
        .setTimestampMillis(T0)
        .setPayloadString("{not json")
        .setPayloadBytes(new byte[] {1, 2, 3})
        .setAttributes(attributes)
        .setErrorMessage("The body is not valid JSON: fix the request body")
        .setStacktrace(null)
        .setReasonCode("MALFORMED_JSON")
        .setStage("Validate")
        .setMessageId(messageId)
        .build();
  }
}
