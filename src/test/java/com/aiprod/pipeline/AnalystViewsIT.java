package com.aiprod.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;

import com.aiprod.pipeline.audit.LocalSecrets;
import com.aiprod.pipeline.testing.FirestoreEmulator;
import com.aiprod.pipeline.testing.PipelineRuns;
import com.aiprod.pipeline.tools.AnalystViews;
import com.aiprod.pipeline.tools.Query;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The analyst views and example queries of {@code sql/} on a DuckDB warehouse filled by a real
 * batch run of the bundled jar (the signed samples plus the hostile ones, Firestore emulator),
 * created the way {@code scripts/run-local} creates them ({@link AnalystViews}). Each view is
 * checked against the same figure computed straight from the tables; the dedup views are also
 * checked on a copy of the warehouse in which every row was written twice (what at-least-once
 * appends or a replay leave in BigQuery).
 */
class AnalystViewsIT {
  private static final String PROJECT = "demo-aiprod";
  private static final Path SQL = Paths.get("sql");

  @RegisterExtension static final FirestoreEmulator EMULATOR = new FirestoreEmulator();

  @TempDir static Path dir;

  static Path warehouse;
  static Path doubled;
  static List<String> created;

  @BeforeAll
  static void runPipelineAndCreateViews() throws Exception {
    Path auth = dir.resolve("dev-auth");
    Files.createDirectories(dir.resolve("in"));
    PipelineRuns.sign(
        Paths.get("samples/requests.jsonl"), dir.resolve("in/requests.jsonl"), auth, PROJECT);
    PipelineRuns.sign(
        Paths.get("src/test/resources/it/hostile.jsonl"),
        dir.resolve("in/hostile.jsonl"),
        auth,
        PROJECT);
    warehouse = dir.resolve("warehouse.duckdb");
    Path secrets = dir.resolve("secrets");
    LocalSecrets.ensureAuditKey(secrets);
    PipelineRuns.Run run =
        PipelineRuns.runJar(
            List.of(
                "--inputFiles=" + dir.resolve("in") + "/*.jsonl",
                "--authMode=dev",
                "--devAuthDir=" + auth,
                "--project=" + PROJECT,
                "--emulatorHost=" + EMULATOR.hostPort(),
                "--credentialFactoryClass=org.apache.beam.sdk.extensions.gcp.auth.NoopCredentialFactory",
                "--warehouse=duckdb:" + warehouse,
                "--outputLocation=" + dir.resolve("out"),
                "--tempLocation=" + dir.resolve("tmp"),
                "--secretSource=dir:" + secrets),
            Duration.ofMinutes(5));
    assertThat("pipeline exit status; output:\n" + run.tail(), run.exitStatus(), equalTo(0));
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:" + warehouse)) {
      created = AnalystViews.create(c, SQL);
    }
    // The same warehouse with every row stored twice, the second copy written a second later.
    doubled = dir.resolve("doubled.duckdb");
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:" + doubled);
        Statement s = c.createStatement()) {
      s.execute("ATTACH '" + warehouse + "' AS src (READ_ONLY)");
      s.execute(
          "CREATE TABLE job_results AS SELECT * FROM src.job_results UNION ALL"
              + " SELECT * REPLACE (finished_at + INTERVAL 1 SECOND AS finished_at) FROM src.job_results");
      s.execute(
          "CREATE TABLE shot_renders AS SELECT * FROM src.shot_renders UNION ALL"
              + " SELECT * REPLACE (finished_at + INTERVAL 1 SECOND AS finished_at) FROM src.shot_renders");
      s.execute(
          "CREATE TABLE audit_events AS SELECT * FROM src.audit_events UNION ALL"
              + " SELECT * REPLACE (event_time + INTERVAL 1 SECOND AS event_time) FROM src.audit_events");
      s.execute(
          "CREATE TABLE dead_letters AS SELECT * FROM src.dead_letters UNION ALL"
              + " SELECT * REPLACE (\"timestamp\" + INTERVAL 1 SECOND AS \"timestamp\") FROM src.dead_letters");
      s.execute("DETACH src");
      AnalystViews.create(c, SQL);
    }
  }

  private static List<Map<String, Object>> rows(Path db, String sql) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:" + db);
        Statement st = c.createStatement()) {
      st.execute("SET TimeZone = 'UTC'");
      try (ResultSet rs = st.executeQuery(sql)) {
        List<Map<String, Object>> out = new ArrayList<>();
        ResultSetMetaData md = rs.getMetaData();
        while (rs.next()) {
          Map<String, Object> row = new LinkedHashMap<>();
          for (int i = 1; i <= md.getColumnCount(); i++) {
            row.put(md.getColumnLabel(i), rs.getObject(i));
          }
          out.add(row);
        }
        return out;
      }
    }
  }

  private static List<Map<String, Object>> rows(String sql) throws Exception {
    return rows(warehouse, sql);
  }

  private static long number(String sql) throws Exception {
    return ((Number) rows(sql).get(0).values().iterator().next()).longValue();
  }

  /** key column(s) joined by '|' → numeric value, for comparing a view with the raw tables. */
  private static Map<String, Double> byKey(Path db, String sql) throws Exception {
    Map<String, Double> out = new TreeMap<>();
    for (Map<String, Object> r : rows(db, sql)) {
      List<Object> values = new ArrayList<>(r.values());
      StringBuilder key = new StringBuilder();
      for (int i = 0; i < values.size() - 1; i++) {
        key.append(i > 0 ? "|" : "").append(values.get(i));
      }
      out.put(key.toString(), ((Number) values.get(values.size() - 1)).doubleValue());
    }
    return out;
  }

  private static Map<String, Double> byKey(String sql) throws Exception {
    return byKey(warehouse, sql);
  }

  @Test
  void everyViewFileIsCreatedDedupViewsFirst() {
    List<String> files = new ArrayList<>(AnalystViews.read(SQL.resolve("views")).keySet());
    assertThat(created.size(), equalTo(files.size()));
    assertThat(new java.util.TreeSet<>(created), equalTo(new java.util.TreeSet<>(files)));
    for (String v : created) {
      if (!v.endsWith("_dedup")) {
        for (String ref : AnalystViews.references(AnalystViews.read(SQL.resolve("views")).get(v))) {
          assertThat(
              v + " after " + ref,
              created.indexOf(ref),
              is(org.hamcrest.Matchers.lessThan(created.indexOf(v))));
        }
      }
    }
  }

  @Test
  void everyViewAndEveryExampleQueryRunsAndReturnsRows() throws Exception {
    for (String v : created) {
      assertThat("rows of view " + v, rows("SELECT * FROM " + v).size(), greaterThan(0));
    }
    Map<String, String> queries = AnalystViews.read(SQL.resolve("queries"));
    assertThat(queries.size(), greaterThan(4));
    for (String q : queries.keySet()) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      int status =
          Query.run(
              new String[] {
                "--warehouse=duckdb:" + warehouse, "--file=" + SQL.resolve("queries/" + q + ".sql")
              },
              new PrintStream(out, true, StandardCharsets.UTF_8),
              new PrintStream(err, true, StandardCharsets.UTF_8));
      String printed = out.toString(StandardCharsets.UTF_8);
      assertThat(q + ": " + err.toString(StandardCharsets.UTF_8), status, equalTo(0));
      assertThat(q, printed, containsString(" row"));
      int n = rows(AnalystViews.forDuckDb(queries.get(q))).size();
      // No job of the samples misses its deadline; every other example has rows.
      assertThat(q, n > 0, is(!q.equals("jobs_over_deadline")));
    }
  }

  @Test
  void dedupViewsHaveOneRowPerKeyAndDropRowsWrittenTwice() throws Exception {
    for (Path db : List.of(warehouse, doubled)) {
      assertThat(
          number(db, "SELECT count(*) FROM audit_events_dedup"),
          equalTo(number(db, "SELECT count(DISTINCT event_id) FROM audit_events")));
      assertThat(
          number(db, "SELECT count(*) - count(DISTINCT event_id) FROM audit_events_dedup"),
          equalTo(0L));
      assertThat(
          number(db, "SELECT count(*) FROM job_results_dedup"),
          equalTo(
              number(
                  db, "SELECT count(*) FROM (SELECT DISTINCT tenant, job_id FROM job_results)")));
      assertThat(
          number(db, "SELECT count(*) FROM shot_renders_dedup"),
          equalTo(
              number(
                  db,
                  "SELECT count(*) FROM (SELECT DISTINCT tenant, job_id, shot_index, attempt FROM shot_renders)")));
      assertThat(
          number(db, "SELECT count(*) FROM dead_letters_dedup"),
          equalTo(
              number(
                  db,
                  "SELECT count(*) FROM (SELECT DISTINCT message_id, stage, reason_code FROM dead_letters)")));
    }
    long events = number("SELECT count(*) FROM audit_events");
    assertThat(events, greaterThan(20L));
    assertThat(number(doubled, "SELECT count(*) FROM audit_events"), equalTo(2 * events));
    assertThat(number(doubled, "SELECT count(*) FROM audit_events_dedup"), equalTo(events));
    // The earliest copy is kept, so the dedup view of the doubled warehouse is the original table.
    assertThat(
        number(
            doubled,
            "SELECT count(*) FROM audit_events_dedup d JOIN audit_events o"
                + " ON d.event_id = o.event_id AND d.event_time = o.event_time AND d.signature = o.signature"),
        equalTo(events));
    // Every analyst view gives the same answer on the doubled warehouse as on the original.
    for (String v : created) {
      if (!v.endsWith("_dedup")) {
        assertThat(
            v,
            rows(doubled, "SELECT * FROM " + v + " ORDER BY ALL").toString(),
            equalTo(rows("SELECT * FROM " + v + " ORDER BY ALL").toString()));
      }
    }
  }

  private static long number(Path db, String sql) throws Exception {
    return ((Number) rows(db, sql).get(0).values().iterator().next()).longValue();
  }

  @Test
  void deadLettersByReasonMatchTheTable() throws Exception {
    Map<String, Double> view =
        byKey("SELECT reason_code, SUM(dead_letters) FROM dead_letters_by_reason GROUP BY 1");
    Map<String, Double> table = byKey("SELECT reason_code, count(*) FROM dead_letters GROUP BY 1");
    assertThat(view, equalTo(table));
    assertThat(view.keySet(), hasItem("AUTH_INVALID"));
    assertThat(view.keySet(), hasItem("MALFORMED_JSON"));
    assertThat(view.keySet(), hasItem("DUPLICATE_JOB"));
    assertThat(
        byKey(
            "SELECT reason_code || '|' || stage, SUM(dead_letters) FROM dead_letters_by_reason GROUP BY 1"),
        equalTo(
            byKey("SELECT reason_code || '|' || stage, count(*) FROM dead_letters GROUP BY 1")));
  }

  @Test
  void costPerTenantDaySumsJobResults() throws Exception {
    Map<String, Double> viewCost =
        byKey("SELECT tenant, SUM(cost_usd) FROM cost_per_tenant_day GROUP BY 1");
    Map<String, Double> tableCost =
        byKey("SELECT tenant, coalesce(SUM(cost_usd), 0) FROM job_results GROUP BY 1");
    assertThat(viewCost.keySet(), equalTo(tableCost.keySet()));
    tableCost.forEach((t, c) -> assertThat(t, viewCost.get(t), closeTo(c, 1e-9)));
    assertThat(
        byKey("SELECT tenant, SUM(jobs) FROM cost_per_tenant_day GROUP BY 1"),
        equalTo(byKey("SELECT tenant, count(*) FROM job_results GROUP BY 1")));
    assertThat(
        byKey("SELECT tenant || '|' || day, jobs FROM cost_per_tenant_day"),
        equalTo(
            byKey(
                "SELECT tenant || '|' || CAST(finished_at AS DATE), count(*) FROM job_results GROUP BY 1")));
    assertThat(
        number("SELECT SUM(paid_jobs) FROM cost_per_tenant_day"),
        equalTo(number("SELECT count(*) FROM job_results WHERE cost_usd > 0")));
    Map<String, Double> viewProviderCost =
        byKey("SELECT tenant, SUM(provider_cost_usd) FROM cost_per_tenant_day GROUP BY 1");
    Map<String, Double> tableProviderCost =
        byKey("SELECT tenant, coalesce(SUM(provider_cost_usd), 0) FROM job_results GROUP BY 1");
    tableProviderCost.forEach((t, c) -> assertThat(t, viewProviderCost.get(t), closeTo(c, 1e-9)));
    assertThat(viewCost.size(), greaterThan(3));
  }

  @Test
  void auditEventsByTypeAndDayMatchTheTable() throws Exception {
    assertThat(
        byKey(
            "SELECT event_type || '|' || status, SUM(events) FROM audit_events_by_type_day GROUP BY 1"),
        equalTo(
            byKey("SELECT event_type || '|' || status, count(*) FROM audit_events GROUP BY 1")));
    List<Object> types =
        rows("SELECT DISTINCT event_type FROM audit_events_by_type_day").stream()
            .map(r -> r.get("event_type"))
            .toList();
    for (String t :
        List.of(
            "AUTH_SUCCESS",
            "AUTH_FAILURE",
            "PERMISSION_DENIED",
            "DATA_ACCESS",
            "SECURITY_ALERT",
            "CONFIG_CHANGE",
            "SECRET_ACCESS",
            "API_CALL")) {
      assertThat(types, hasItem(t));
    }
  }

  @Test
  void authFailuresByPrincipalCountEveryFailureOnce() throws Exception {
    assertThat(
        number("SELECT SUM(failures) FROM auth_failures_by_principal"),
        equalTo(number("SELECT count(*) FROM audit_events WHERE event_type = 'AUTH_FAILURE'")));
    assertThat(
        byKey("SELECT reason_code, SUM(failures) FROM auth_failures_by_principal GROUP BY 1"),
        equalTo(
            byKey(
                "SELECT json_extract_string(details, '$.reason_code'), count(*) FROM audit_events"
                    + " WHERE event_type = 'AUTH_FAILURE' GROUP BY 1")));
    List<Map<String, Object>> principals =
        rows("SELECT DISTINCT principal FROM auth_failures_by_principal");
    // A claimed uid (the token's unverified sub) is shown without JSON quotes; tokens never are.
    List<String> names = principals.stream().map(r -> String.valueOf(r.get("principal"))).toList();
    assertThat(names.stream().filter(n -> !n.equals("(unknown)")).count(), greaterThan(0L));
    for (String n : names) {
      assertThat(n, not(containsString("\"")));
      assertThat(n, not(containsString("eyJ")));
    }
  }

  @Test
  void jobLatencyIsJudgedAgainstThePresetDeadline() throws Exception {
    List<Map<String, Object>> view = rows("SELECT * FROM job_latency_vs_deadline");
    assertThat(
        (long) view.size(),
        equalTo(
            number(
                "SELECT count(*) FROM job_results WHERE state <> 'ESTIMATED' AND shots_total > 0")));
    assertThat(view.size(), greaterThan(2));
    Map<String, Long> deadlines =
        Map.of("quick_social", 300_000L, "brand_campaign", 900_000L, "premium_spot", 1_800_000L);
    for (Map<String, Object> r : view) {
      long deadline = ((Number) r.get("deadline_ms")).longValue();
      assertThat(r.toString(), deadline, equalTo(deadlines.get((String) r.get("preset"))));
      long latency = ((Number) r.get("latency_ms")).longValue();
      assertThat(r.toString(), r.get("within_deadline"), equalTo(latency <= deadline));
      assertThat(r.toString(), Objects.requireNonNull(r.get("state")), not(equalTo("ESTIMATED")));
    }
  }
}
