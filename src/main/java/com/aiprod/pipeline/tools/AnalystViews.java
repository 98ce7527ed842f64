package com.aiprod.pipeline.tools;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The analyst views and example queries of {@code sql/} on the local DuckDB warehouse.
 *
 * <p>Each {@code sql/views/NAME.sql} is one SELECT, written once for BigQuery and DuckDB, whose
 * table references carry the dataset qualifier placeholder {@value #PLACEHOLDER}: terraform
 * replaces it with {@code `PROJECT.DATASET`.}, this tool with nothing. Views are created in
 * dependency order (a view reading another view comes after it).
 *
 * <pre>
 *   AnalystViews --warehouse=duckdb:PATH [--sqlDir=sql]
 * </pre>
 *
 * <p>Exit status: 0 when every view was created, 1 on a SQL error, 2 on bad usage.
 */
public final class AnalystViews {
  /** The dataset qualifier placeholder of the SQL files. */
  public static final String PLACEHOLDER = "${dataset}.";

  private static final Pattern REFERENCE =
      Pattern.compile(Pattern.quote(PLACEHOLDER) + "([A-Za-z_][A-Za-z0-9_]*)");

  private AnalystViews() {}

  public static void main(String[] args) {
    Map<String, String> a = Args.parse(args);
    String warehouse = a.get("warehouse");
    if (warehouse == null || !warehouse.startsWith("duckdb:")) {
      System.err.println("usage: AnalystViews --warehouse=duckdb:PATH [--sqlDir=sql]");
      System.exit(2);
    }
    Path sqlDir = Paths.get(a.getOrDefault("sqlDir", "sql"));
    try (Connection c =
        DriverManager.getConnection("jdbc:duckdb:" + warehouse.substring("duckdb:".length()))) {
      List<String> created = create(c, sqlDir);
      System.err.println(
          "analyst views in "
              + warehouse.substring("duckdb:".length())
              + ": "
              + String.join(", ", created));
    } catch (SQLException | UncheckedIOException | IllegalStateException e) {
      System.err.println("AnalystViews: " + e.getMessage());
      System.exit(1);
    }
  }

  /** The SQL of a file for DuckDB: the dataset qualifier removed. */
  public static String forDuckDb(String sql) {
    return sql.replace(PLACEHOLDER, "");
  }

  /** The SQL of a file for BigQuery, as terraform writes it: {@code `project.dataset`.table}. */
  public static String forBigQuery(String sql, String project, String dataset) {
    return sql.replace(PLACEHOLDER, "`" + project + "." + dataset + "`.");
  }

  /** Names referenced through the placeholder (tables and views). */
  public static List<String> references(String sql) {
    List<String> names = new ArrayList<>();
    Matcher m = REFERENCE.matcher(sql);
    while (m.find()) {
      names.add(m.group(1));
    }
    return names;
  }

  /** The {@code *.sql} files of a directory by name (file name without .sql), sorted. */
  public static Map<String, String> read(Path dir) {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".sql")).toList()) {
        String name = f.getFileName().toString();
        out.put(
            name.substring(0, name.length() - ".sql".length()),
            Files.readString(f, StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot read the SQL files of " + dir + ": " + e.getMessage(), e);
    }
    return out;
  }

  /** The views of {@code sqlDir/views} in creation order (each after the views it reads). */
  public static Map<String, String> viewsInOrder(Path sqlDir) {
    Map<String, String> views = read(sqlDir.resolve("views"));
    Map<String, String> ordered = new LinkedHashMap<>();
    while (ordered.size() < views.size()) {
      int before = ordered.size();
      views.forEach(
          (name, sql) -> {
            if (!ordered.containsKey(name)
                && references(sql).stream()
                    .noneMatch(r -> views.containsKey(r) && !ordered.containsKey(r))) {
              ordered.put(name, sql);
            }
          });
      if (ordered.size() == before) {
        throw new IllegalStateException("views reading each other in a cycle: " + views.keySet());
      }
    }
    return ordered;
  }

  /** Creates (or replaces) every view of {@code sqlDir/views}; returns their names in order. */
  public static List<String> create(Connection c, Path sqlDir) throws SQLException {
    List<String> created = new ArrayList<>();
    try (Statement s = c.createStatement()) {
      for (Map.Entry<String, String> v : viewsInOrder(sqlDir).entrySet()) {
        try {
          s.execute("CREATE OR REPLACE VIEW " + v.getKey() + " AS\n" + forDuckDb(v.getValue()));
        } catch (SQLException e) {
          throw new SQLException("view " + v.getKey() + ": " + e.getMessage(), e);
        }
        created.add(v.getKey());
      }
    }
    return created;
  }
}
