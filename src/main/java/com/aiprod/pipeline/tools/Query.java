package com.aiprod.pipeline.tools;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code query}: runs one SQL statement against the local DuckDB warehouse, opened read-only, and
 * prints the result as an aligned text table with the row count.
 *
 * <pre>
 *   query --warehouse=duckdb:PATH "SELECT state, count(*) FROM job_results GROUP BY 1"
 *   query --warehouse=duckdb:PATH --file=sql/queries/tenant_cost_per_day.sql
 * </pre>
 *
 * <p>A {@code --file} is one of the SQL files of {@code sql/}, written for BigQuery and DuckDB: its
 * dataset qualifier placeholder ({@link AnalystViews#PLACEHOLDER}) is removed. The analyst views
 * ({@code sql/views}) exist in a warehouse {@code scripts/run-local} made (see {@link
 * AnalystViews}).
 *
 * <p>Timestamps are shown in UTC. Exit status: 0 on success, 1 on a SQL error, 2 on bad usage.
 */
@Command(
    name = "query",
    sortOptions = false,
    description = {
      "Runs one SQL statement (or a SQL file of sql/) on the local DuckDB warehouse, read-only,"
          + " and prints a table."
    })
public final class Query extends Tool {
  @Option(
      names = "--warehouse",
      required = true,
      paramLabel = "duckdb:PATH",
      description = "The local warehouse.")
  String warehouse;

  @Option(
      names = "--file",
      paramLabel = "FILE.sql",
      description = "A SQL file (its $${dataset}. placeholder is removed) instead of SQL.")
  Path file;

  @Parameters(arity = "0..1", paramLabel = "SQL", description = "The statement.")
  String sql;

  /** Runs {@code query} with {@code args}; returns the exit code. */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    return Cli.run("query", args, out, err);
  }

  @Override
  public Integer call() {
    if (!warehouse.startsWith("duckdb:")) {
      throw usage("query reads the local DuckDB warehouse only: --warehouse=duckdb:PATH");
    }
    String path = warehouse.substring("duckdb:".length());
    if ((file == null) == (sql == null)) {
      throw usage("give either \"SQL\" or --file=FILE.sql");
    }
    String statement = sql;
    if (file != null) {
      try {
        statement = AnalystViews.forDuckDb(Files.readString(file, StandardCharsets.UTF_8));
      } catch (IOException e) {
        throw usage("cannot read " + file + ": " + Cli.describe(e));
      }
    }
    if (statement.isBlank()) {
      throw usage("the SQL is empty");
    }
    if (!Files.isRegularFile(Path.of(path))) {
      err()
          .println(
              "query: no DuckDB warehouse file at " + path + " (scripts/run-local creates one)");
      return 1;
    }
    Properties props = new Properties();
    props.setProperty("duckdb.read_only", "true");
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:" + path, props);
        Statement s = c.createStatement()) {
      s.execute("SET TimeZone = 'UTC'");
      boolean hasResult = s.execute(statement);
      if (!hasResult) {
        out().println("(" + s.getUpdateCount() + " rows affected)");
        return 0;
      }
      try (ResultSet rs = s.getResultSet()) {
        printTable(rs, out());
      }
      return 0;
    } catch (SQLException e) {
      err().println("SQL error: " + e.getMessage());
      return 1;
    }
  }

  /** Prints a result set as a table: header, separator, rows, then the row count. */
  static void printTable(ResultSet rs, PrintStream out) throws SQLException {
    ResultSetMetaData md = rs.getMetaData();
    int n = md.getColumnCount();
    List<String[]> rows = new ArrayList<>();
    String[] header = new String[n];
    int[] width = new int[n];
    for (int i = 0; i < n; i++) {
      header[i] = md.getColumnLabel(i + 1);
      width[i] = header[i].length();
    }
    while (rs.next()) {
      String[] r = new String[n];
      for (int i = 0; i < n; i++) {
        Object v = rs.getObject(i + 1);
        r[i] = format(v, rs, i + 1);
        width[i] = Math.max(width[i], r[i].length());
      }
      rows.add(r);
    }
    out.println(line(header, width));
    StringBuilder sep = new StringBuilder();
    for (int i = 0; i < n; i++) {
      if (i > 0) {
        sep.append("-+-");
      }
      sep.append("-".repeat(width[i]));
    }
    out.println(sep);
    for (String[] r : rows) {
      out.println(line(r, width));
    }
    out.println("(" + rows.size() + (rows.size() == 1 ? " row)" : " rows)"));
  }

  private static final DateTimeFormatter UTC_TIMESTAMP =
      DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm:ss[.SSS]");

  private static String format(Object v, ResultSet rs, int column) throws SQLException {
    if (v == null) {
      return "NULL";
    }
    if (v instanceof OffsetDateTime) {
      OffsetDateTime utc = ((OffsetDateTime) v).withOffsetSameInstant(ZoneOffset.UTC);
      String text = UTC_TIMESTAMP.format(utc);
      if (utc.getNano() == 0) {
        text = text.substring(0, "uuuu-MM-dd HH:mm:ss".length());
      }
      return text + "+00";
    }
    return rs.getString(column).replace("\n", "\\n");
  }

  private static String line(String[] cells, int[] width) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < cells.length; i++) {
      if (i > 0) {
        b.append(" | ");
      }
      b.append(cells[i]);
      if (i < cells.length - 1) {
        b.append(" ".repeat(width[i] - cells[i].length()));
      }
    }
    return b.toString();
  }
}
