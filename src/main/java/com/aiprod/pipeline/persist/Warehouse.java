package com.aiprod.pipeline.persist;

import java.io.Serializable;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PDone;
import org.apache.beam.sdk.values.Row;

/**
 * The analytics warehouse of DESIGN §8: the four tables of {@link WarehouseTable}, written from
 * {@link Row}s built by {@link WarehouseRows}.
 *
 * <p>One interface for every backend, chosen with {@code --warehouse}: {@code duckdb:PATH} ({@link
 * DuckDbWarehouse}, local runs and tests) now, {@code bigquery:PROJECT.DATASET} later (a
 * BigQueryIO-based implementation fits the same two methods: table creation from the same JSON
 * schemas, and a write transform per table).
 *
 * <p>Writes are idempotent per table primary key ({@link WarehouseTable#primaryKey()}): retried
 * bundles and redelivered messages do not duplicate rows. {@link #write} returns {@link PDone}: a
 * row that the warehouse refuses for any other reason than a duplicate key (which would be a
 * programming error, since rows are built by {@link WarehouseRows} against the same schema) fails
 * the bundle, which the runner retries.
 */
public interface Warehouse extends Serializable {
  /**
   * The warehouse named by a {@code --warehouse} value. Only {@code duckdb:PATH} is available in
   * this build; {@code bigquery:PROJECT.DATASET} and anything else are refused with an {@link
   * IllegalArgumentException} saying so.
   */
  static Warehouse fromSpec(String spec) {
    if (spec == null || spec.isBlank()) {
      throw new IllegalArgumentException(
          "--warehouse is required: duckdb:PATH (or bigquery:PROJECT.DATASET once available)");
    }
    String s = spec.trim();
    if (s.startsWith("duckdb:")) {
      String path = s.substring("duckdb:".length());
      if (path.isBlank()) {
        throw new IllegalArgumentException("--warehouse=duckdb:PATH needs a file path: " + spec);
      }
      return new DuckDbWarehouse(path);
    }
    if (s.startsWith("bigquery:")) {
      throw new IllegalArgumentException(
          "--warehouse="
              + spec
              + ": the BigQuery warehouse is not available in this build yet; use duckdb:PATH");
    }
    throw new IllegalArgumentException(
        "--warehouse=" + spec + ": expected duckdb:PATH or bigquery:PROJECT.DATASET");
  }

  /** The {@code --warehouse} value naming this warehouse. */
  String spec();

  /** Creates every table that does not exist yet (idempotent; writers also do it on setup). */
  void createTables();

  /**
   * Writes rows of {@link WarehouseTable#beamSchema()} to {@code table}, ignoring rows whose
   * primary key is already there.
   */
  PTransform<PCollection<Row>, PDone> write(WarehouseTable table);
}
