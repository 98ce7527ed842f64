package com.aiprod.pipeline.testing;

import com.aiprod.pipeline.tools.SignSamples;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * What the pipeline ITs share: signing the samples (each line names its expected outcome in {@code
 * "expect"}), running the bundled jar as a subprocess, and reading each message's outcome back from
 * the DuckDB warehouse.
 */
public final class PipelineRuns {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private PipelineRuns() {}

  /** The bundled jar, as {@code mvn package} leaves it. */
  public static Path jar() {
    return Paths.get("target/aiprod-pipeline-bundled.jar").toAbsolutePath();
  }

  /**
   * Signs {@code samples} into {@code target}; returns each line's expected outcome by message id
   * ({@code <target>:<line>}, the batch message id), in line order.
   */
  public static Map<String, String> sign(Path samples, Path target, Path auth, String project)
      throws Exception {
    Map<String, String> expectations = new LinkedHashMap<>();
    int line = 0;
    for (String s : Files.readAllLines(samples.toAbsolutePath(), StandardCharsets.UTF_8)) {
      if (!s.isBlank()) {
        expectations.put(target + ":" + (++line), MAPPER.readTree(s).get("expect").asText());
      }
    }
    SignSamples.sign(samples.toAbsolutePath(), target, auth, project);
    return expectations;
  }

  /**
   * Line numbers (1-based, non-blank lines) of {@code samples} whose {@code job_id} attribute
   * repeats an earlier line's: Pub/Sub's {@code idAttribute} dedup drops them in streaming.
   */
  public static Set<Integer> repeatedJobIds(Path samples) throws IOException {
    Set<String> seen = new HashSet<>();
    Set<Integer> repeats = new HashSet<>();
    int line = 0;
    for (String s : Files.readAllLines(samples.toAbsolutePath(), StandardCharsets.UTF_8)) {
      if (s.isBlank()) {
        continue;
      }
      line++;
      JsonNode id = MAPPER.readTree(s).path("attributes").path("job_id");
      if (id.isTextual() && !seen.add(id.asText())) {
        repeats.add(line);
      }
    }
    return repeats;
  }

  /** A finished subprocess: its exit status and everything it printed. */
  public record Run(int exitStatus, String output, Duration took) {
    /** The last 6,000 characters of the output, for assertion messages. */
    public String tail() {
      return output.length() > 6000 ? output.substring(output.length() - 6000) : output;
    }
  }

  /**
   * Runs {@code java -jar <bundled jar> args...} with {@code NO_GCE_CHECK=true}; destroys it after
   * {@code timeout} (exit status -1 then).
   */
  public static Run runJar(List<String> args, Duration timeout)
      throws IOException, InterruptedException {
    return runJar(List.of(), args, timeout);
  }

  /** As {@link #runJar(List, Duration)}, with JVM options ({@code -Xmx512m}, …) before the jar. */
  public static Run runJar(List<String> jvmArgs, List<String> args, Duration timeout)
      throws IOException, InterruptedException {
    Path jar = jar();
    if (!Files.exists(jar)) {
      throw new IllegalStateException(
          "run `mvn package` first: the IT runs the bundled jar " + jar);
    }
    List<String> command = new ArrayList<>();
    command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmArgs);
    command.add("-jar");
    command.add(jar.toString());
    command.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().put("NO_GCE_CHECK", "true");
    long start = System.nanoTime();
    Process process = pb.start();
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    Thread pump =
        new Thread(
            () -> {
              try {
                process.getInputStream().transferTo(log);
              } catch (IOException ignored) {
                // the process ended
              }
            });
    pump.start();
    boolean ended = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (!ended) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
    pump.join(10_000);
    return new Run(
        ended ? process.exitValue() : -1,
        log.toString(StandardCharsets.UTF_8),
        Duration.ofNanos(System.nanoTime() - start));
  }

  /** A read-only connection to a local DuckDB warehouse (the run that wrote it has ended). */
  public static Connection readWarehouse(Path warehouse) throws java.sql.SQLException {
    Properties props = new Properties();
    props.setProperty("duckdb.read_only", "true");
    return DriverManager.getConnection("jdbc:duckdb:" + warehouse, props);
  }

  /** Every row of {@code sql} on the warehouse, column label to value, in result order. */
  public static List<Map<String, Object>> rows(Path warehouse, String sql) throws Exception {
    try (Connection c = readWarehouse(warehouse);
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      List<Map<String, Object>> out = new ArrayList<>();
      java.sql.ResultSetMetaData md = rs.getMetaData();
      while (rs.next()) {
        Map<String, Object> row = new java.util.LinkedHashMap<>();
        for (int i = 1; i <= md.getColumnCount(); i++) {
          row.put(md.getColumnLabel(i), rs.getObject(i));
        }
        out.add(row);
      }
      return out;
    }
  }

  /** The first column of the first row of {@code sql} on the warehouse (a count). */
  public static long count(Path warehouse, String sql) throws Exception {
    try (Connection c = readWarehouse(warehouse);
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /**
   * Each message's outcome in the warehouse by message id: {@code STATE} or {@code
   * STATE:REASON_CODE} for a job, {@code dead_letter:REASON_CODE} for a dead letter (the format of
   * the samples' {@code "expect"}).
   */
  public static Map<String, String> outcomes(Path warehouse) throws Exception {
    Map<String, String> actual = new HashMap<>();
    try (Connection c = readWarehouse(warehouse);
        Statement st = c.createStatement()) {
      try (ResultSet rs =
          st.executeQuery("SELECT message_id, state, reason_code FROM job_results")) {
        while (rs.next()) {
          String reason = rs.getString(3);
          actual.put(
              rs.getString(1), reason == null ? rs.getString(2) : rs.getString(2) + ":" + reason);
        }
      }
      try (ResultSet rs = st.executeQuery("SELECT message_id, reason_code FROM dead_letters")) {
        while (rs.next()) {
          actual.put(rs.getString(1), "dead_letter:" + rs.getString(2));
        }
      }
    }
    return actual;
  }

  /** "id: expected X, got Y" for every expected outcome the actual ones do not have. */
  public static List<String> mismatches(Map<String, String> expected, Map<String, String> actual) {
    List<String> out = new ArrayList<>();
    expected.forEach(
        (id, want) -> {
          if (!want.equals(actual.get(id))) {
            out.add(id + ": expected " + want + ", got " + actual.get(id));
          }
        });
    return out;
  }

  /** How many messages have each outcome. */
  public static Map<String, Long> countByOutcome(Iterable<String> outcomes) {
    Map<String, Long> counts = new TreeMap<>();
    outcomes.forEach(o -> counts.merge(o, 1L, Long::sum));
    return counts;
  }

  /**
   * A sample line's request (before its {@code expect}): enterprise user {@code uid} of {@code
   * tenant} asks for job {@code jobId}; with {@code content}, a 5 s quick_social final, without (a
   * null content), a cancel of it.
   */
  public static ObjectNode sampleRequest(String jobId, String uid, String tenant, String content) {
    ObjectNode n = MAPPER.createObjectNode();
    n.putObject("identity")
        .put("uid", uid)
        .put("tenant", tenant)
        .put("role", "user")
        .put("plan", "enterprise");
    if (content == null) {
      n.putObject("attributes").put("job_id", jobId).put("action", "cancel");
      n.putObject("data");
      return n;
    }
    n.putObject("attributes").put("job_id", jobId);
    n.putObject("data")
        .put("content", content)
        .put("preset", "quick_social")
        .put("mode", "final")
        .put("duration_sec", 5);
    return n;
  }
}
