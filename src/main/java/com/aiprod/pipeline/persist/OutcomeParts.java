package com.aiprod.pipeline.persist;

import com.aiprod.pipeline.ingest.PendingAcks;
import com.aiprod.pipeline.model.JobState;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.firestore.v1.Document;
import java.io.IOException;
import javax.annotation.Nullable;

/**
 * What makes up a message's outcome ({@link PendingAcks}), told by the writers once something is
 * committed: a {@code dead_letters} row is the whole outcome; a terminal job's outcome is its
 * document ({@link #documentCommitted}, from {@link WriteJobDocumentsInOrder} and {@link
 * Deliver.EndedJobRows}), its {@code job_results} row and the {@code audit_events} row of its
 * terminal document write ({@code write_job_document} with a terminal {@code state} in its
 * details).
 */
public final class OutcomeParts {
  static final String WRITE_JOB_DOCUMENT = "write_job_document";
  private static final ObjectMapper JSON = new ObjectMapper();

  private OutcomeParts() {}

  /**
   * A row of {@code table} is committed for message {@code messageId}; {@code action} and {@code
   * details} matter for audit rows only.
   */
  public static void committed(
      WarehouseTable table,
      @Nullable String messageId,
      @Nullable String action,
      @Nullable String details) {
    if (messageId == null) {
      return;
    }
    switch (table) {
      case DEAD_LETTERS -> PendingAcks.settle(messageId);
      case JOB_RESULTS ->
          PendingAcks.settlePart(messageId, PendingAcks.JOB_RESULTS_ROW, PendingAcks.JOB_PARTS);
      case AUDIT_EVENTS -> {
        if (WRITE_JOB_DOCUMENT.equals(action) && terminalState(details)) {
          PendingAcks.settlePart(messageId, PendingAcks.JOB_AUDIT_ROW, PendingAcks.JOB_PARTS);
        }
      }
      default -> {}
    }
  }

  /**
   * A job document is committed (or was found already so): when terminal, it is its job's document
   * part, and a CANCELLED one settles the cancel it names ({@code cancel_message_id}).
   */
  public static void documentCommitted(@Nullable Document doc) {
    if (doc == null
        || !doc.getFieldsMap().containsKey(JobDocuments.STATE)
        || !JobDocuments.state(doc).isTerminal()) {
      return;
    }
    String messageId = JobDocuments.string(doc, JobDocuments.MESSAGE_ID);
    if (messageId != null) {
      PendingAcks.settlePart(messageId, PendingAcks.JOB_DOCUMENT, PendingAcks.JOB_PARTS);
    }
    String cancel = JobDocuments.string(doc, JobDocuments.CANCEL_MESSAGE_ID);
    if (cancel != null) {
      PendingAcks.settle(cancel); // the cancel's outcome: its job's CANCELLED document
    }
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
