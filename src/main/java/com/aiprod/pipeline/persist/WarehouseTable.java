package com.aiprod.pipeline.persist;

import java.util.List;
import org.apache.beam.sdk.schemas.Schema;

/**
 * The warehouse tables of DESIGN §8, with their primary keys.
 *
 * <p>The primary key makes writes idempotent: a retried bundle or a redelivered message inserts the
 * same key again, which the warehouse ignores ({@code INSERT OR IGNORE} in DuckDB).
 *
 * <ul>
 *   <li>{@code job_results}: (tenant, job_id), one row per terminal job;
 *   <li>{@code shot_renders}: (tenant, job_id, shot_index, attempt), one row per attempt;
 *   <li>{@code audit_events}: (event_id), deterministic per event (DESIGN §9);
 *   <li>{@code dead_letters}: (message_id, stage, reason_code): a message is dead-lettered at most
 *       once per stage and reason, whatever its (wall-clock) timestamp.
 * </ul>
 */
public enum WarehouseTable {
  JOB_RESULTS("job_results", List.of("tenant", "job_id"), "finished_at"),
  SHOT_RENDERS("shot_renders", List.of("tenant", "job_id", "shot_index", "attempt"), "finished_at"),
  AUDIT_EVENTS("audit_events", List.of("event_id"), "event_time"),
  DEAD_LETTERS("dead_letters", List.of("message_id", "stage", "reason_code"), "timestamp");

  private final String tableName;
  private final List<String> primaryKey;
  private final String partitionColumn;

  WarehouseTable(String tableName, List<String> primaryKey, String partitionColumn) {
    this.tableName = tableName;
    this.primaryKey = primaryKey;
    this.partitionColumn = partitionColumn;
  }

  /**
   * The TIMESTAMP column BigQuery partitions the table by (one partition per day, as terraform
   * creates it); the dedup views window over it too, so a filter on it prunes partitions.
   */
  public String partitionColumn() {
    return partitionColumn;
  }

  /** The table name, as in BigQuery, DuckDB and the schema file name. */
  public String tableName() {
    return tableName;
  }

  /** Columns whose combination identifies a row; a second row with the same key is ignored. */
  public List<String> primaryKey() {
    return primaryKey;
  }

  /** The fields of {@code schemas/<tableName>.json}. */
  public List<TableSchemas.Field> fields() {
    return TableSchemas.fields(this);
  }

  /** The Beam schema of this table's rows (see {@link TableSchemas#beamSchema(List)}). */
  public Schema beamSchema() {
    return TableSchemas.beamSchema(this);
  }

  /** The table whose name is {@code name}. */
  public static WarehouseTable ofName(String name) {
    for (WarehouseTable t : values()) {
      if (t.tableName.equals(name)) {
        return t;
      }
    }
    throw new IllegalArgumentException("Unknown warehouse table: " + name);
  }
}
