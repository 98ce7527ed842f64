package com.aiprod.pipeline.tools;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The analyst views and example queries of {@code sql/} on the local DuckDB warehouse.
 *
 * <p>Each {@code sql/views/NAME.sql} is one SELECT, written once for BigQuery and DuckDB, whose
 * table references carry the dataset qualifier placeholder {@value #PLACEHOLDER}: terraform
 * replaces it with {@code `PROJECT.DATASET`.}, this tool with nothing. Views are created in
 * dependency order (a view reading another view comes after it).
 *
 * <p>Exit status: 0 when every view was created, 1 on a SQL error, 2 on bad usage.
 */
@Command(
    name = "analyst-views",
    sortOptions = false,
    description = {
      "Creates (or replaces) the analyst views of sql/views in a local DuckDB warehouse."
    })
public final class AnalystViews extends Tool {
  /** The dataset qualifier placeholder of the SQL files. */
  public static final String PLACEHOLDER = "${dataset}.";

  private static final Pattern REFERENCE =
      Pattern.compile(Pattern.quote(PLACEHOLDER) + "([A-Za-z_][A-Za-z0-9_]*)");

  @Option(
      names = "--warehouse",
      required = true,
      paramLabel = "duckdb:PATH",
      description = "The local warehouse.")
  String warehouse;

  @Option(
      names = "--sql-dir",
      paramLabel = "DIR",
      defaultValue = "sql",
      description = "The directory holding views/ (default ${DEFAULT-VALUE}).")
  Path sqlDir;

  @Override
  public Integer call() {
    if (!warehouse.startsWith("duckdb:")) {
      throw usage("--warehouse must be duckdb:PATH (the local warehouse)");
    }
    if (!Files.isDirectory(sqlDir.resolve("views"))) {
      throw usage("no views directory at " + sqlDir.resolve("views"));
    }
    String path = warehouse.substring("duckdb:".length());
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:" + path)) {
      List<String> created = create(c, sqlDir);
      err().println("analyst views in " + path + ": " + String.join(", ", created));
      return 0;
    } catch (SQLException | UncheckedIOException | IllegalStateException e) {
      err().println("analyst-views: " + Cli.describe(e));
      return 1;
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
