package com.aiprod.pipeline.tools;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;

import com.aiprod.pipeline.media.ContactSheet;
import com.aiprod.pipeline.persist.TableSchemas;
import com.aiprod.pipeline.persist.WarehouseTable;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The run report on a small warehouse written here with the schema files' tables: each chart's
 * marks are its SQL file's rows (one source of truth: the table under the chart equals {@link
 * Query} on the same file), {@code --since} narrows every chart, the gallery inlines the contact
 * sheet and links to final.mp4 relative to the report. The browser checks are {@code
 * BatchPipelineIT (RunPictures)}.
 */
class RunReportTest {
  @TempDir Path dir;
  Path db;
  Path out;

  @BeforeEach
  void warehouse() throws Exception {
    db = dir.resolve("w.duckdb");
    out = dir.resolve("out");
    Path job = Files.createDirectories(out.resolve("acme/job-delivered-1"));
    Files.write(
        job.resolve("contact_sheet.png"),
        ContactSheet.png(
            new ContactSheet.Header(
                "job-delivered-1", "acme", "quick_social", "DELIVERED", null, 1, 1),
            List.of(new ContactSheet.Shot(0, 4, null, 0, null))));
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:" + db);
        Statement s = c.createStatement()) {
      for (WarehouseTable t : WarehouseTable.values()) {
        s.execute(TableSchemas.duckDbDdl(t));
      }
      String now = "TIMESTAMPTZ '2026-12-07 10:00:00+00'";
      String old = "TIMESTAMPTZ '2026-11-01 10:00:00+00'";
      s.execute(
          "INSERT INTO job_results (job_id, message_id, tenant, uid, preset, mode, state,"
              + " shots_total, cost_usd, provider_cost_usd, output_uri, contact_sheet_uri,"
              + " received_at, finished_at, latency_ms) VALUES"
              + " ('job-delivered-1', 'm1', 'acme', 'u1', 'quick_social', 'preview', 'DELIVERED',"
              + " 1, 1.5, 1.25, '"
              + job.resolve("final.mp4")
              + "', '"
              + job.resolve("contact_sheet.png")
              + "', "
              + now
              + ", "
              + now
              + ", 42000),"
              + " ('job-failed-1', 'm2', 'acme', 'u1', 'brand_campaign', 'final', 'FAILED', 2, 0,"
              + " 0.5, NULL, NULL, "
              + now
              + ", "
              + now
              + ", 950000),"
              + " ('job-old-1', 'm3', 'globex', 'u2', 'quick_social', 'preview', 'DELIVERED', 1,"
              + " 7, 6, NULL, NULL, "
              + old
              + ", "
              + old
              + ", 1000)");
      s.execute(
          "INSERT INTO shot_renders VALUES ('job-delivered-1', 'acme', 0, 1, 'preview',"
              + " 'succeeded', NULL, 0, 10, "
              + now
              + ", "
              + now
              + "), ('job-failed-1', 'acme', 0, 1, 'runway_gen4_turbo', 'failed', 'x', 0.25, 10, "
              + now
              + ", "
              + now
              + ")");
      s.execute(
          "INSERT INTO audit_events (event_id, event_time, event_type, environment, service,"
              + " action, status, details) VALUES ('e1', "
              + now
              + ", 'AUTH_FAILURE', 'dev', 's', 'authenticate', 'failure',"
              + " '{\"claimed_uid\": \"mallory\", \"reason_code\": \"AUTH_INVALID\"}'),"
              + " ('e2', "
              + now
              + ", 'AUTH_FAILURE', 'dev', 's', 'authenticate', 'failure', '{}')");
      s.execute(
          "INSERT INTO dead_letters (timestamp, reason_code, stage, message_id) VALUES ("
              + now
              + ", 'MALFORMED_JSON', 'ingest', 'd1'), ("
              + now
              + ", 'MALFORMED_JSON', 'ingest', 'd2'), ("
              + old
              + ", 'DUPLICATE_JOB', 'admit', 'd3')");
    }
  }

  private String report(String... extra) throws Exception {
    Path target = out.resolve("report.html");
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    String[] args = new String[3 + extra.length];
    args[0] = "--warehouse=duckdb:" + db;
    args[1] = "--out=" + target;
    args[2] = "--sql-dir=sql";
    System.arraycopy(extra, 0, args, 3, extra.length);
    int status =
        RunReport.run(
            args,
            new PrintStream(o, true, StandardCharsets.UTF_8),
            new PrintStream(e, true, StandardCharsets.UTF_8));
    assertThat(e.toString(StandardCharsets.UTF_8), status, equalTo(0));
    assertThat(o.toString(StandardCharsets.UTF_8).trim(), equalTo(target.toString()));
    return Files.readString(target, StandardCharsets.UTF_8);
  }

  private static int marks(String html, String chart) {
    Matcher m =
        Pattern.compile(
                "<svg class=\"chart\" id=\"chart-" + chart + "\"(.*?)</svg>", Pattern.DOTALL)
            .matcher(html);
    assertThat(chart, m.find(), equalTo(true));
    return m.group(1).split("class=\"mark\"", -1).length - 1;
  }

  @Test
  void everyChartHasAMarkPerValueOfItsSqlFile() throws Exception {
    String html = report();
    // Kept for a person to look at (the gallery link points into the deleted temp directory).
    Files.createDirectories(Path.of("target"));
    Files.writeString(Path.of("target/run-report-test.html"), html, StandardCharsets.UTF_8);
    // Jobs over 36 days: per day; 2026-11-01 DELIVERED, 2026-12-07 DELIVERED and FAILED.
    assertThat(marks(html, "jobs_by_state"), equalTo(3));
    assertThat(html, containsString("Terminal jobs per day"));
    assertThat(html, containsString("2026-12-07 00:00 · FAILED: 1"));
    // acme 2026-12-07 charged 1.5 and provider 1.75; globex 2026-11-01 charged 7 and provider 6
    assertThat(marks(html, "cost_by_tenant_day"), equalTo(4));
    assertThat(html, containsString("2026-12-07 acme \u00b7 provider cost: $1.75"));
    assertThat(html, containsString("2026-11-01 globex \u00b7 charged (cost_usd): $7.00"));
    assertThat(marks(html, "latency_vs_deadline"), equalTo(3));
    assertThat(html, containsString("acme/job-failed-1 FAILED: 950.0 s (deadline 900 s)"));
    assertThat(marks(html, "dead_letters_by_reason"), equalTo(2));
    assertThat(html, containsString("MALFORMED_JSON \u00b7 dead letters: 2"));
    assertThat(marks(html, "auth_failures_by_principal"), equalTo(2));
    assertThat(html, containsString("mallory \u00b7 failures: 1"));
    assertThat(marks(html, "render_attempts_by_backend"), equalTo(2));
    // Gallery: the sheet inlined, the video linked relative to the report.
    assertThat(html, containsString("src=\"data:image/png;base64,iVBORw0KGgo"));
    assertThat(html, containsString("href=\"acme/job-delivered-1/final.mp4\""));
    // Nothing fetched when opened: no external URL at all.
    assertThat(html, not(containsString("src=\"http")));
    assertThat(html, not(containsString("href=\"http")));
  }

  @Test
  void theNumbersUnderAChartAreWhatScriptsQueryPrintsForItsFile() throws Exception {
    String html = report();
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    // scripts/query needs the analyst views in the warehouse, as scripts/run-local makes them.
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:" + db)) {
      AnalystViews.create(c, Path.of("sql"));
    }
    int status =
        Query.run(
            new String[] {
              "--warehouse=duckdb:" + db, "--file=sql/report/dead_letters_by_reason.sql"
            },
            new PrintStream(o, true, StandardCharsets.UTF_8),
            System.err);
    assertThat(status, equalTo(0));
    String printed = o.toString(StandardCharsets.UTF_8);
    assertThat(printed, containsString("MALFORMED_JSON | 2"));
    assertThat(printed, containsString("DUPLICATE_JOB  | 1"));
    assertThat(html, containsString("<td>MALFORMED_JSON</td><td>2</td>"));
    assertThat(html, containsString("<td>DUPLICATE_JOB</td><td>1</td>"));
  }

  @Test
  void sinceKeepsOnlyTheRowsAtOrAfterIt() throws Exception {
    String html = report("--since=2026-12-01");
    assertThat(marks(html, "cost_by_tenant_day"), equalTo(2));
    assertThat(html, not(containsString("globex")));
    assertThat(marks(html, "dead_letters_by_reason"), equalTo(1));
    assertThat(marks(html, "latency_vs_deadline"), equalTo(2));
    assertThat(html, containsString("rows since 2026-12-01T00:00:00Z"));
  }

  @Test
  void aWarehouseOfAnOlderBuildLacksColumnsTheReportReadsAsNull() throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:" + db);
        Statement s = c.createStatement()) {
      s.execute("ALTER TABLE job_results DROP COLUMN contact_sheet_uri");
      s.execute("ALTER TABLE job_results DROP COLUMN provider_cost_usd");
    }
    String html = report();
    assertThat(marks(html, "cost_by_tenant_day"), equalTo(4));
    assertThat(html, containsString("No delivered job with a contact sheet in this period."));
  }

  @Test
  void zeroCostsAreMarksToo() {
    // A local run renders previews, charged and billed $0: the chart still shows each value.
    ReportCharts.Table t = new ReportCharts.Table();
    t.add("2026-12-07 acme", "charged (cost_usd)", 0);
    t.add("2026-12-07 acme", "provider cost", 0);
    String svg = ReportCharts.bars("chart-x", t, "US dollars", false, "$");
    assertThat(svg.split("class=\"mark\"", -1).length - 1, equalTo(2));
    assertThat(svg, containsString("2026-12-07 acme \u00b7 provider cost: $0.00"));
    assertThat(svg, containsString("every value is 0 in this period"));
  }

  @Test
  void sinceTakesADateAnInstantOrHoursAndDaysBack() {
    Instant now = Instant.parse("2026-12-07T12:00:00Z");
    assertThat(RunReport.since("2026-12-01", now), equalTo(Instant.parse("2026-12-01T00:00:00Z")));
    assertThat(RunReport.since("24h", now), equalTo(Instant.parse("2026-12-06T12:00:00Z")));
    assertThat(RunReport.since("7d", now), equalTo(Instant.parse("2026-11-30T12:00:00Z")));
    assertThat(
        RunReport.since("2026-12-07T08:30:00Z", now),
        equalTo(Instant.parse("2026-12-07T08:30:00Z")));
  }

  @Test
  void badUsageIsStatusTwo() {
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    PrintStream err = new PrintStream(e, true, StandardCharsets.UTF_8);
    assertThat(RunReport.run(new String[] {}, System.out, err), equalTo(2));
    assertThat(
        RunReport.run(
            new String[] {"--warehouse=duckdb:" + db, "--since=yesterday"}, System.out, err),
        equalTo(2));
    assertThat(
        RunReport.run(
            new String[] {"--warehouse=duckdb:" + dir.resolve("none.duckdb")}, System.out, err),
        equalTo(1));
  }
}
