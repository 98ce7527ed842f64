package com.aiprod.pipeline.testing;

import com.aiprod.pipeline.catalog.PricingTable;
import com.aiprod.pipeline.kernel.AuditEvents;
import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.model.DeadLetter;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobRequest;
import com.aiprod.pipeline.model.JobState;
import com.aiprod.pipeline.model.RequestMessage;
import com.aiprod.pipeline.validate.RequestValidator;
import com.aiprod.pipeline.validate.ValidationResult;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;

/** Values shared by the stage (transform) tests: messages, validated requests, jobs. */
public final class StageFixtures {
  /** 2025-11-24T16:00:00Z. */
  public static final long T0 = 1_764_000_000_000L;

  public static final AuditEvents AUDIT = new AuditEvents("test");

  private StageFixtures() {}

  /** A readable message with {@code attributes} and a JSON body. */
  public static RequestMessage message(
      String messageId, long ordinal, Map<String, String> attributes, String body) {
    return RequestMessage.builder()
        .setMessageId(messageId)
        .setDefaultJobId("L" + String.format("%032d", ordinal))
        .setOrdinal(ordinal)
        .setReceivedAtMillis(T0 + ordinal)
        .setAttributes(attributes)
        .setPayload(body == null ? null : body.getBytes(StandardCharsets.UTF_8))
        .build();
  }

  /** The request a JSON body validates to (fails the test when it does not). */
  public static JobRequest request(String json) {
    ValidationResult r =
        RequestValidator.validate(json.getBytes(StandardCharsets.UTF_8), PricingTable.builtIn());
    if (!r.isValid()) {
      throw new AssertionError("fixture body is invalid: " + r.message());
    }
    return r.request();
  }

  /** A RECEIVED job as Validate makes it. */
  public static Job received(
      String messageId,
      String tenant,
      String jobId,
      long ordinal,
      String role,
      String plan,
      String body) {
    return Job.builder()
        .setMessageId(messageId)
        .setJobId(jobId)
        .setTenant(tenant)
        .setUid("uid-" + tenant)
        .setRole(role)
        .setPlan(plan)
        .setReceivedAtMillis(T0 + ordinal)
        .setOrdinal(ordinal)
        .setInputPayload(body)
        .setState(JobState.RECEIVED.name())
        .setRequest(request(body))
        .build()
        .transition(JobState.RECEIVED, T0 + ordinal, "request received");
  }

  /**
   * A cancel of {@code tenant}'s {@code jobId} by {@code uid} with {@code role}, as Validate makes
   * it.
   */
  public static Job cancel(String messageId, String tenant, String jobId, String uid, String role) {
    String body = "{\"content\": \"A lighthouse at dawn.\", \"mode\": \"preview\"}";
    return received(messageId, tenant, jobId, 9, body).toBuilder()
        .setUid(uid)
        .setRole(role)
        .setAction("cancel")
        .setRequest(null)
        .setInputPayload(null)
        .build();
  }

  /** A user on the pro plan. */
  public static Job received(
      String messageId, String tenant, String jobId, long ordinal, String body) {
    return received(messageId, tenant, jobId, ordinal, "user", "pro", body);
  }

  public static <T> List<T> list(Iterable<T> items) {
    return StreamSupport.stream(items.spliterator(), false).collect(Collectors.toList());
  }

  public static List<String> eventTypes(Iterable<AuditEvent> events) {
    List<String> out = new ArrayList<>();
    events.forEach(e -> out.add(e.getEventType()));
    return out;
  }

  public static List<String> reasonCodes(Iterable<DeadLetter> deadLetters) {
    List<String> out = new ArrayList<>();
    deadLetters.forEach(d -> out.add(d.getReasonCode()));
    return out;
  }

  public static List<String> states(Iterable<Job> jobs) {
    List<String> out = new ArrayList<>();
    jobs.forEach(j -> out.add(j.getState()));
    return out;
  }

  public static List<String> history(Job job) {
    return job.getHistory().stream().map(h -> h.getState()).collect(Collectors.toList());
  }
}
