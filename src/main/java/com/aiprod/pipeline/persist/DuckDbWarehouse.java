package com.aiprod.pipeline.persist;

import com.aiprod.pipeline.kernel.Coders;
import com.aiprod.pipeline.kernel.OutcomePart;
import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.model.DeadLetter;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import javax.annotation.Nullable;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTagList;
import org.joda.time.ReadableInstant;

/**
 * The local warehouse: one DuckDB file ({@code --warehouse=duckdb:PATH}) holding the four tables of
 * DESIGN §8, created from the same JSON schemas as BigQuery ({@link TableSchemas#duckDbDdl}).
 *
 * <p>The write DoFn buffers a bundle's rows and inserts them with one prepared {@code INSERT OR
 * IGNORE} batch in one transaction, committed in {@code @FinishBundle} (or every {@value
 * #MAX_BATCH} rows). A retried bundle re-inserts the same primary keys, which are ignored. All DoFn
 * instances of a JVM share one connection per file (DuckDB allows one writing process); the last
 * {@code @Teardown} checkpoints and closes it, so the file can be opened by another process (e.g.
 * {@code Query}) once the pipeline has finished.
 */
public final class DuckDbWarehouse implements Warehouse {
  private static final long serialVersionUID = 1L;
  static final int MAX_BATCH = 1000;

  private final String path;
  private final boolean betweenProcesses;

  /** A warehouse in the DuckDB file {@code path} (created on first use). */
  public DuckDbWarehouse(String path) {
    this(path, false);
  }

  private DuckDbWarehouse(String path, boolean betweenProcesses) {
    this.path = Path.of(path).toAbsolutePath().normalize().toString();
    this.betweenProcesses = betweenProcesses;
  }

  /**
   * The same file written by several processes on this machine (the TaskManagers of a local Flink
   * cluster): each transaction takes a file lock and opens and closes the database ({@link
   * DuckDbConnections#acquire(String, boolean)}).
   */
  public DuckDbWarehouse sharedBetweenProcesses() {
    return new DuckDbWarehouse(path, true);
  }

  /** The absolute path of the database file. */
  public String path() {
    return path;
  }

  @Override
  public String spec() {
    return "duckdb:" + path;
  }

  @Override
  public void createTables() {
    try {
      DuckDbConnections.Handle h = DuckDbConnections.acquire(path, betweenProcesses);
      try {
        createTables(h);
      } finally {
        DuckDbConnections.release(h);
      }
    } catch (SQLException e) {
      throw new IllegalStateException("Cannot create the warehouse tables in " + path, e);
    }
  }

  /**
   * Creates the tables a warehouse file lacks, and adds the columns a table made from an older
   * schema file lacks (as NULLABLE: its old rows have none).
   */
  private static void createTables(DuckDbConnections.Handle h) throws SQLException {
    h.inTransaction(
        c -> {
          try (Statement s = c.createStatement()) {
            for (WarehouseTable t : WarehouseTable.values()) {
              s.execute(TableSchemas.duckDbDdl(t));
              Set<String> present = new HashSet<>();
              try (PreparedStatement q =
                  c.prepareStatement(
                      "SELECT column_name FROM information_schema.columns"
                          + " WHERE table_schema = current_schema() AND table_name = ?")) {
                q.setString(1, t.tableName());
                try (ResultSet rs = q.executeQuery()) {
                  while (rs.next()) {
                    present.add(rs.getString(1));
                  }
                }
              }
              for (String alter : TableSchemas.duckDbAddMissingColumns(t, present)) {
                s.execute(alter);
              }
            }
          }
          return null;
        });
  }

  /**
   * Messages with their outcome in this warehouse file: distinct message ids of {@code
   * job_results}, {@code dead_letters} and ADMIN_ACTION {@code cancel_job} events (a settled
   * cancel). Durable, unlike runner metrics (which restart from zero after a failover): this is
   * what {@code main} counts for {@code --stopAfterOutcomes} on a remote Flink cluster. Read under
   * the writers' file lock, read-only; -1 while the file or its tables do not exist yet.
   */
  public static long countOutcomes(String path) throws SQLException {
    Path file = Path.of(path).toAbsolutePath().normalize();
    if (!java.nio.file.Files.isRegularFile(file)) {
      return -1;
    }
    try (java.nio.channels.FileChannel lockFile =
            java.nio.channels.FileChannel.open(
                Path.of(file + ".lock"),
                java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.WRITE);
        java.nio.channels.FileLock lock = lockFile.lock()) {
      java.util.Properties props = new java.util.Properties();
      props.setProperty("duckdb.read_only", "true");
      try (java.sql.Connection c =
              new org.duckdb.DuckDBDriver().connect("jdbc:duckdb:" + file, props);
          Statement s = c.createStatement();
          ResultSet rs =
              s.executeQuery(
                  "SELECT count(DISTINCT message_id) FROM (SELECT message_id FROM job_results"
                      + " UNION ALL SELECT message_id FROM dead_letters UNION ALL SELECT"
                      + " message_id FROM audit_events WHERE event_type = 'ADMIN_ACTION' AND"
                      + " action = 'cancel_job')")) {
        return rs.next() ? rs.getLong(1) : 0;
      } catch (SQLException e) {
        if (String.valueOf(e.getMessage()).contains("does not exist")) {
          return -1; // the tables are not created yet
        }
        throw e;
      }
    } catch (java.io.IOException e) {
      throw new SQLException("Cannot lock " + file + ".lock", e);
    }
  }

  @Override
  public PTransform<PCollection<Row>, PCollectionTuple> write(WarehouseTable table) {
    return new Write(path, betweenProcesses, table);
  }

  @Override
  public String toString() {
    return spec();
  }

  /** {@code INSERT OR IGNORE} of every column of {@code table}, one {@code ?} per column. */
  static String insertSql(WarehouseTable table) {
    List<TableSchemas.Field> fields = table.fields();
    String columns =
        fields.stream().map(f -> TableSchemas.quote(f.name())).collect(Collectors.joining(", "));
    String values =
        fields.stream().map(DuckDbWarehouse::placeholder).collect(Collectors.joining(", "));
    return "INSERT OR IGNORE INTO "
        + TableSchemas.quote(table.tableName())
        + " ("
        + columns
        + ") VALUES ("
        + values
        + ")";
  }

  private static String placeholder(TableSchemas.Field f) {
    if (f.repeated() || f.isRecord()) {
      // Nested values are bound as JSON text and cast to the column's STRUCT / list type.
      return "CAST(CAST(? AS JSON) AS " + TableSchemas.duckDbType(f) + ")";
    }
    if ("JSON".equals(f.type())) {
      return "CAST(? AS JSON)";
    }
    return "?";
  }

  /**
   * The insert ParDo; it outputs the outcome parts of the committed rows and no dead letters (a
   * failed insert fails the bundle).
   */
  private static final class Write extends PTransform<PCollection<Row>, PCollectionTuple> {
    private final String path;
    private final boolean betweenProcesses;
    private final WarehouseTable table;

    Write(String path, boolean betweenProcesses, WarehouseTable table) {
      super("WriteDuckDb_" + table.tableName());
      this.path = path;
      this.betweenProcesses = betweenProcesses;
      this.table = table;
    }

    @Override
    public PCollectionTuple expand(PCollection<Row> rows) {
      PCollectionTuple out =
          rows.apply(
              "Insert " + table.tableName(),
              ParDo.of(new WriteFn(path, betweenProcesses, table))
                  .withOutputTags(StageTags.OUTCOMES, TupleTagList.of(StageTags.DEAD_LETTERS)));
      out.get(StageTags.DEAD_LETTERS).setCoder(Coders.schema(DeadLetter.class));
      out.get(StageTags.OUTCOMES).setCoder(Coders.schema(OutcomePart.class));
      return out;
    }
  }

  /**
   * Buffers a bundle's rows and inserts them in one transaction; the outcome parts of the committed
   * rows go out when the bundle finishes.
   */
  static final class WriteFn extends DoFn<Row, OutcomePart> {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final String path;
    private final boolean betweenProcesses;
    private final WarehouseTable table;
    private final Counter inserted;
    private final Counter ignored;
    private transient DuckDbConnections.Handle handle;
    private transient List<Row> buffer;
    private transient List<OutcomePart> committed;
    private transient @Nullable BoundedWindow window;

    WriteFn(String path, boolean betweenProcesses, WarehouseTable table) {
      this.path = path;
      this.betweenProcesses = betweenProcesses;
      this.table = table;
      this.inserted = Metrics.counter("aiprod", "warehouse_rows_inserted_" + table.tableName());
      this.ignored = Metrics.counter("aiprod", "warehouse_rows_duplicate_" + table.tableName());
    }

    @Setup
    public void setup() throws SQLException {
      handle = DuckDbConnections.acquire(path, betweenProcesses);
      createTables(handle);
    }

    @StartBundle
    public void startBundle() {
      buffer = new ArrayList<>();
      committed = new ArrayList<>();
      window = null;
    }

    /** Rows come in the global window (every sink's input is re-windowed into it). */
    @ProcessElement
    public void process(@Element Row row, BoundedWindow w) throws SQLException {
      window = w;
      buffer.add(row);
      if (buffer.size() >= MAX_BATCH) {
        flush();
      }
    }

    @FinishBundle
    public void finishBundle(FinishBundleContext c) throws SQLException {
      flush();
      for (OutcomePart part : committed) {
        c.output(part, window.maxTimestamp(), window);
      }
      committed.clear();
    }

    @Teardown
    public void teardown() {
      if (handle != null) {
        DuckDbConnections.release(handle);
        handle = null;
      }
    }

    private void flush() throws SQLException {
      if (buffer.isEmpty()) {
        return;
      }
      List<Row> rows = buffer;
      buffer = new ArrayList<>();
      int written =
          handle.inTransaction(
              c -> {
                int n = 0;
                try (PreparedStatement ps = c.prepareStatement(insertSql(table))) {
                  for (Row row : rows) {
                    bind(ps, row);
                    n += ps.executeUpdate();
                  }
                }
                return n;
              });
      inserted.inc(written);
      ignored.inc(rows.size() - written);
      for (Row row : rows) {
        OutcomeParts.ofRow(table, row).ifPresent(committed::add);
      }
    }

    private void bind(PreparedStatement ps, Row row) throws SQLException {
      List<TableSchemas.Field> fields = table.fields();
      for (int i = 0; i < fields.size(); i++) {
        TableSchemas.Field f = fields.get(i);
        Object v = row.getValue(f.name());
        int p = i + 1;
        if (v == null) {
          ps.setNull(p, Types.NULL);
        } else if (f.repeated() || f.isRecord()) {
          ps.setString(p, toJson(v));
        } else if (v instanceof ReadableInstant) {
          ps.setObject(
              p,
              OffsetDateTime.ofInstant(
                  java.time.Instant.ofEpochMilli(((ReadableInstant) v).getMillis()),
                  ZoneOffset.UTC));
        } else if (v instanceof byte[]) {
          ps.setBytes(p, (byte[]) v);
        } else {
          ps.setObject(p, v);
        }
      }
    }

    private static String toJson(Object value) throws SQLException {
      try {
        return JSON.writeValueAsString(plain(value));
      } catch (JsonProcessingException e) {
        throw new SQLException("Cannot encode a nested value as JSON", e);
      }
    }

    private static Object plain(Object v) {
      if (v instanceof Row) {
        Row r = (Row) v;
        Map<String, Object> m = new LinkedHashMap<>();
        for (Schema.Field f : r.getSchema().getFields()) {
          Object child = r.getValue(f.getName());
          m.put(f.getName(), child == null ? null : plain(child));
        }
        return m;
      }
      if (v instanceof Collection) {
        List<Object> l = new ArrayList<>();
        for (Object o : (Collection<?>) v) {
          l.add(o == null ? null : plain(o));
        }
        return l;
      }
      if (v instanceof ReadableInstant) {
        return java.time.Instant.ofEpochMilli(((ReadableInstant) v).getMillis()).toString();
      }
      if (v instanceof byte[]) {
        return Base64.getEncoder().encodeToString((byte[]) v);
      }
      return v;
    }
  }
}
