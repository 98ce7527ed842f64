package com.aiprod.pipeline.tools;

import com.aiprod.pipeline.media.OutputFiles;
import com.aiprod.pipeline.persist.TableSchemas;
import com.aiprod.pipeline.persist.WarehouseTable;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import javax.annotation.Nullable;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The run report: one self-contained HTML file (inline SVG charts, contact sheets inlined as PNG
 * data; nothing is fetched when it is opened) drawn from the local DuckDB warehouse.
 *
 * <pre>
 *   RunReport --warehouse=duckdb:PATH [--out=report.html] [--since=2026-12-01|24h|7d] [--sqlDir=sql]
 * </pre>
 *
 * <p>One source of truth: each chart is one file of {@code sql/report} reading the analyst views of
 * {@code sql/views}, which this tool creates as temporary views from the same files (the warehouse
 * is opened read-only), so {@code scripts/query --file sql/report/NAME.sql} prints a chart's
 * numbers. The four tables are read through temporary views of the same names: {@code --since}
 * keeps the rows whose {@code finished_at} ({@code job_results}, {@code shot_renders}), {@code
 * event_time} or {@code timestamp} is at or after it, and a column of the schema files that a
 * warehouse made by an older build lacks reads NULL.
 *
 * <p>Prints the report's path. Exit status: 0 written, 1 on a SQL or I/O error, 2 on bad usage.
 */
@Command(
    name = "report",
    sortOptions = false,
    description = {
      "Writes the run report: one self-contained HTML file of charts over the analyst views and"
          + " a gallery of contact sheets; prints its path."
    })
public final class RunReport extends Tool {
  /** The report's chart files of {@code sql/report}, in page order. */
  public static final List<String> CHARTS =
      List.of(
          "jobs_by_state",
          "cost_by_tenant_day",
          "latency_vs_deadline",
          "dead_letters_by_reason",
          "auth_failures_by_principal",
          "render_attempts_by_backend");

  /** Time column of each table that {@code --since} filters on. */
  static final Map<String, String> TIME_COLUMNS =
      Map.of(
          "job_results", "finished_at",
          "shot_renders", "finished_at",
          "audit_events", "event_time",
          "dead_letters", "timestamp");

  @Option(
      names = "--warehouse",
      required = true,
      paramLabel = "duckdb:PATH",
      description = "The local warehouse (or a DuckDB file loaded from a BigQuery export).")
  String warehouse;

  @Option(
      names = "--out",
      paramLabel = "FILE.html",
      defaultValue = "report.html",
      description = "Where to write the report (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(
      names = "--since",
      paramLabel = "DATE|ISO|24h|7d",
      description = "Only rows at or after this UTC date, instant, or hours/days ago.")
  String since;

  @Option(
      names = "--sql-dir",
      paramLabel = "DIR",
      defaultValue = "sql",
      description = "The sql/ directory: views and report queries (default: ${DEFAULT-VALUE}).")
  Path sqlDir;

  /** Runs {@code report} with {@code args}; returns the exit code. */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    return Cli.run("report", args, out, err);
  }

  @Override
  public Integer call() {
    if (!warehouse.startsWith("duckdb:")) {
      throw usage("report reads a DuckDB warehouse: --warehouse=duckdb:PATH");
    }
    Path db = Paths.get(warehouse.substring("duckdb:".length()));
    Path target = out.toAbsolutePath();
    Instant from;
    try {
      from = since != null ? since(since, Instant.now()) : null;
    } catch (IllegalArgumentException e) {
      throw usage(e.getMessage());
    }
    if (!Files.isRegularFile(db)) {
      err()
          .println(
              "report: no DuckDB warehouse file at " + db + " (scripts/run-local creates one)");
      return 1;
    }
    try {
      FileSystems.setDefaultPipelineOptions(PipelineOptionsFactory.create());
      String html = html(db, sqlDir, from, target.getParent());
      Files.createDirectories(target.getParent());
      Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
      Files.writeString(tmp, html, StandardCharsets.UTF_8);
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      out().println(target);
      return 0;
    } catch (SQLException | IOException | UncheckedIOException | IllegalStateException e) {
      err().println("report: " + Cli.describe(e));
      return 1;
    }
  }

  /** {@code --since}: a UTC date, an ISO instant, or hours/days before {@code now}. */
  static Instant since(String v, Instant now) {
    try {
      if (v.matches("\\d+[hd]")) {
        long n = Long.parseLong(v.substring(0, v.length() - 1));
        return now.minus(v.endsWith("h") ? Duration.ofHours(n) : Duration.ofDays(n));
      }
      if (v.matches("\\d{4}-\\d{2}-\\d{2}")) {
        return LocalDate.parse(v).atStartOfDay(ZoneOffset.UTC).toInstant();
      }
      return Instant.parse(v);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          "--since takes a UTC date (2026-12-01), an instant (2026-12-01T08:00:00Z), or 24h / 7d;"
              + " got "
              + v);
    }
  }

  /** One query's result: column names and rows of strings (null as null). */
  record Result(String sql, List<String> columns, List<List<String>> rows) {
    int col(String name) {
      int i = columns.indexOf(name);
      if (i < 0) {
        throw new IllegalStateException("no column " + name + " in " + columns);
      }
      return i;
    }

    double number(List<String> row, String name) {
      String v = row.get(col(name));
      return v == null ? 0 : Double.parseDouble(v);
    }

    String text(List<String> row, String name) {
      return row.get(col(name));
    }
  }

  /** Opens the warehouse read-only, makes the views, runs every chart's SQL. */
  static Map<String, Result> query(Path db, Path sqlDir, @Nullable Instant since)
      throws SQLException {
    Properties props = new Properties();
    props.setProperty("duckdb.read_only", "true");
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:" + db, props);
        Statement s = c.createStatement()) {
      s.execute("SET TimeZone = 'UTC'");
      String catalog;
      try (ResultSet r = s.executeQuery("SELECT current_database()")) {
        r.next();
        catalog = "\"" + r.getString(1).replace("\"", "\"\"") + "\"";
      }
      // Each table as a temporary view of its name: the rows since --since, and the schema file's
      // columns a warehouse made by an older build lacks as NULL (it is opened read-only).
      for (WarehouseTable t : WarehouseTable.values()) {
        List<String> present = new ArrayList<>();
        try (ResultSet r =
            s.executeQuery(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'main'"
                    + " AND table_name = '"
                    + t.tableName()
                    + "'")) {
          while (r.next()) {
            present.add(r.getString(1));
          }
        }
        StringBuilder select = new StringBuilder("SELECT *");
        for (TableSchemas.Field f : TableSchemas.fields(t)) {
          if (!present.contains(f.name())) {
            select
                .append(", CAST(NULL AS ")
                .append(TableSchemas.duckDbType(f))
                .append(") AS ")
                .append(TableSchemas.quote(f.name()));
          }
        }
        select.append(" FROM ").append(catalog).append(".main.").append(t.tableName());
        if (since != null) {
          select
              .append(" WHERE ")
              .append(TableSchemas.quote(TIME_COLUMNS.get(t.tableName())))
              .append(" >= TIMESTAMPTZ '")
              .append(since)
              .append("'");
        }
        s.execute("CREATE TEMP VIEW " + t.tableName() + " AS " + select);
      }
      for (Map.Entry<String, String> v : AnalystViews.viewsInOrder(sqlDir).entrySet()) {
        try {
          s.execute(
              "CREATE OR REPLACE TEMP VIEW "
                  + v.getKey()
                  + " AS\n"
                  + AnalystViews.forDuckDb(v.getValue()));
        } catch (SQLException e) {
          throw new SQLException("view " + v.getKey() + ": " + e.getMessage(), e);
        }
      }
      Map<String, Result> results = new LinkedHashMap<>();
      List<String> names = new ArrayList<>(CHARTS);
      names.add("gallery");
      for (String name : names) {
        Path file = sqlDir.resolve("report").resolve(name + ".sql");
        String sql;
        try {
          sql = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
          throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        try (ResultSet r = s.executeQuery(AnalystViews.forDuckDb(sql))) {
          results.put(name, read(sql, r));
        } catch (SQLException e) {
          throw new SQLException(file + ": " + e.getMessage(), e);
        }
      }
      return results;
    }
  }

  private static Result read(String sql, ResultSet r) throws SQLException {
    ResultSetMetaData md = r.getMetaData();
    List<String> cols = new ArrayList<>();
    for (int i = 1; i <= md.getColumnCount(); i++) {
      cols.add(md.getColumnLabel(i));
    }
    List<List<String>> rows = new ArrayList<>();
    while (r.next()) {
      List<String> row = new ArrayList<>();
      for (int i = 1; i <= cols.size(); i++) {
        row.add(r.getString(i));
      }
      rows.add(row);
    }
    return new Result(sql, cols, rows);
  }

  /** The whole page. */
  static String html(Path db, Path sqlDir, @Nullable Instant since, Path reportDir)
      throws SQLException {
    Map<String, Result> r = query(db, sqlDir, since);
    StringBuilder b = new StringBuilder();
    String made =
        DateTimeFormatter.ISO_INSTANT.format(
            Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
    b.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
        .append("<title>AIPROD run report</title><style>")
        .append(CSS)
        .append("</style></head><body>\n");
    b.append("<h1>AIPROD run report</h1><p class=\"meta\">Warehouse <code>")
        .append(ReportCharts.esc(db.toString()))
        .append("</code> \u00b7 ")
        .append(since == null ? "all rows" : "rows since " + since)
        .append(" \u00b7 made ")
        .append(made)
        .append(
            " \u00b7 every chart is one file of <code>sql/report</code> over the analyst views of"
                + " <code>sql/views</code>: <code>scripts/query --file sql/report/NAME.sql</code>"
                + " prints its numbers. Hover a mark for its value.</p>\n");

    Result jobs = r.get("jobs_by_state");
    ReportCharts.Table t = new ReportCharts.Table();
    String unit = jobs.rows().isEmpty() ? "day" : jobs.text(jobs.rows().get(0), "unit");
    for (List<String> row : jobs.rows()) {
      t.add(jobs.text(row, "period"), jobs.text(row, "state"), jobs.number(row, "jobs"));
    }
    section(
        b,
        "jobs_by_state",
        "Jobs by state over time",
        "Terminal jobs per " + unit + " (UTC, by when they finished) and state.",
        ReportCharts.bars("chart-jobs_by_state", t, "jobs", true, ""),
        jobs);

    Result cost = r.get("cost_by_tenant_day");
    t = new ReportCharts.Table();
    for (List<String> row : cost.rows()) {
      String c = cost.text(row, "day") + " " + cost.text(row, "tenant");
      t.add(c, "charged (cost_usd)", cost.number(row, "cost_usd"));
      t.add(c, "provider cost", cost.number(row, "provider_cost_usd"));
    }
    section(
        b,
        "cost_by_tenant_day",
        "Cost and provider cost per tenant per day",
        "What tenants were charged (list price of delivered shots) beside what the providers billed"
            + " us, per tenant and UTC day.",
        ReportCharts.bars("chart-cost_by_tenant_day", t, "US dollars", false, "$"),
        cost);

    Result lat = r.get("latency_vs_deadline");
    List<ReportCharts.Point> points = new ArrayList<>();
    Map<String, Double> limits = new LinkedHashMap<>();
    for (List<String> row : lat.rows()) {
      String preset = lat.text(row, "preset");
      double deadline = lat.number(row, "deadline_ms") / 1000;
      limits.put(preset, deadline);
      double s = lat.number(row, "latency_ms") / 1000;
      points.add(
          new ReportCharts.Point(
              preset,
              s,
              "true".equals(lat.text(row, "within_deadline")),
              String.format(
                  Locale.ROOT,
                  "%s/%s %s: %.1f s (deadline %.0f s)",
                  lat.text(row, "tenant"),
                  lat.text(row, "job_id"),
                  lat.text(row, "state"),
                  s,
                  deadline)));
    }
    section(
        b,
        "latency_vs_deadline",
        "Latency against the preset's deadline",
        "End-to-end latency of every job that went to render, per preset; the line is the preset's"
            + " deadline, red points are over it.",
        ReportCharts.strip("chart-latency_vs_deadline", points, limits, "seconds"),
        lat);

    Result dl = r.get("dead_letters_by_reason");
    t = new ReportCharts.Table();
    for (List<String> row : dl.rows()) {
      t.add(dl.text(row, "reason_code"), "dead letters", dl.number(row, "dead_letters"));
    }
    section(
        b,
        "dead_letters_by_reason",
        "Dead letters by reason",
        "Messages that ended as dead letters, by reason code (DESIGN \u00a710).",
        ReportCharts.hbars("chart-dead_letters_by_reason", t, "dead letters", ""),
        dl);

    Result af = r.get("auth_failures_by_principal");
    t = new ReportCharts.Table();
    for (List<String> row : af.rows()) {
      t.add(af.text(row, "principal"), "failures", af.number(row, "failures"));
    }
    section(
        b,
        "auth_failures_by_principal",
        "Authentication failures by principal",
        "The 20 principals (the token's unverified subject, or (unknown)) with the most"
            + " AUTH_FAILURE events.",
        ReportCharts.hbars("chart-auth_failures_by_principal", t, "failures", ""),
        af);

    Result ra = r.get("render_attempts_by_backend");
    t = new ReportCharts.Table();
    for (List<String> row : ra.rows()) {
      t.add(ra.text(row, "backend"), ra.text(row, "status"), ra.number(row, "attempts"));
    }
    section(
        b,
        "render_attempts_by_backend",
        "Render attempts and failures per backend",
        "Every render attempt (shot_renders) per backend, by how it ended.",
        ReportCharts.hbars("chart-render_attempts_by_backend", t, "attempts", ""),
        ra);

    gallery(b, r.get("gallery"), reportDir);
    b.append("<script>").append(SELF_CHECK).append("</script>\n</body></html>\n");
    return b.toString();
  }

  private static void section(
      StringBuilder b, String name, String title, String caption, String svg, Result data) {
    b.append("<section id=\"")
        .append(name)
        .append("\"><h2>")
        .append(ReportCharts.esc(title))
        .append("</h2><p class=\"caption\">")
        .append(ReportCharts.esc(caption))
        .append("</p>\n")
        .append(svg)
        .append("\n<details><summary>The numbers (")
        .append(data.rows().size())
        .append(data.rows().size() == 1 ? " row" : " rows")
        .append(") \u2014 <code>scripts/query --file sql/report/")
        .append(name)
        .append(".sql</code></summary>");
    table(b, data);
    b.append("</details></section>\n");
  }

  private static void table(StringBuilder b, Result data) {
    b.append("<table><tr>");
    for (String c : data.columns()) {
      b.append("<th>").append(ReportCharts.esc(c)).append("</th>");
    }
    b.append("</tr>");
    for (List<String> row : data.rows()) {
      b.append("<tr>");
      for (String v : row) {
        b.append("<td>").append(v == null ? "NULL" : ReportCharts.esc(v)).append("</td>");
      }
      b.append("</tr>");
    }
    b.append("</table>");
  }

  private static void gallery(StringBuilder b, Result g, Path reportDir) {
    b.append(
        "<section id=\"gallery\"><h2>Latest delivered jobs</h2><p class=\"caption\">Contact"
            + " sheets of the 12 latest DELIVERED jobs (one frame per shot); each opens its"
            + " final.mp4.</p>\n<div class=\"gallery\">");
    if (g.rows().isEmpty()) {
      b.append("<p>No delivered job with a contact sheet in this period.</p>");
    }
    for (List<String> row : g.rows()) {
      String sheet = g.text(row, "contact_sheet_uri");
      String video = g.text(row, "output_uri");
      String label =
          g.text(row, "tenant")
              + "/"
              + g.text(row, "job_id")
              + " \u00b7 "
              + g.text(row, "preset")
              + " \u00b7 charged "
              + ReportCharts.num(g.number(row, "cost_usd"), "$")
              + " \u00b7 "
              + g.text(row, "finished_at");
      b.append("<figure><a href=\"").append(ReportCharts.esc(link(video, reportDir))).append("\">");
      String data = inline(sheet);
      if (data != null) {
        b.append("<img alt=\"contact sheet of ")
            .append(ReportCharts.esc(g.text(row, "job_id")))
            .append("\" src=\"")
            .append(data)
            .append("\">");
      } else {
        b.append("<span class=\"missing\">contact sheet not readable: ")
            .append(ReportCharts.esc(sheet))
            .append("</span>");
      }
      b.append("</a><figcaption>").append(ReportCharts.esc(label)).append("</figcaption></figure>");
    }
    b.append("</div></section>\n");
  }

  /** The PNG at {@code uri} as a data URI, or null when it cannot be read. */
  static @Nullable String inline(String uri) {
    Path local = null;
    try {
      local = OutputFiles.localCopy(uri);
      return "data:image/png;base64,"
          + Base64.getEncoder().encodeToString(Files.readAllBytes(local));
    } catch (IOException | RuntimeException e) {
      return null;
    } finally {
      if (local != null && !OutputFiles.isLocal(uri)) {
        try {
          Files.deleteIfExists(local);
        } catch (IOException e) {
          // a temp file left behind
        }
      }
    }
  }

  /**
   * A link a browser can open: a local file relative to the report when under its directory, else a
   * file URI; {@code gs://} through the Cloud console's authenticated download.
   */
  static String link(String uri, Path reportDir) {
    if (uri == null) {
      return "#";
    }
    if (uri.startsWith("gs://")) {
      return "https://storage.cloud.google.com/" + uri.substring("gs://".length());
    }
    if (!OutputFiles.isLocal(uri)) {
      return uri;
    }
    Path p = Paths.get(uri.startsWith("file://") ? uri.substring("file://".length()) : uri);
    Path abs = p.toAbsolutePath().normalize();
    if (reportDir != null && abs.startsWith(reportDir.toAbsolutePath().normalize())) {
      return reportDir.toAbsolutePath().normalize().relativize(abs).toString();
    }
    return abs.toUri().toString();
  }

  private static final String CSS =
      "body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:960px}"
          + "h1{margin-bottom:4px}.meta,.caption{color:#555;font-size:14px}"
          + "section{margin:28px 0}svg.chart{display:block;max-width:100%;height:auto;"
          + "background:#fafafa;border:1px solid #e3e3e3}"
          + "svg text{font-size:11px;fill:#333}svg .axis{font-size:12px;fill:#555}"
          + "svg .grid{stroke:#e0e0e0}svg .limit{stroke:#b03a2e;stroke-width:2;"
          + "stroke-dasharray:6 3}table{border-collapse:collapse;font-size:12px;margin-top:8px}"
          + "td,th{border:1px solid #ddd;padding:2px 6px;text-align:left}"
          + "summary{cursor:pointer;font-size:13px;color:#444}"
          + ".gallery{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));"
          + "gap:16px}figure{margin:0}figure img{width:100%;border:1px solid #ccc}"
          + "figcaption{font-size:12px;color:#444}.missing{color:#b03a2e}";

  /**
   * Marks the page as checked once it has loaded: how many images loaded and which did not (a
   * broken image is also a console error), and how many pairs of a chart's labels overlap as laid
   * out by this browser (each a console error; a rotated label by points of its turned box against
   * labels that are not rotated), for a person in the developer tools and for the headless-browser
   * test.
   */
  private static final String SELF_CHECK =
      "window.addEventListener('load',function(){var ok=0,bad=0;"
          + "Array.prototype.forEach.call(document.images,function(i){"
          + "if(i.complete&&i.naturalWidth>0){ok++;}else{bad++;"
          + "console.error('image did not load: '+i.alt);}});"
          + "document.body.setAttribute('data-images-loaded',ok);"
          + "document.body.setAttribute('data-images-broken',bad);"
          + "var overlaps=0;function inside(p,r){return p.x>r.left+1&&p.x<r.right-1"
          + "&&p.y>r.top+1&&p.y<r.bottom-1;}"
          + "function grid(e){var b=e.getBBox(),m=e.getScreenCTM(),g=[];"
          + "for(var i=0;i<=12;i++){for(var j=0;j<=3;j++){g.push(new DOMPoint("
          + "b.x+b.width*i/12,b.y+b.height*j/3).matrixTransform(m));}}return g;}"
          + "function hit(a,b){if(!a.turned){return a.r.width>0&&b.r.width>0"
          + "&&a.r.left<b.r.right-1&&b.r.left<a.r.right-1&&a.r.top<b.r.bottom-1"
          + "&&b.r.top<a.r.bottom-1;}return grid(a.e).some(function(p){return inside(p,b.r);});}"
          + "Array.prototype.forEach.call(document.querySelectorAll('svg.chart'),function(s){"
          + "var t=Array.prototype.map.call(s.querySelectorAll('text'),function(e){"
          + "return{e:e,r:e.getBoundingClientRect(),turned:e.hasAttribute('transform')};});"
          + "for(var i=0;i<t.length;i++){for(var j=i+1;j<t.length;j++){var a=t[i],b=t[j];"
          + "if(a.turned&&b.turned){continue;}if(b.turned){a=t[j];b=t[i];}"
          + "if(hit(a,b)){overlaps++;console.error('overlapping labels in '+s.id+': '"
          + "+a.e.textContent+' / '+b.e.textContent);}}}});"
          + "document.body.setAttribute('data-text-overlaps',overlaps);"
          + "document.body.setAttribute('data-checked','true');});";
}
