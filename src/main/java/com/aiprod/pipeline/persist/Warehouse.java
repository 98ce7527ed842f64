package com.aiprod.pipeline.persist;

import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.model.DeadLetter;
import java.io.Serializable;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;

/**
 * The analytics warehouse of DESIGN §8: the four tables of {@link WarehouseTable}, written from
 * {@link Row}s built by {@link WarehouseRows}.
 *
 * <p>One interface for every backend, chosen with {@code --warehouse}: {@code duckdb:PATH} ({@link
 * DuckDbWarehouse}, local runs and tests) or {@code bigquery:PROJECT.DATASET} ({@link
 * BigQueryWarehouse}, BigQueryIO's Storage Write API). Both create the tables from the same JSON
 * schemas ({@link TableSchemas}); the rest of the pipeline does not know which one it writes to.
 *
 * <p>{@link #write} returns the rows the warehouse refused, as {@link DeadLetter}s ({@link
 * StageTags#DEAD_LETTERS}, reason {@code INTERNAL_ERROR}, stage {@code Deliver}) for the caller to
 * send to {@code dead_letters}, and the outcome parts its committed rows are ({@link
 * StageTags#OUTCOMES}, see {@link OutcomeParts}): a refused row is never dropped and never fails
 * the job. The write of {@link WarehouseTable#DEAD_LETTERS} itself always returns an empty
 * collection (a refused dead letter is logged and counted, never fed back, so there is no loop).
 * DuckDB refuses nothing (its output is always empty): its writes are idempotent per primary key
 * ({@link WarehouseTable#primaryKey()}), and a row it cannot insert fails the bundle, which the
 * runner retries. BigQuery has no primary keys: see {@link BigQueryWarehouse} for how duplicates
 * are handled.
 */
public interface Warehouse extends Serializable {
  /**
   * The warehouse named by a {@code --warehouse} value: {@code duckdb:PATH} or {@code
   * bigquery:PROJECT.DATASET}; anything else is refused with an {@link IllegalArgumentException}.
   */
  static Warehouse fromSpec(String spec) {
    if (spec == null || spec.isBlank()) {
      throw new IllegalArgumentException(
          "--warehouse is required: duckdb:PATH or bigquery:PROJECT.DATASET");
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
      return BigQueryWarehouse.parse(s.substring("bigquery:".length()));
    }
    throw new IllegalArgumentException(
        "--warehouse=" + spec + ": expected duckdb:PATH or bigquery:PROJECT.DATASET");
  }

  /** The {@code --warehouse} value naming this warehouse. */
  String spec();

  /** Creates every table that does not exist yet (idempotent; writers also do it on setup). */
  void createTables();

  /**
   * Writes rows of {@link WarehouseTable#beamSchema()} to {@code table}; outputs a {@link
   * DeadLetter} per row the warehouse refused on {@link StageTags#DEAD_LETTERS} (always none for
   * {@link WarehouseTable#DEAD_LETTERS}) and the outcome part of each committed row that is one on
   * {@link StageTags#OUTCOMES}.
   */
  PTransform<PCollection<Row>, PCollectionTuple> write(WarehouseTable table);
}
