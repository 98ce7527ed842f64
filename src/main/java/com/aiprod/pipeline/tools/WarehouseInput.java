package com.aiprod.pipeline.tools;

import com.aiprod.pipeline.persist.BigQueryWarehouse;
import com.aiprod.pipeline.persist.Warehouse;
import java.nio.file.Path;
import javax.annotation.Nullable;
import picocli.CommandLine.Option;

/**
 * Where verify-audit and replay-dead-letters read rows: a warehouse ({@code duckdb:PATH} or {@code
 * bigquery:PROJECT.DATASET}) or a newline-delimited JSON export; exactly one (a picocli group).
 */
final class WarehouseInput {
  @Option(
      names = "--warehouse",
      required = true,
      paramLabel = "duckdb:PATH|bigquery:PROJECT.DATASET",
      description = "The warehouse to read.")
  String warehouse;

  @Option(
      names = "--file",
      required = true,
      paramLabel = "EXPORT.jsonl",
      description =
          "A BigQuery export instead (bq extract --destination_format=NEWLINE_DELIMITED_JSON).")
  Path file;

  /**
   * Checks the warehouse form.
   *
   * @throws IllegalArgumentException saying what is expected
   */
  void check() {
    if (warehouse == null) {
      return;
    }
    if (warehouse.startsWith("duckdb:") && warehouse.length() > "duckdb:".length()) {
      return;
    }
    if (!warehouse.startsWith("bigquery:")) {
      throw new IllegalArgumentException(
          "--warehouse must be duckdb:PATH or bigquery:PROJECT.DATASET, got " + warehouse);
    }
    bigQuery();
  }

  /** The DuckDB file, or null when not a DuckDB warehouse. */
  @Nullable
  Path duckDb() {
    return warehouse != null && warehouse.startsWith("duckdb:")
        ? Path.of(warehouse.substring("duckdb:".length()))
        : null;
  }

  /** The BigQuery warehouse (throws IllegalArgumentException on a bad spec). */
  BigQueryWarehouse bigQuery() {
    return (BigQueryWarehouse) Warehouse.fromSpec(warehouse);
  }
}
