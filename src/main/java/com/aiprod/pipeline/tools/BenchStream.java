package com.aiprod.pipeline.tools;

import com.aiprod.pipeline.auth.AuthConfig;
import com.aiprod.pipeline.auth.DevAuthKeys;
import com.aiprod.pipeline.auth.DevTokens;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.api.core.ApiFuture;
import com.google.api.core.ApiFutureCallback;
import com.google.api.core.ApiFutures;
import com.google.common.util.concurrent.MoreExecutors;
import com.google.protobuf.ByteString;
import com.google.pubsub.v1.PubsubMessage;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code bench-stream}: the streaming figures of docs/PERFORMANCE.md, measured from outside a
 * running streaming pipeline. Publishes signed estimate requests ({@code brand_campaign}, 60 s,
 * {@code --users} users' dev tokens) to the pipeline's topic at {@code --rate} messages per second
 * for {@code --duration} seconds, recording each message's send time; polls the Firestore emulator
 * ({@code batchGet} of the documents not yet terminal, once a second) until every job document is
 * terminal; then prints one line per figure: {@code figure=NAME value=X unit=U ... load=L}.
 *
 * <p>Latency is a terminal document's {@code updated_at} (the time of its last history entry) minus
 * its message's send time; {@code visible} latency is when this tool first read the document
 * terminal (one poll a second) minus the send time. Sustained rate: the middle 80 % of the terminal
 * documents by {@code updated_at}, divided by the time they span (offer more than the pipeline
 * takes to measure its capacity). With {@code --pipeline-pid}: the pipeline's CPU per message (its
 * CPU time over this run) and, with {@code --first-document}, the first terminal document's {@code
 * updated_at} after the process started.
 */
@Command(
    name = "bench-stream",
    sortOptions = false,
    description = {
      "Publishes signed estimate requests at a rate to a running streaming pipeline's topic, waits"
          + " for their terminal job documents in the Firestore emulator and prints the streaming"
          + " figures (sustained rate, latency percentiles, first document, CPU per message)."
    })
public final class BenchStream extends Tool {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** The terminal states of a job document (DESIGN §6). */
  static final Set<String> TERMINAL =
      Set.of("ESTIMATED", "DELIVERED", "NEEDS_REVIEW", "REJECTED", "FAILED", "CANCELLED");

  private static final int BATCH_GET_NAMES = 300;

  @Option(
      names = "--topic",
      required = true,
      paramLabel = "projects/P/topics/T",
      description = "The topic the pipeline's subscription reads.")
  String topic;

  @Option(
      names = "--pubsub-root-url",
      paramLabel = "URL",
      description =
          "http://HOST:PORT of the Pub/Sub emulator (default http://$PUBSUB_EMULATOR_HOST).")
  String pubsubRootUrl;

  @Option(
      names = "--firestore-host",
      required = true,
      paramLabel = "HOST:PORT",
      description = "The Firestore emulator the pipeline writes to.")
  String firestoreHost;

  @Option(
      names = "--project",
      defaultValue = AuthConfig.DEV_DEFAULT_PROJECT,
      paramLabel = "PROJECT",
      description = "The Firestore project (default ${DEFAULT-VALUE}).")
  String project;

  @Option(
      names = "--rate",
      defaultValue = "100",
      paramLabel = "MSG_PER_S",
      description = "Messages published per second (default ${DEFAULT-VALUE}).")
  double rate;

  @Option(
      names = "--duration",
      defaultValue = "60",
      paramLabel = "SECONDS",
      description = "How long to publish (default ${DEFAULT-VALUE}).")
  double duration;

  @Option(
      names = "--warmup",
      defaultValue = "0",
      paramLabel = "SECONDS",
      description =
          "Messages sent in the first SECONDS are left out of the latency figures (default"
              + " ${DEFAULT-VALUE}).")
  double warmup;

  @Option(
      names = "--users",
      defaultValue = "50",
      paramLabel = "N",
      description = "Distinct users (tokens), over 5 tenants (default ${DEFAULT-VALUE}).")
  int users;

  @Option(
      names = "--timeout",
      defaultValue = "180",
      paramLabel = "SECONDS",
      description =
          "Longest wait for the last terminal document after publishing (default"
              + " ${DEFAULT-VALUE}).")
  double timeout;

  @Option(
      names = "--pipeline-pid",
      paramLabel = "PID",
      description = "The pipeline's process: its start time and CPU time.")
  Long pipelinePid;

  @Option(
      names = "--first-document",
      description =
          "Also print the first terminal document after the pipeline process started (publish"
              + " right after starting it).")
  boolean firstDocument;

  @Option(
      names = "--label",
      paramLabel = "NAME",
      description = "Prefix of the job ids (default bench-<epoch ms>).")
  String label;

  /** One published message: its document and its send time; filled in as it is read back. */
  static final class Sent {
    final String tenant;
    final String jobId;
    final long sentAt;
    volatile String messageId;
    volatile String state;
    volatile long updatedAt = -1;
    volatile long seenAt = -1;

    Sent(String tenant, String jobId, long sentAt) {
      this.tenant = tenant;
      this.jobId = jobId;
      this.sentAt = sentAt;
    }
  }

  @Mixin DevAuthOptions devAuth;

  @Override
  public Integer call() throws Exception {
    if (rate <= 0 || duration <= 0 || users < 1) {
      throw usage("--rate, --duration and --users must be positive");
    }
    ProcessHandle pipeline = null;
    if (pipelinePid != null) {
      pipeline =
          ProcessHandle.of(pipelinePid)
              .orElseThrow(() -> usage("no process " + pipelinePid + " (--pipeline-pid)"));
    }
    String prefix = label != null ? label : "bench-" + System.currentTimeMillis();
    List<String> tokens = tokens(DevAuthKeys.loadOrCreate(devAuth.dir), devAuth.project, users);
    long cpuBefore = cpuMillis(pipeline);

    Publish pub = Publish.to(Publish.rootUrl(pubsubRootUrl));
    Publish.Connection connection = pub.connect(topic, org.threeten.bp.Duration.ofMillis(5));
    int total = (int) Math.round(rate * duration);
    List<Sent> sent = new ArrayList<>(total);
    AtomicInteger failed = new AtomicInteger();
    long start = System.currentTimeMillis();
    try {
      for (int i = 0; i < total; i++) {
        long due = start + Math.round(i * 1000.0 / rate);
        long wait = due - System.currentTimeMillis();
        if (wait > 0) {
          Thread.sleep(wait);
        }
        int user = i % users;
        String tenant = "bench-t" + (user % 5);
        String jobId = String.format(Locale.ROOT, "%s-%07d", prefix, i);
        Sent s = new Sent(tenant, jobId, System.currentTimeMillis());
        sent.add(s);
        ApiFuture<String> id = connection.publisher().publish(message(jobId, tokens.get(user), i));
        ApiFutures.addCallback(
            id,
            new ApiFutureCallback<String>() {
              @Override
              public void onSuccess(String messageId) {
                s.messageId = messageId;
              }

              @Override
              public void onFailure(Throwable t) {
                failed.incrementAndGet();
              }
            },
            MoreExecutors.directExecutor());
      }
      connection.publisher().publishAllOutstanding();
    } finally {
      connection.close();
    }
    long publishedUntil = System.currentTimeMillis();
    err()
        .printf(
            Locale.ROOT,
            "bench-stream: sent %d messages in %.1f s (%d failed); waiting for their documents%n",
            sent.size(),
            (publishedUntil - start) / 1000.0,
            failed.get());

    // Documents are polled after publishing so that polling takes no CPU from the measured run
    // while it goes; updated_at is the pipeline's own time, so the latency does not depend on it.
    long deadline = publishedUntil + Math.round(timeout * 1000);
    List<Sent> pending = new ArrayList<>(sent);
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    while (!pending.isEmpty() && System.currentTimeMillis() < deadline) {
      long t = System.currentTimeMillis();
      List<Sent> still = new ArrayList<>();
      for (int from = 0; from < pending.size(); from += BATCH_GET_NAMES) {
        List<Sent> chunk = pending.subList(from, Math.min(pending.size(), from + BATCH_GET_NAMES));
        read(http, chunk);
        for (Sent s : chunk) {
          if (s.updatedAt < 0) {
            still.add(s);
          }
        }
      }
      pending = still;
      long left = 1000 - (System.currentTimeMillis() - t);
      if (!pending.isEmpty() && left > 0) {
        Thread.sleep(left);
      }
    }
    long cpuAfter = cpuMillis(pipeline);
    String load =
        String.format(
            Locale.ROOT,
            "%.2f",
            ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    Figures f =
        Figures.of(
            sent,
            start + Math.round(warmup * 1000),
            pipeline == null
                ? -1
                : pipeline.info().startInstant().map(Instant::toEpochMilli).orElse(-1L));
    f.print(
        out(),
        rate,
        load,
        firstDocument,
        cpuBefore >= 0 && cpuAfter >= 0 ? cpuAfter - cpuBefore : -1,
        cpuAfter,
        (publishedUntil - start) / 1000.0);
    if (!pending.isEmpty() || failed.get() > 0) {
      err()
          .println(
              "bench-stream: "
                  + pending.size()
                  + " documents not terminal after "
                  + timeout
                  + " s, "
                  + failed.get()
                  + " messages not published");
      return 1;
    }
    return 0;
  }

  /** A token per user: 5 tenants, role user, plan pro (brand_campaign allowed). */
  static List<String> tokens(DevAuthKeys keys, String firebaseProject, int users) {
    DevTokens minter = new DevTokens(keys, firebaseProject);
    List<String> tokens = new ArrayList<>();
    for (int u = 0; u < users; u++) {
      tokens.add(
          minter.mint(
              String.format(Locale.ROOT, "bench-user-%02d", u),
              "bench-t" + (u % 5),
              "user",
              "pro",
              Duration.ofHours(6)));
    }
    return tokens;
  }

  /** A 60 s {@code brand_campaign} estimate request. */
  static PubsubMessage message(String jobId, String token, int i) {
    ObjectNode data = MAPPER.createObjectNode();
    data.put(
        "content",
        "Our new running shoe meets the city at night, take "
            + i
            + ". Neon reflections ripple in the rain. A runner sprints across an empty bridge."
            + " The logo glows on the final frame.");
    data.put("preset", "brand_campaign");
    data.put("mode", "estimate");
    data.put("duration_sec", 60);
    data.put("lang", "en");
    data.put("brand_id", "acme-shoes");
    try {
      return PubsubMessage.newBuilder()
          .setData(ByteString.copyFrom(MAPPER.writeValueAsBytes(data)))
          .putAttributes("job_id", jobId)
          .putAttributes("authorization", "Bearer " + token)
          .build();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Reads the documents of {@code chunk} (state and updated_at only) and fills in the terminal. */
  private void read(HttpClient http, List<Sent> chunk) throws IOException, InterruptedException {
    String base = "projects/" + project + "/databases/(default)/documents";
    ObjectNode body = MAPPER.createObjectNode();
    ArrayNode names = body.putArray("documents");
    for (Sent s : chunk) {
      names.add(base + "/tenants/" + s.tenant + "/jobs/" + s.jobId);
    }
    body.putObject("mask").putArray("fieldPaths").add("state").add("updated_at");
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(
                    URI.create("http://" + firestoreHost + "/v1/" + base + ":batchGet"))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .header("Authorization", "Bearer owner")
                .POST(HttpRequest.BodyPublishers.ofString(MAPPER.writeValueAsString(body)))
                .build(),
            HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    if (r.statusCode() != 200) {
      throw new IOException("Firestore batchGet: HTTP " + r.statusCode() + " " + r.body());
    }
    long now = System.currentTimeMillis();
    Map<String, Sent> byName = new ConcurrentHashMap<>();
    for (Sent s : chunk) {
      byName.put(base + "/tenants/" + s.tenant + "/jobs/" + s.jobId, s);
    }
    for (JsonNode e : MAPPER.readTree(r.body())) {
      JsonNode doc = e.get("found");
      if (doc == null) {
        continue;
      }
      Sent s = byName.get(doc.path("name").asText());
      JsonNode fields = doc.path("fields");
      String state = fields.path("state").path("stringValue").asText("");
      if (s == null || !TERMINAL.contains(state)) {
        continue;
      }
      s.state = state;
      s.seenAt = now;
      s.updatedAt =
          Instant.parse(fields.path("updated_at").path("timestampValue").asText()).toEpochMilli();
    }
  }

  /** The pipeline's CPU time so far (ms), or -1. */
  private static long cpuMillis(ProcessHandle p) {
    if (p == null) {
      return -1;
    }
    Optional<Duration> cpu = p.info().totalCpuDuration();
    return cpu.map(Duration::toMillis).orElse(-1L);
  }

  /** The figures of one run, from the messages as read back. */
  record Figures(
      int sent,
      int terminal,
      int estimated,
      double sustainedPerSecond,
      double[] latencySeconds,
      double[] visibleSeconds,
      double firstDocumentSeconds,
      double firstVisibleSeconds) {

    static Figures of(List<Sent> sent, long latencyFrom, long processStart) {
      List<Long> updated = new ArrayList<>();
      List<Double> latency = new ArrayList<>();
      List<Double> visible = new ArrayList<>();
      int estimated = 0;
      long first = Long.MAX_VALUE;
      long firstSeen = Long.MAX_VALUE;
      for (Sent s : sent) {
        if (s.updatedAt < 0) {
          continue;
        }
        updated.add(s.updatedAt);
        first = Math.min(first, s.updatedAt);
        firstSeen = Math.min(firstSeen, s.seenAt);
        if ("ESTIMATED".equals(s.state)) {
          estimated++;
        }
        if (s.sentAt >= latencyFrom) {
          latency.add((s.updatedAt - s.sentAt) / 1000.0);
          visible.add((s.seenAt - s.sentAt) / 1000.0);
        }
      }
      return new Figures(
          sent.size(),
          updated.size(),
          estimated,
          sustained(updated),
          sorted(latency),
          sorted(visible),
          processStart < 0 || updated.isEmpty() ? -1 : (first - processStart) / 1000.0,
          processStart < 0 || updated.isEmpty() ? -1 : (firstSeen - processStart) / 1000.0);
    }

    /**
     * Documents per second over the middle 80 % of the completion times (the 10th to the 90th
     * percentile): start-up and the tail after the last message are left out.
     */
    static double sustained(List<Long> completedAt) {
      if (completedAt.size() < 10) {
        return -1;
      }
      long[] t = completedAt.stream().mapToLong(Long::longValue).sorted().toArray();
      int lo = (int) Math.floor(t.length * 0.1);
      int hi = (int) Math.ceil(t.length * 0.9) - 1;
      long span = t[hi] - t[lo];
      return span <= 0 ? -1 : (hi - lo) * 1000.0 / span;
    }

    private static double[] sorted(List<Double> values) {
      double[] a = values.stream().mapToDouble(Double::doubleValue).toArray();
      Arrays.sort(a);
      return a;
    }

    /** The nearest-rank percentile {@code p} (0–100) of sorted values; -1 when there are none. */
    static double percentile(double[] sorted, double p) {
      if (sorted.length == 0) {
        return -1;
      }
      int rank = (int) Math.ceil(p / 100.0 * sorted.length);
      return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    void print(
        PrintStream out,
        double offered,
        String load,
        boolean firstDocument,
        long cpuMillis,
        long processCpuMillis,
        double publishSeconds) {
      String tail =
          String.format(
              Locale.ROOT,
              " offered=%.0f sent=%d terminal=%d estimated=%d load=%s",
              offered,
              sent,
              terminal,
              estimated,
              load);
      line(out, "stream_offered_rate", sent / publishSeconds, "msg/s", tail);
      line(out, "stream_sustained_rate", sustainedPerSecond, "msg/s", tail);
      int n = latencySeconds.length;
      line(out, "stream_latency_p50", percentile(latencySeconds, 50), "s", " n=" + n + tail);
      line(out, "stream_latency_p99", percentile(latencySeconds, 99), "s", " n=" + n + tail);
      line(out, "stream_latency_max", percentile(latencySeconds, 100), "s", " n=" + n + tail);
      line(
          out,
          "stream_visible_latency_p99",
          percentile(visibleSeconds, 99),
          "s",
          " n=" + n + " poll=1s" + tail);
      if (firstDocument) {
        line(out, "stream_first_document", firstDocumentSeconds, "s", tail);
        line(out, "stream_first_document_visible", firstVisibleSeconds, "s", " poll=1s" + tail);
        if (processCpuMillis >= 0) {
          line(out, "stream_process_cpu", processCpuMillis / 1000.0, "s", tail);
        }
      }
      if (cpuMillis >= 0 && terminal > 0) {
        line(out, "stream_cpu_per_msg", (double) cpuMillis / terminal, "ms", tail);
      }
      out.flush();
    }

    private static void line(PrintStream out, String name, double value, String unit, String tail) {
      out.printf(
          Locale.ROOT,
          "figure=%s value=%.3f unit=%s%s%n",
          name,
          value,
          unit,
          tail.replace("  ", " "));
    }
  }
}
