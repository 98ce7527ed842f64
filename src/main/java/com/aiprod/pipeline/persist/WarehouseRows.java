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
import javax.annotation.Nullable;
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
    return new Values(WarehouseTable.JOB_RESULTS.beamSchema())
        .with("job_id", job.getJobId())
        .with("message_id", job.getMessageId())
        .with("tenant", job.getTenant())
        .with("uid", job.getUid())
        .with("preset", request == null ? null : request.getPreset())
        .with("mode", request == null ? null : request.getMode())
        .with("state", job.getState())
        .with("reason_code", job.getReasonCode())
        .with("reason", job.getReason())
        .with("backend", job.getBackend())
        .with("shots_total", (long) job.getShots().size())
        .with("shots_done", (long) job.getShotsDone())
        .with("duration_sec", request == null ? null : (long) request.getDurationSec())
        .with("budget_usd", request == null ? null : request.getBudgetUsd())
        .with("estimate_usd", job.getEstimateUsd())
        .with("cost_usd", job.getCostUsd())
        .with("provider_cost_usd", job.getProviderCostUsd())
        .with("technical_score", job.getQaTechnical())
        .with("semantic_score", job.getQaSemantic())
        .with("semantic_scorer", job.getQaSemanticScorer())
        .with("output_uri", job.getVideoUri())
        .with("received_at", new Instant(job.getReceivedAtMillis()))
        .with("finished_at", new Instant(finished))
        .with("latency_ms", Math.max(0L, finished - job.getReceivedAtMillis()))
        .with("contact_sheet_uri", job.getContactSheetUri())
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
    return new Values(WarehouseTable.SHOT_RENDERS.beamSchema())
        .with("job_id", shot.getJobId())
        .with("tenant", shot.getTenant())
        .with("shot_index", (long) shot.getShotIndex())
        .with("attempt", (long) shot.getAttempt())
        .with("backend", shot.getBackend())
        .with("status", shot.getStatus())
        .with("error", shot.getError())
        .with("cost_usd", shot.getCostUsd())
        .with("latency_ms", shot.getLatencyMs())
        .with("started_at", new Instant(shot.getStartedAtMillis()))
        .with("finished_at", new Instant(shot.getFinishedAtMillis()))
        .build();
  }

  /** The {@code audit_events} row of an audit event; {@code details} stays JSON text. */
  public static Row auditEvent(AuditEvent e) {
    return new Values(WarehouseTable.AUDIT_EVENTS.beamSchema())
        .with("event_id", e.getEventId())
        .with("event_time", new Instant(e.getEventTimeMillis()))
        .with("event_type", e.getEventType())
        .with("environment", e.getEnvironment())
        .with("service", e.getService())
        .with("tenant", e.getTenant())
        .with("user_id", e.getUserId())
        .with("action", e.getAction())
        .with("resource", e.getResource())
        .with("status", e.getStatus())
        .with("job_id", e.getJobId())
        .with("message_id", e.getMessageId())
        .with("details", e.getDetails())
        .with("signature", e.getSignature())
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
    return new Values(schema)
        .with("timestamp", new Instant(d.getTimestampMillis()))
        .with("payloadString", d.getPayloadString())
        .with("payloadBytes", d.getPayloadBytes())
        .with("attributes", attributes)
        .with("errorMessage", d.getErrorMessage())
        .with("stacktrace", d.getStacktrace())
        .with("reason_code", d.getReasonCode())
        .with("stage", d.getStage())
        .with("message_id", d.getMessageId())
        .build();
  }

  /**
   * A row's values by column name, built positionally: {@code Row.withFieldValue} parses a field
   * access descriptor per call (a tenth of a batch estimate's warehouse CPU, docs/PERFORMANCE.md).
   */
  private static final class Values {
    private final Schema schema;
    private final Object[] values;

    Values(Schema schema) {
      this.schema = schema;
      this.values = new Object[schema.getFieldCount()];
    }

    Values with(String column, @Nullable Object value) {
      values[schema.indexOf(column)] = value;
      return this;
    }

    /**
     * The row, values attached without {@code Row.Builder}'s per-field matching (its cost showed in
     * the profile); fails on a missing required value.
     */
    Row build() {
      for (int i = 0; i < values.length; i++) {
        if (values[i] == null && !schema.getField(i).getType().getNullable()) {
          throw new IllegalArgumentException(
              "Required column " + schema.getField(i).getName() + " has no value");
        }
      }
      return Row.withSchema(schema).attachValues(values);
    }
  }
}
