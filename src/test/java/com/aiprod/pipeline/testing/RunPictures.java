package com.aiprod.pipeline.testing;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.lessThanOrEqualTo;

import com.aiprod.pipeline.tools.RunReport;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;

/**
 * Checks of a finished batch run's pictures (used by {@code BatchPipelineIT}, which makes the run):
 * every job with a final.mp4 has its contact sheet, and the run report opened in headless Chromium
 * (Debian's {@code chromium}; {@code .ci/run} installs it) loads with no console message, marks on
 * every chart and every gallery image loaded (the page's own load check, read from the DOM Chromium
 * dumps). Keeps {@code target/report.html} and {@code target/report-screenshot.png} for a person.
 */
public final class RunPictures {
  private RunPictures() {}

  /** Chromium on the PATH, or null. */
  public static String chromium() {
    for (String c : List.of("chromium", "chromium-browser", "google-chrome")) {
      for (String p : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
        if (Files.isExecutable(Paths.get(p, c))) {
          return Paths.get(p, c).toString();
        }
      }
    }
    return null;
  }

  /** Every job of {@code warehouse} with a final.mp4 has its contact sheet, a PNG ≤ 2 MB. */
  public static void assertContactSheets(Path warehouse) throws Exception {
    // Every job with a final.mp4 has its contact sheet beside it, named in its job_results row.
    long videos =
        PipelineRuns.count(
            warehouse, "SELECT count(*) FROM job_results WHERE output_uri IS NOT NULL");
    assertThat(videos, greaterThan(0L));
    assertThat(
        PipelineRuns.count(
            warehouse,
            "SELECT count(*) FROM job_results WHERE output_uri IS NOT NULL AND contact_sheet_uri ="
                + " replace(output_uri, 'final.mp4', 'contact_sheet.png')"),
        equalTo(videos));
    for (var row :
        PipelineRuns.rows(
            warehouse,
            "SELECT contact_sheet_uri FROM job_results WHERE contact_sheet_uri IS NOT NULL")) {
      Path sheet = Paths.get((String) row.get("contact_sheet_uri"));
      assertThat(sheet + " size", Files.size(sheet), lessThanOrEqualTo(2_000_000L));
      assertThat(sheet + " is a PNG", ImageIO.read(sheet.toFile()) != null, equalTo(true));
    }
  }

  /** Writes the report of {@code warehouse} into {@code out} and checks it in Chromium. */
  public static void assertReportInBrowser(String chromium, Path warehouse, Path out, Path dir)
      throws Exception {
    Path report = out.resolve("report.html");
    ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    int status =
        RunReport.run(
            new String[] {"--warehouse=duckdb:" + warehouse, "--out=" + report, "--sql-dir=sql"},
            new PrintStream(stdout, true, StandardCharsets.UTF_8),
            new PrintStream(stderr, true, StandardCharsets.UTF_8));
    assertThat(stderr.toString(StandardCharsets.UTF_8), status, equalTo(0));
    Files.createDirectories(Paths.get("target"));
    Files.copy(
        report, Paths.get("target/report.html"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);

    Browser dom = chromium(dir, chromium, "--dump-dom", report);
    Path screenshot = Paths.get("target/report-screenshot.png").toAbsolutePath();
    Browser shot =
        chromium(dir, chromium, "--screenshot=" + screenshot, report, "--window-size=1000,4000");

    assertThat("console errors:\n" + dom.log, dom.consoleErrors(), empty());
    assertThat("console errors:\n" + shot.log, shot.consoleErrors(), empty());
    assertThat(
        "the page's load check ran", dom.out.contains("data-checked=\"true\""), equalTo(true));
    assertThat(attribute(dom.out, "data-images-broken"), equalTo(0));
    // Laid out by the browser: no chart label over another (a legend over rotated ticks, say).
    assertThat(attribute(dom.out, "data-text-overlaps"), equalTo(0));
    assertThat(
        attribute(dom.out, "data-images-loaded"),
        equalTo(
            (int)
                Math.min(
                    12,
                    PipelineRuns.count(
                        warehouse,
                        "SELECT count(*) FROM job_results WHERE state = 'DELIVERED' AND"
                            + " contact_sheet_uri IS NOT NULL"))));
    assertThat(attribute(dom.out, "data-images-loaded"), greaterThan(0));
    List<String> charts = new ArrayList<>();
    Matcher svg =
        Pattern.compile("<svg class=\"chart\" id=\"([^\"]+)\"(.*?)</svg>", Pattern.DOTALL)
            .matcher(dom.out);
    while (svg.find()) {
      charts.add(svg.group(1));
      int marks = count(svg.group(2), "class=\"mark\"");
      assertThat(svg.group(1) + " has marks", marks, greaterThan(0));
    }
    assertThat(charts.size(), equalTo(RunReport.CHARTS.size()));
    assertThat(Files.size(screenshot), greaterThan(10_000L));
  }

  private static int count(String s, String what) {
    int n = 0;
    for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) {
      n++;
    }
    return n;
  }

  private static int attribute(String dom, String name) {
    Matcher m = Pattern.compile(name + "=\"(\\d+)\"").matcher(dom);
    assertThat(name + " in the DOM", m.find(), equalTo(true));
    return Integer.parseInt(m.group(1));
  }

  /** What one headless Chromium run printed: stdout (the DOM) and its log (stderr). */
  record Browser(String out, String log) {
    /**
     * Every console message Chromium logged. Headless Chromium logs each console message as {@code
     * INFO:CONSOLE(line)} whatever its level (console.error included, uncaught exceptions too); the
     * report logs nothing but errors, so any message fails the test.
     */
    List<String> consoleErrors() {
      List<String> errors = new ArrayList<>();
      for (String line : log.split("\n")) {
        if (line.contains(":CONSOLE")) {
          errors.add(line);
        }
      }
      return errors;
    }
  }

  private static Browser chromium(
      Path dir, String chromium, String action, Path page, String... more) throws Exception {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--user-data-dir=" + dir.resolve("chromium-profile"),
                "--enable-logging=stderr",
                "--v=0",
                "--virtual-time-budget=10000",
                action));
    cmd.addAll(List.of(more));
    cmd.add(page.toUri().toString());
    Path stdout = dir.resolve("chromium.out");
    Path stderr = dir.resolve("chromium.err");
    Process p =
        new ProcessBuilder(cmd)
            .redirectOutput(stdout.toFile())
            .redirectError(stderr.toFile())
            .start();
    if (!p.waitFor(3, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError("chromium did not finish in 3 minutes: " + cmd);
    }
    String log = Files.readString(stderr, StandardCharsets.UTF_8);
    assertThat("chromium exit status; log:\n" + log, p.exitValue(), equalTo(0));
    return new Browser(Files.readString(stdout, StandardCharsets.UTF_8), log);
  }
}
