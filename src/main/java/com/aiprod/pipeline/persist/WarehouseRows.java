package com.aiprod.pipeline.persist;

import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.model.DeadLetter;
import com.aiprod.pipeline.model.HistoryEntry;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobRequest;
import com.aiprod.pipeline.model.ShotResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Instant;

/**
 * Converts the pipeline's value types to {@link Row}s of the warehouse table schemas ({@link
 * WarehouseTable#beamSchema()}), ready for {@link Warehouse#write(WarehouseTable)}.
 *
 * <p>Typical use: {@code jobs.apply(MapElements.into(TypeDescriptors.rows())
 * .via(WarehouseRows::jobResult)).setRowSchema(WarehouseTable.JOB_RESULTS.beamSchema())}.
 */
public final class WarehouseRows {
  /** The value stored for the {@code authorization} attribute of a dead letter. */
  public static final String REDACTED = "[REDACTED]";

  private WarehouseRows() {}

  /**
   * The {@code job_results} row of a terminal job. {@code finished_at} is {@link
   * Job#finishedAtMillis()}, else the time of the last history entry, else the receive time; {@code
   * latency_ms} is finished − received; preset, mode, duration and budget come from the request
   * when there is one (a job refused before validation has none).
   */
  public static Row jobResult(Job job) {
    JobRequest request = job.getRequest();
    long finished = finishedAt(job);
    return Row.withSchema(WarehouseTable.JOB_RESULTS.beamSchema())
        .withFieldValue("job_id", job.getJobId())
        .withFieldValue("message_id", job.getMessageId())
        .withFieldValue("tenant", job.getTenant())
        .withFieldValue("uid", job.getUid())
        .withFieldValue("preset", request == null ? null : request.getPreset())
        .withFieldValue("mode", request == null ? null : request.getMode())
        .withFieldValue("state", job.getState())
        .withFieldValue("reason_code", job.getReasonCode())
        .withFieldValue("reason", job.getReason())
        .withFieldValue("backend", job.getBackend())
        .withFieldValue("shots_total", (long) job.getShots().size())
        .withFieldValue("shots_done", (long) job.getShotsDone())
        .withFieldValue("duration_sec", request == null ? null : (long) request.getDurationSec())
        .withFieldValue("budget_usd", request == null ? null : request.getBudgetUsd())
        .withFieldValue("estimate_usd", job.getEstimateUsd())
        .withFieldValue("cost_usd", job.getCostUsd())
        .withFieldValue("provider_cost_usd", job.getProviderCostUsd())
        .withFieldValue("technical_score", job.getQaTechnical())
        .withFieldValue("semantic_score", job.getQaSemantic())
        .withFieldValue("semantic_scorer", job.getQaSemanticScorer())
        .withFieldValue("output_uri", job.getVideoUri())
        .withFieldValue("received_at", new Instant(job.getReceivedAtMillis()))
        .withFieldValue("finished_at", new Instant(finished))
        .withFieldValue("latency_ms", Math.max(0L, finished - job.getReceivedAtMillis()))
        .withFieldValue("contact_sheet_uri", job.getContactSheetUri())
        .build();
  }

  static long finishedAt(Job job) {
    if (job.getFinishedAtMillis() != null) {
      return job.getFinishedAtMillis();
    }
    long last = job.getReceivedAtMillis();
    for (HistoryEntry h : job.getHistory()) {
      last = Math.max(last, h.getAtMillis());
    }
    return last;
  }

  /** The {@code shot_renders} row of one render attempt. */
  public static Row shotRender(ShotResult shot) {
    return Row.withSchema(WarehouseTable.SHOT_RENDERS.beamSchema())
        .withFieldValue("job_id", shot.getJobId())
        .withFieldValue("tenant", shot.getTenant())
        .withFieldValue("shot_index", (long) shot.getShotIndex())
        .withFieldValue("attempt", (long) shot.getAttempt())
        .withFieldValue("backend", shot.getBackend())
        .withFieldValue("status", shot.getStatus())
        .withFieldValue("error", shot.getError())
        .withFieldValue("cost_usd", shot.getCostUsd())
        .withFieldValue("latency_ms", shot.getLatencyMs())
        .withFieldValue("started_at", new Instant(shot.getStartedAtMillis()))
        .withFieldValue("finished_at", new Instant(shot.getFinishedAtMillis()))
        .build();
  }

  /** The {@code audit_events} row of an audit event; {@code details} stays JSON text. */
  public static Row auditEvent(AuditEvent e) {
    return Row.withSchema(WarehouseTable.AUDIT_EVENTS.beamSchema())
        .withFieldValue("event_id", e.getEventId())
        .withFieldValue("event_time", new Instant(e.getEventTimeMillis()))
        .withFieldValue("event_type", e.getEventType())
        .withFieldValue("environment", e.getEnvironment())
        .withFieldValue("service", e.getService())
        .withFieldValue("tenant", e.getTenant())
        .withFieldValue("user_id", e.getUserId())
        .withFieldValue("action", e.getAction())
        .withFieldValue("resource", e.getResource())
        .withFieldValue("status", e.getStatus())
        .withFieldValue("job_id", e.getJobId())
        .withFieldValue("message_id", e.getMessageId())
        .withFieldValue("details", e.getDetails())
        .withFieldValue("signature", e.getSignature())
        .build();
  }

  /**
   * The {@code dead_letters} row of a dead letter. Attributes become key/value records sorted by
   * key; an {@code authorization} attribute is redacted again here, whatever its value.
   */
  public static Row deadLetter(DeadLetter d) {
    Schema schema = WarehouseTable.DEAD_LETTERS.beamSchema();
    Schema attributeSchema =
        schema.getField("attributes").getType().getCollectionElementType().getRowSchema();
    List<Row> attributes = new ArrayList<>();
    for (Map.Entry<String, String> a : new TreeMap<>(d.getAttributes()).entrySet()) {
      String value = "authorization".equalsIgnoreCase(a.getKey()) ? REDACTED : a.getValue();
      attributes.add(Row.withSchema(attributeSchema).addValues(a.getKey(), value).build());
    }
    return Row.withSchema(schema)
        .withFieldValue("timestamp", new Instant(d.getTimestampMillis()))
        .withFieldValue("payloadString", d.getPayloadString())
        .withFieldValue("payloadBytes", d.getPayloadBytes())
        .withFieldValue("attributes", attributes)
        .withFieldValue("errorMessage", d.getErrorMessage())
        .withFieldValue("stacktrace", d.getStacktrace())
        .withFieldValue("reason_code", d.getReasonCode())
        .withFieldValue("stage", d.getStage())
        .withFieldValue("message_id", d.getMessageId())
        .build();
  }
}
