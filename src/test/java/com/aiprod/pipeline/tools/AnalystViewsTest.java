package com.aiprod.pipeline.tools;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Creating the views of a sql/ directory in DuckDB: placeholder, dependency order, errors. */
class AnalystViewsTest {
  @TempDir Path dir;

  private void view(String name, String sql) throws Exception {
    Files.createDirectories(dir.resolve("views"));
    Files.writeString(dir.resolve("views/" + name + ".sql"), sql);
  }

  @Test
  void placeholderBecomesNothingInDuckDbAndProjectDatasetInBigQuery() {
    String sql = "SELECT * FROM ${dataset}.a JOIN ${dataset}.b_dedup USING (id)";
    assertThat(AnalystViews.forDuckDb(sql), equalTo("SELECT * FROM a JOIN b_dedup USING (id)"));
    assertThat(
        AnalystViews.forBigQuery(sql, "my-project", "aiprod"),
        equalTo("SELECT * FROM `my-project.aiprod`.a JOIN `my-project.aiprod`.b_dedup USING (id)"));
    assertThat(AnalystViews.references(sql), contains("a", "b_dedup"));
  }

  @Test
  void theProjectsViewsAndQueriesRunOnTheWarehouseTables() throws Exception {
    Path file = dir.resolve("w.duckdb");
    new com.aiprod.pipeline.persist.DuckDbWarehouse(file.toString()).createTables();
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:" + file);
        Statement s = c.createStatement()) {
      assertThat(AnalystViews.create(c, Path.of("sql")), hasItem("cost_per_tenant_day"));
      try (java.util.stream.Stream<Path> queries = Files.list(Path.of("sql/queries"))) {
        for (Path q : queries.sorted().toList()) {
          try (ResultSet rs = s.executeQuery(AnalystViews.forDuckDb(Files.readString(q)))) {
            assertThat(q.toString(), rs.getMetaData().getColumnCount() > 0, equalTo(true));
          }
        }
      }
      try (ResultSet rs =
          s.executeQuery(
              "SELECT column_name FROM information_schema.columns WHERE table_name ="
                  + " 'cost_per_tenant_day' ORDER BY ordinal_position")) {
        List<String> columns = new ArrayList<>();
        while (rs.next()) {
          columns.add(rs.getString(1));
        }
        assertThat(
            columns,
            contains(
                "tenant",
                "day",
                "jobs",
                "paid_jobs",
                "cost_usd",
                "estimate_usd",
                "provider_cost_usd"));
      }
    }
  }

  @Test
  void viewsAreCreatedAfterTheViewsTheyRead() throws Exception {
    // Alphabetical order would be a_top, b_middle, c_base: each reads the next one.
    view("a_top", "SELECT n * 10 AS n FROM ${dataset}.b_middle");
    view("b_middle", "SELECT n + 1 AS n FROM ${dataset}.c_base");
    view("c_base", "-- the table\nSELECT n FROM ${dataset}.t");
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:");
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE t AS SELECT 1 AS n");
      assertThat(AnalystViews.create(c, dir), contains("c_base", "b_middle", "a_top"));
      // Created twice: CREATE OR REPLACE.
      assertThat(AnalystViews.create(c, dir), contains("c_base", "b_middle", "a_top"));
      List<Integer> values = new ArrayList<>();
      try (ResultSet rs = s.executeQuery("SELECT n FROM a_top")) {
        while (rs.next()) {
          values.add(rs.getInt(1));
        }
      }
      assertThat(values, contains(20));
    }
  }

  @Test
  void aCycleAndABrokenViewAreReportedByName() throws Exception {
    view("x", "SELECT * FROM ${dataset}.y");
    view("y", "SELECT * FROM ${dataset}.x");
    IllegalStateException cycle =
        assertThrows(IllegalStateException.class, () -> AnalystViews.viewsInOrder(dir));
    assertThat(cycle.getMessage(), containsString("cycle"));
    Files.delete(dir.resolve("views/x.sql"));
    Files.delete(dir.resolve("views/y.sql"));
    view("broken", "SELECT missing_column FROM ${dataset}.t");
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:");
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE t AS SELECT 1 AS n");
      SQLException e = assertThrows(SQLException.class, () -> AnalystViews.create(c, dir));
      assertThat(e.getMessage(), containsString("view broken"));
    }
  }
}
