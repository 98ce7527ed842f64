package com.aiprod.pipeline.flink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The REST API of a remote Flink cluster ({@code --flinkMaster=HOST:PORT}), for what {@code main}
 * cannot see in its own JVM when the job runs elsewhere: the job's live counters (namespace {@value
 * LiveCounters#NAMESPACE}, summed over every operator and subtask from the vertices' metrics), and
 * stop with a savepoint ({@code POST /jobs/:id/stop}, the REST form of {@code flink stop}).
 *
 * <p>Flink metrics are not part of a checkpoint: after a failover the counters start again from
 * zero while the restored state keeps what was counted before, so they count work since the last
 * (re)start of the job, not its total.
 */
public final class FlinkRest {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * A counter in a vertex's aggregated metric list: {@code [operator.]aiprod<d><name>}, where
   * {@code <d>} is the scope delimiter Beam read on the TaskManager ({@code .} or {@code _}).
   */
  private static final Pattern OUR_COUNTER =
      Pattern.compile("(?:^|\\.)" + LiveCounters.NAMESPACE + "[._]([A-Za-z0-9_]+)$");

  private final String base;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  /** A client of the cluster whose REST endpoint is {@code master} ({@code HOST:PORT}). */
  public FlinkRest(String master) {
    String m = master.trim();
    this.base = (m.startsWith("http://") || m.startsWith("https://") ? m : "http://" + m);
  }

  /** Our counter's name in a REST metric id, or null when the id is not one of ours. */
  static String counterName(String metricId) {
    Matcher m = OUR_COUNTER.matcher(metricId);
    return m.find() ? m.group(1) : null;
  }

  /** Whether {@code --flinkMaster} names a remote cluster (not embedded Flink). */
  public static boolean isRemote(String master) {
    return master != null
        && !master.isBlank()
        && !List.of("[local]", "[auto]", "[collection]").contains(master.trim());
  }

  /** The REST base URL, e.g. {@code http://127.0.0.1:8081}. */
  public String baseUrl() {
    return base;
  }

  /** The newest job named {@code jobName} (the Beam job name is the Flink job name), if any. */
  public Optional<String> jobId(String jobName) throws IOException {
    JsonNode jobs = get("/jobs/overview").path("jobs");
    String best = null;
    long bestStart = Long.MIN_VALUE;
    for (JsonNode j : jobs) {
      if (jobName.equals(j.path("name").asText()) && j.path("start-time").asLong() > bestStart) {
        best = j.path("jid").asText();
        bestStart = j.path("start-time").asLong();
      }
    }
    return Optional.ofNullable(best);
  }

  /** The job's state as Flink names it ({@code RUNNING}, {@code RESTARTING}, {@code FINISHED}…). */
  public String state(String jobId) throws IOException {
    return get("/jobs/" + jobId).path("state").asText();
  }

  /** Whether the job is RUNNING with every task of every vertex running (a savepoint can start). */
  public boolean allTasksRunning(String jobId) throws IOException {
    JsonNode job = get("/jobs/" + jobId);
    if (!"RUNNING".equals(job.path("state").asText())) {
      return false;
    }
    for (JsonNode v : job.path("vertices")) {
      if (!"RUNNING".equals(v.path("status").asText())) {
        return false;
      }
    }
    return true;
  }

  /** The job's failures so far, one line each: time, task, exception (for logs). */
  public List<String> failures(String jobId) throws IOException {
    List<String> out = new ArrayList<>();
    for (JsonNode e :
        get("/jobs/" + jobId + "/exceptions").path("exceptionHistory").path("entries")) {
      out.add(
          e.path("timestamp").asLong()
              + " "
              + e.path("taskName").asText()
              + ": "
              + e.path("exceptionName").asText());
    }
    return out;
  }

  /** Checkpoints of the job completed so far (over every restart of it). */
  public long completedCheckpoints(String jobId) throws IOException {
    return get("/jobs/" + jobId + "/checkpoints").path("counts").path("completed").asLong();
  }

  /** Our counters by name (without the namespace), summed over every operator and subtask. */
  public Map<String, Long> counters(String jobId) throws IOException {
    Map<String, Long> out = new TreeMap<>();
    for (JsonNode v : get("/jobs/" + jobId).path("vertices")) {
      String path = "/jobs/" + jobId + "/vertices/" + v.path("id").asText() + "/subtasks/metrics";
      List<String> ids = new ArrayList<>();
      for (JsonNode m : get(path)) {
        String id = m.path("id").asText();
        if (OUR_COUNTER.matcher(id).find()) {
          ids.add(id);
        }
      }
      // A few ids per request: they go in the query string.
      for (int i = 0; i < ids.size(); i += 20) {
        String wanted = String.join(",", ids.subList(i, Math.min(ids.size(), i + 20)));
        String q = "?agg=sum&get=" + URLEncoder.encode(wanted, StandardCharsets.UTF_8);
        for (JsonNode m : get(path + q)) {
          Matcher name = OUR_COUNTER.matcher(m.path("id").asText());
          if (name.find()) {
            out.merge(name.group(1), Math.round(m.path("sum").asDouble()), Long::sum);
          }
        }
      }
    }
    return out;
  }

  /**
   * Stops the job with a savepoint in {@code targetDirectory} (sources end first, so nothing after
   * the savepoint is processed) and waits for it; returns the savepoint's path.
   */
  public String stopWithSavepoint(String jobId, String targetDirectory, Duration timeout)
      throws IOException {
    String body =
        JSON.writeValueAsString(Map.of("targetDirectory", targetDirectory, "drain", false));
    JsonNode trigger = send("POST", "/jobs/" + jobId + "/stop", body);
    String requestId = trigger.path("request-id").asText();
    long until = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < until) {
      JsonNode s = get("/jobs/" + jobId + "/savepoints/" + requestId);
      if ("COMPLETED".equals(s.path("status").path("id").asText())) {
        JsonNode op = s.path("operation");
        if (op.has("failure-cause")) {
          throw new IOException(
              "stop with savepoint of " + jobId + " failed: " + op.path("failure-cause"));
        }
        return op.path("location").asText();
      }
      sleep(500);
    }
    throw new IOException("stop with savepoint of " + jobId + " did not finish in " + timeout);
  }

  private JsonNode get(String path) throws IOException {
    return send("GET", path, null);
  }

  private JsonNode send(String method, String path, String body) throws IOException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
    b =
        body == null
            ? b.method(method, HttpRequest.BodyPublishers.noBody())
            : b.header("Content-Type", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofString(body));
    HttpResponse<String> r;
    try {
      r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted: " + method + " " + path, e);
    }
    if (r.statusCode() / 100 != 2) {
      throw new IOException(
          method + " " + base + path + ": HTTP " + r.statusCode() + " " + r.body());
    }
    return JSON.readTree(r.body());
  }

  private static void sleep(long millis) throws IOException {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }
}
