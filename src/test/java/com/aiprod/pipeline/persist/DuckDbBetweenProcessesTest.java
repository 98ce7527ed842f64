package com.aiprod.pipeline.persist;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One DuckDB file written by several processes at once, as the TaskManagers of a local Flink
 * cluster write the warehouse ({@link DuckDbConnections#acquire(String, boolean)} with {@code
 * betweenProcesses}): every transaction of every process lands, none fails on the file's lock.
 */
class DuckDbBetweenProcessesTest {
  @TempDir Path dir;

  @Test
  void threeProcessesTakeTurnsOnOneFile() throws Exception {
    Path db = dir.resolve("shared.duckdb");
    List<Process> writers = new ArrayList<>();
    for (int w = 0; w < 3; w++) {
      writers.add(
          new ProcessBuilder(
                  Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                  "-cp",
                  System.getProperty("java.class.path"),
                  Writer.class.getName(),
                  db.toString(),
                  "w" + w,
                  "40")
              .redirectErrorStream(true)
              .start());
    }
    for (Process p : writers) {
      assertThat(p.waitFor(120, TimeUnit.SECONDS), equalTo(true));
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(out, p.exitValue(), equalTo(0));
    }
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:" + db);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*), count(DISTINCT writer) FROM t")) {
      rs.next();
      assertThat(rs.getLong(1), equalTo(120L));
      assertThat(rs.getLong(2), equalTo(3L));
    }
  }

  /**
   * The durable outcome count {@code main} reads on a remote Flink cluster: distinct message ids
   * over job_results, dead_letters and cancel_job ADMIN_ACTION events, -1 before the tables exist.
   */
  @Test
  void outcomesAreCountedOncePerMessageFromTheTables() throws Exception {
    Path db = dir.resolve("outcomes.duckdb");
    assertThat(DuckDbWarehouse.countOutcomes(db.toString()), equalTo(-1L));
    DuckDbConnections.Handle h = DuckDbConnections.acquire(db.toString(), true);
    h.inTransaction(
        c -> {
          try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE scratch (x INTEGER)");
          }
          return null;
        });
    assertThat(DuckDbWarehouse.countOutcomes(db.toString()), equalTo(-1L));
    h.inTransaction(
        c -> {
          try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE job_results (message_id VARCHAR)");
            s.execute("CREATE TABLE dead_letters (message_id VARCHAR)");
            s.execute(
                "CREATE TABLE audit_events (message_id VARCHAR, event_type VARCHAR,"
                    + " action VARCHAR)");
            s.execute("INSERT INTO job_results VALUES ('m1'), ('m2'), ('m2')");
            s.execute("INSERT INTO dead_letters VALUES ('m3'), ('m1')");
            s.execute(
                "INSERT INTO audit_events VALUES ('m4', 'ADMIN_ACTION', 'cancel_job'),"
                    + " ('m5', 'AUTH_SUCCESS', 'verify'), ('m6', 'ADMIN_ACTION', 'other')");
          }
          return null;
        });
    DuckDbConnections.release(h);
    assertThat(DuckDbWarehouse.countOutcomes(db.toString()), equalTo(4L));
  }

  /** A writer process: {@code N} transactions of one row each on the shared file. */
  public static final class Writer {
    public static void main(String[] args) throws Exception {
      DuckDbConnections.Handle h = DuckDbConnections.acquire(args[0], true);
      h.inTransaction(
          c -> {
            try (Statement s = c.createStatement()) {
              s.execute("CREATE TABLE IF NOT EXISTS t (writer VARCHAR, n INTEGER)");
            }
            return null;
          });
      int n = Integer.parseInt(args[2]);
      for (int i = 0; i < n; i++) {
        int row = i;
        h.inTransaction(
            c -> {
              try (PreparedStatement ps = c.prepareStatement("INSERT INTO t VALUES (?, ?)")) {
                ps.setString(1, args[1]);
                ps.setInt(2, row);
                return ps.executeUpdate();
              }
            });
      }
      DuckDbConnections.release(h);
    }
  }
}
