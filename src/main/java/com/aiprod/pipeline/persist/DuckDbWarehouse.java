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
import org.duckdb.DuckDBAppender;
import org.duckdb.DuckDBConnection;
import org.joda.time.ReadableInstant;

/**
 * The local warehouse: one DuckDB file ({@code --warehouse=duckdb:PATH}) holding the four tables of
 * DESIGN §8, created from the same JSON schemas as BigQuery ({@link TableSchemas#duckDbDdl}).
 *
 * <p>The write DoFn buffers a bundle's rows and, in one transaction committed in
 * {@code @FinishBundle} (or every {@value #MAX_BATCH} rows), appends them to a temporary staging
 * table with DuckDB's appender and moves them with one {@code INSERT OR IGNORE ... SELECT}. A
 * retried bundle re-inserts the same primary keys, which are ignored. All DoFn instances of a JVM
 * share one connection per file (DuckDB allows one writing process); the last {@code @Teardown}
 * checkpoints and closes it, so the file can be opened by another process (e.g. {@code Query}) once
 * the pipeline has finished.
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

  /** The connection's temporary table that a flush appends {@code table}'s rows to. */
  static String stagingTable(WarehouseTable table) {
    return "aiprod_staging_" + table.tableName();
  }

  /**
   * The staging table: every column of {@code table} without constraints; nested and JSON columns
   * as their JSON text (cast when inserted).
   */
  static String stagingDdl(WarehouseTable table) {
    return table.fields().stream()
        .map(f -> TableSchemas.quote(f.name()) + " " + stagingType(f))
        .collect(
            Collectors.joining(
                ", ",
                "CREATE TEMP TABLE IF NOT EXISTS " + TableSchemas.quote(stagingTable(table)) + " (",
                ")"));
  }

  /** {@code INSERT OR IGNORE} of the staged rows into {@code table}, in the order appended. */
  static String insertFromStagingSql(WarehouseTable table) {
    List<TableSchemas.Field> fields = table.fields();
    String columns =
        fields.stream().map(f -> TableSchemas.quote(f.name())).collect(Collectors.joining(", "));
    String values =
        fields.stream().map(DuckDbWarehouse::fromStaging).collect(Collectors.joining(", "));
    return "INSERT OR IGNORE INTO "
        + TableSchemas.quote(table.tableName())
        + " ("
        + columns
        + ") SELECT "
        + values
        + " FROM temp.main."
        + TableSchemas.quote(stagingTable(table))
        + " ORDER BY rowid";
  }

  private static boolean asJsonText(TableSchemas.Field f) {
    return f.repeated() || f.isRecord() || "JSON".equals(f.type());
  }

  private static String stagingType(TableSchemas.Field f) {
    return asJsonText(f) ? "VARCHAR" : TableSchemas.duckDbType(f);
  }

  private static String fromStaging(TableSchemas.Field f) {
    String column = TableSchemas.quote(f.name());
    if (f.repeated() || f.isRecord()) {
      return "CAST(CAST(" + column + " AS JSON) AS " + TableSchemas.duckDbType(f) + ")";
    }
    if ("JSON".equals(f.type())) {
      return "CAST(" + column + " AS JSON)";
    }
    return column;
  }

  /**
   * The first row of each primary key among {@code rows}, in their order (a retried or replayed row
   * repeats its key; the table keeps the row it has, and a bundle keeps its first).
   */
  static List<Row> firstPerKey(WarehouseTable table, List<Row> rows) {
    List<String> key = table.primaryKey();
    Set<List<Object>> seen = new HashSet<>();
    List<Row> out = new ArrayList<>(rows.size());
    for (Row row : rows) {
      List<Object> k = new ArrayList<>(key.size());
      for (String column : key) {
        Object v = row.getValue(column);
        k.add(v instanceof byte[] ? Base64.getEncoder().encodeToString((byte[]) v) : v);
      }
      if (seen.add(k)) {
        out.add(row);
      }
    }
    return out;
  }

  /**
   * Appends {@code rows} (distinct keys) to the staging table with DuckDB's appender, then inserts
   * them into {@code table} with one {@code INSERT OR IGNORE ... SELECT}: a key the table has is
   * ignored. Runs inside the caller's transaction; returns the number of rows inserted.
   */
  static int appendAndInsert(java.sql.Connection c, WarehouseTable table, List<Row> rows)
      throws SQLException {
    if (rows.isEmpty()) {
      return 0;
    }
    String staging = TableSchemas.quote(stagingTable(table));
    try (Statement s = c.createStatement()) {
      s.execute(stagingDdl(table));
      s.execute("DELETE FROM temp.main." + staging);
    }
    List<TableSchemas.Field> fields = table.fields();
    try (DuckDBAppender a =
        c.unwrap(DuckDBConnection.class).createAppender("temp", "main", stagingTable(table))) {
      for (Row row : rows) {
        a.beginRow();
        for (TableSchemas.Field f : fields) {
          append(a, f, row.getValue(f.name()));
        }
        a.endRow();
      }
    }
    try (Statement s = c.createStatement()) {
      int n = s.executeUpdate(insertFromStagingSql(table));
      s.execute("DELETE FROM temp.main." + staging);
      return n;
    }
  }

  private static void append(DuckDBAppender a, TableSchemas.Field f, @Nullable Object v)
      throws SQLException {
    if (v == null) {
      a.appendNull();
    } else if (asJsonText(f)) {
      a.append(v instanceof String && "JSON".equals(f.type()) ? (String) v : WriteFn.toJson(v));
    } else if (v instanceof ReadableInstant) {
      a.appendEpochMicros(((ReadableInstant) v).getMillis() * 1000L);
    } else if (v instanceof byte[]) {
      a.append((byte[]) v);
    } else if (v instanceof String) {
      a.append((String) v);
    } else if (v instanceof Boolean) {
      a.append(((Boolean) v).booleanValue());
    } else if (v instanceof Double || v instanceof Float || v instanceof java.math.BigDecimal) {
      a.append(((Number) v).doubleValue());
    } else if (v instanceof Number) {
      a.append(((Number) v).longValue());
    } else {
      a.append(String.valueOf(v));
    }
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
      List<Row> distinct = firstPerKey(table, rows);
      int written = handle.inTransaction(c -> appendAndInsert(c, table, distinct));
      inserted.inc(written);
      ignored.inc(rows.size() - written);
      for (Row row : rows) {
        OutcomeParts.ofRow(table, row).ifPresent(committed::add);
      }
    }

    static String toJson(Object value) throws SQLException {
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
