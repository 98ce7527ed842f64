package com.aiprod.pipeline.persist;

import com.aiprod.pipeline.audit.AuditEvent;
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
   * Job#finishedAtMillis()}, else the time of the last history entry, else the receive time;
   * {@code latency_ms} is finished − received; preset, mode, duration and budget come from the
   * request when there is one (a job refused before validation has none).
   */
  public static Row jobResult(Job job) {
    JobRequest request = job.request();
    long finished = finishedAt(job);
    return Row.withSchema(WarehouseTable.JOB_RESULTS.beamSchema())
        .withFieldValue("job_id", job.jobId())
        .withFieldValue("message_id", job.messageId())
        .withFieldValue("tenant", job.tenant())
        .withFieldValue("uid", job.uid())
        .withFieldValue("preset", request == null ? null : request.preset())
        .withFieldValue("mode", request == null ? null : request.mode())
        .withFieldValue("state", job.state())
        .withFieldValue("reason_code", job.reasonCode())
        .withFieldValue("reason", job.reason())
        .withFieldValue("backend", job.backend())
        .withFieldValue("shots_total", (long) job.shots().size())
        .withFieldValue("shots_done", (long) job.shotsDone())
        .withFieldValue("duration_sec", request == null ? null : (long) request.durationSec())
        .withFieldValue("budget_usd", request == null ? null : request.budgetUsd())
        .withFieldValue("estimate_usd", job.estimateUsd())
        .withFieldValue("cost_usd", job.costUsd())
        .withFieldValue("technical_score", job.qaTechnical())
        .withFieldValue("semantic_score", job.qaSemantic())
        .withFieldValue("semantic_scorer", job.qaSemanticScorer())
        .withFieldValue("output_uri", job.videoUri())
        .withFieldValue("received_at", new Instant(job.receivedAtMillis()))
        .withFieldValue("finished_at", new Instant(finished))
        .withFieldValue("latency_ms", Math.max(0L, finished - job.receivedAtMillis()))
        .build();
  }

  static long finishedAt(Job job) {
    if (job.finishedAtMillis() != null) {
      return job.finishedAtMillis();
    }
    long last = job.receivedAtMillis();
    for (HistoryEntry h : job.history()) {
      last = Math.max(last, h.atMillis());
    }
    return last;
  }

  /** The {@code shot_renders} row of one render attempt. */
  public static Row shotRender(ShotResult shot) {
    return Row.withSchema(WarehouseTable.SHOT_RENDERS.beamSchema())
        .withFieldValue("job_id", shot.jobId())
        .withFieldValue("tenant", shot.tenant())
        .withFieldValue("shot_index", (long) shot.shotIndex())
        .withFieldValue("attempt", (long) shot.attempt())
        .withFieldValue("backend", shot.backend())
        .withFieldValue("status", shot.status())
        .withFieldValue("error", shot.error())
        .withFieldValue("cost_usd", shot.costUsd())
        .withFieldValue("latency_ms", shot.latencyMs())
        .withFieldValue("started_at", new Instant(shot.startedAtMillis()))
        .withFieldValue("finished_at", new Instant(shot.finishedAtMillis()))
        .build();
  }

  /** The {@code audit_events} row of an audit event; {@code details} stays JSON text. */
  public static Row auditEvent(AuditEvent e) {
    return Row.withSchema(WarehouseTable.AUDIT_EVENTS.beamSchema())
        .withFieldValue("event_id", e.eventId())
        .withFieldValue("event_time", new Instant(e.eventTimeMillis()))
        .withFieldValue("event_type", e.eventType())
        .withFieldValue("environment", e.environment())
        .withFieldValue("service", e.service())
        .withFieldValue("tenant", e.tenant())
        .withFieldValue("user_id", e.userId())
        .withFieldValue("action", e.action())
        .withFieldValue("resource", e.resource())
        .withFieldValue("status", e.status())
        .withFieldValue("job_id", e.jobId())
        .withFieldValue("message_id", e.messageId())
        .withFieldValue("details", e.details())
        .withFieldValue("signature", e.signature())
        .build();
  }

  /**
   * The {@code dead_letters} row of a dead letter. Attributes become key/value records sorted by
   * key; an {@code authorization} attribute is redacted again here, whatever its value.
   */
  public static Row deadLetter(DeadLetter d) {
    Schema schema = WarehouseTable.DEAD_LETTERS.beamSchema();
    Schema attributeSchema = schema.getField("attributes").getType().getCollectionElementType()
        .getRowSchema();
    List<Row> attributes = new ArrayList<>();
    for (Map.Entry<String, String> a : new TreeMap<>(d.attributes()).entrySet()) {
      String value = "authorization".equalsIgnoreCase(a.getKey()) ? REDACTED : a.getValue();
      attributes.add(Row.withSchema(attributeSchema).addValues(a.getKey(), value).build());
    }
    return Row.withSchema(schema)
        .withFieldValue("timestamp", new Instant(d.timestampMillis()))
        .withFieldValue("payloadString", d.payloadString())
        .withFieldValue("payloadBytes", d.payloadBytes())
        .withFieldValue("attributes", attributes)
        .withFieldValue("errorMessage", d.errorMessage())
        .withFieldValue("stacktrace", d.stacktrace())
        .withFieldValue("reason_code", d.reasonCode())
        .withFieldValue("stage", d.stage())
        .withFieldValue("message_id", d.messageId())
        .build();
  }
}
