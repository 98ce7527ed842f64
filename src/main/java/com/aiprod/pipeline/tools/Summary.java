package com.aiprod.pipeline.tools;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Prints the summary of a local run from the DuckDB warehouse — per job: tenant, job_id, state,
 * reason, shots, backend, cost, QA scores, output; audit events by type; dead letters by reason —
 * and checks that every non-blank input line reached exactly one terminal outcome (a {@code
 * job_results} row or a {@code dead_letters} row). Exit status 0 only if so.
 */
@Command(
    name = "summary",
    sortOptions = false,
    description = {
      "Prints the summary of a local run from the DuckDB warehouse and checks that every input"
          + " reached exactly one terminal outcome (exit 0 only then)."
    })
public final class Summary extends Tool {
  @Option(
      names = "--warehouse",
      required = true,
      paramLabel = "duckdb:PATH",
      description = "The local warehouse.")
  String warehouse;

  @ArgGroup(multiplicity = "1")
  Expected expected;

  /** What the run's inputs were. */
  static final class Expected {
    @Option(
        names = "--input-files",
        split = ",",
        paramLabel = "FILE",
        description = "The batch input files (every non-blank line needs one outcome).")
    List<String> inputFiles;

    @Option(
        names = "--expected-messages",
        paramLabel = "N",
        description = "A streaming run: the number of published messages.")
    Long expectedMessages;
  }

  @Override
  public Integer call() throws Exception {
    if (!warehouse.startsWith("duckdb:")) {
      throw usage("--warehouse must be duckdb:PATH (the local warehouse)");
    }
    String path = warehouse.substring("duckdb:".length());
    if (!Files.isRegularFile(Path.of(path))) {
      throw usage("no DuckDB warehouse file at " + path);
    }
    return expected.inputFiles != null
        ? run(path, expected.inputFiles, out())
        : run(path, expected.expectedMessages, out());
  }

  /** Prints the summary to {@code out}; returns 0 when every input line has exactly one outcome. */
  public static int run(String duckdbPath, List<String> inputFiles, java.io.PrintStream out)
      throws SQLException, IOException {
    return run(duckdbPath, inputFiles, -1, out);
  }

  /**
   * The same for a streaming run, whose message ids are Pub/Sub's: returns 0 when exactly {@code
   * expectedMessages} distinct messages have an outcome and none has two.
   */
  public static int run(String duckdbPath, long expectedMessages, java.io.PrintStream out)
      throws SQLException, IOException {
    return run(duckdbPath, List.of(), expectedMessages, out);
  }

  private static int run(
      String duckdbPath, List<String> inputFiles, long expectedMessages, java.io.PrintStream out)
      throws SQLException, IOException {
    Properties props = new Properties();
    props.setProperty("duckdb.read_only", "true");
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:" + duckdbPath, props);
        Statement st = c.createStatement()) {
      out.println();
      out.println("== Jobs (job_results) ==");
      table(
          out,
          st,
          "SELECT tenant, job_id, state, coalesce(reason_code, '') AS reason, shots_done || '/' || shots_total AS shots,"
              + " coalesce(backend, '') AS backend, printf('%.2f', cost_usd) AS cost_usd,"
              + " printf('%.2f', estimate_usd) AS estimate_usd,"
              + " coalesce(printf('%.2f', technical_score), '') AS qa_technical,"
              + " coalesce(printf('%.2f', semantic_score), '') AS qa_semantic,"
              + " coalesce(output_uri, '') AS output"
              + " FROM job_results ORDER BY tenant, job_id");
      out.println();
      out.println("== Jobs by state ==");
      table(
          out,
          st,
          "SELECT state, coalesce(reason_code, '') AS reason, count(*) AS jobs FROM job_results GROUP BY ALL ORDER BY ALL");
      out.println();
      out.println("== Audit events by type ==");
      table(
          out,
          st,
          "SELECT event_type, status, count(*) AS events FROM audit_events GROUP BY ALL ORDER BY ALL");
      out.println();
      out.println("== Dead letters by reason ==");
      table(
          out,
          st,
          "SELECT reason_code, stage, count(*) AS dead_letters FROM dead_letters GROUP BY ALL ORDER BY ALL");

      Map<String, Integer> outcomes = new HashMap<>();
      count(st, "SELECT message_id FROM job_results", outcomes);
      count(st, "SELECT message_id FROM dead_letters", outcomes);
      // A cancel request's outcome is the cancelled (or already ended) job: its ADMIN_ACTION.
      count(
          st,
          "SELECT DISTINCT message_id FROM audit_events WHERE event_type = 'ADMIN_ACTION'"
              + " AND action = 'cancel_job'",
          outcomes);
      if (expectedMessages >= 0) {
        long several = outcomes.values().stream().filter(n -> n > 1).count();
        out.println();
        out.printf(
            "messages expected: %d, with an outcome: %d, with several: %d%n",
            expectedMessages, outcomes.size(), several);
        outcomes.forEach(
            (id, n) -> {
              if (n > 1) {
                out.println("  several outcomes: " + id);
              }
            });
        return outcomes.size() == expectedMessages && several == 0 ? 0 : 1;
      }
      Set<String> expected = new LinkedHashSet<>();
      for (String f : inputFiles) {
        Path p = Paths.get(f.trim()).toAbsolutePath().normalize();
        List<String> lines = Files.readAllLines(p, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
          if (!lines.get(i).isBlank()) {
            expected.add(p + ":" + (i + 1));
          }
        }
      }
      List<String> missing = new ArrayList<>();
      List<String> doubled = new ArrayList<>();
      for (String id : expected) {
        int n = outcomes.getOrDefault(id, 0);
        if (n == 0) {
          missing.add(id);
        } else if (n > 1) {
          doubled.add(id);
        }
      }
      out.println();
      out.printf(
          "inputs: %d, with exactly one terminal outcome: %d, without: %d, with several: %d%n",
          expected.size(),
          expected.size() - missing.size() - doubled.size(),
          missing.size(),
          doubled.size());
      missing.forEach(id -> out.println("  no outcome: " + id));
      doubled.forEach(id -> out.println("  several outcomes: " + id));
      return missing.isEmpty() && doubled.isEmpty() ? 0 : 1;
    }
  }

  private static void count(Statement st, String sql, Map<String, Integer> into)
      throws SQLException {
    try (ResultSet rs = st.executeQuery(sql)) {
      while (rs.next()) {
        into.merge(rs.getString(1), 1, Integer::sum);
      }
    }
  }

  /** Prints a query result as an aligned text table (the same format as {@code Query}). */
  public static void table(java.io.PrintStream out, Statement st, String sql) throws SQLException {
    try (ResultSet rs = st.executeQuery(sql)) {
      Query.printTable(rs, out);
    }
  }
}
