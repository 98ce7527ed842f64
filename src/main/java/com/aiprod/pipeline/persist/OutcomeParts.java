package com.aiprod.pipeline.persist;

import com.aiprod.pipeline.jobstore.JobDocuments;
import com.aiprod.pipeline.jobstore.WriteJobDocumentsInOrder;
import com.aiprod.pipeline.kernel.OutcomePart;
import com.aiprod.pipeline.model.JobState;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Optional;
import javax.annotation.Nullable;
import org.apache.beam.sdk.values.Row;

/**
 * Which committed writes make up a message's outcome ({@link OutcomePart}): a {@code dead_letters}
 * row is the whole outcome; a terminal job's outcome is its document ({@link
 * JobDocuments#outcomeParts}, from {@link WriteJobDocumentsInOrder} and {@link
 * Deliver.EndedJobRows}), its {@code job_results} row and the {@code audit_events} row of its
 * terminal document write ({@code write_job_document} with a terminal {@code state} in its
 * details). The writers emit these parts; they do not know who acknowledges the message.
 */
public final class OutcomeParts {
  static final String WRITE_JOB_DOCUMENT = "write_job_document";
  private static final ObjectMapper JSON = new ObjectMapper();

  private OutcomeParts() {}

  /**
   * The outcome part, if any, that a committed row of {@code table} for message {@code messageId}
   * is; {@code action} and {@code details} matter for audit rows only.
   */
  public static Optional<OutcomePart> ofRow(
      WarehouseTable table,
      @Nullable String messageId,
      @Nullable String action,
      @Nullable String details) {
    if (messageId == null) {
      return Optional.empty();
    }
    switch (table) {
      case DEAD_LETTERS:
        return Optional.of(OutcomePart.whole(messageId));
      case JOB_RESULTS:
        return Optional.of(OutcomePart.of(messageId, OutcomePart.Part.JOB_RESULTS_ROW));
      case AUDIT_EVENTS:
        return WRITE_JOB_DOCUMENT.equals(action) && terminalState(details)
            ? Optional.of(OutcomePart.of(messageId, OutcomePart.Part.JOB_AUDIT_ROW))
            : Optional.empty();
      default:
        return Optional.empty();
    }
  }

  /** The outcome part of a committed row of {@code table} (a row of its Beam schema). */
  public static Optional<OutcomePart> ofRow(WarehouseTable table, Row row) {
    if (!counts(table)) {
      return Optional.empty();
    }
    boolean audit = table == WarehouseTable.AUDIT_EVENTS;
    return ofRow(
        table,
        row.getString("message_id"),
        audit ? row.getString("action") : null,
        audit ? row.getString("details") : null);
  }

  /**
   * Whether the table has rows that count towards outcomes (the BigQuery writer hands them back).
   */
  static boolean counts(WarehouseTable table) {
    return table == WarehouseTable.DEAD_LETTERS
        || table == WarehouseTable.JOB_RESULTS
        || table == WarehouseTable.AUDIT_EVENTS;
  }

  private static boolean terminalState(@Nullable String details) {
    if (details == null) {
      return false;
    }
    try {
      JsonNode state = JSON.readTree(details).path("state");
      return state.isTextual() && JobState.valueOf(state.asText()).isTerminal();
    } catch (IOException | IllegalArgumentException e) {
      return false;
    }
  }
}
