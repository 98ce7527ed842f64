package com.aiprod.pipeline.flink;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricConfig;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.reporter.MetricReporter;

/**
 * Live values of our Beam counters (namespace {@value #NAMESPACE}) during an embedded Flink run,
 * for {@code main}'s progress line and {@code --stopAfterOutcomes}.
 *
 * <p>Why: in streaming, Beam's FlinkRunner hands user metrics to the {@code PipelineResult} only
 * when an operator closes (the job's end), so polling {@code result.metrics()} shows nothing while
 * the job runs. The same counters are also Flink metrics of the operators, updated after every
 * bundle; this Flink {@link MetricReporter}, registered in the embedded cluster's configuration
 * ({@link #configurationDirectory()}), keeps a reference to each of them, and {@link #snapshot()}
 * sums them per name across operators and subtasks. It sees only metrics of its own JVM, which is
 * the point: embedded Flink ({@code --flinkMaster=[local]}) runs in {@code main}'s JVM.
 */
public final class LiveCounters implements MetricReporter {
  /** Beam metrics namespace of our counters. */
  public static final String NAMESPACE = "aiprod";

  /** Name of the reporter in the Flink configuration. */
  static final String REPORTER = "aiprod_live";

  /** Each counter by its full Flink identifier (unique per operator and subtask). */
  private static final Map<String, Named> COUNTERS = new ConcurrentHashMap<>();

  private record Named(String name, Counter counter) {}

  @Override
  public void open(MetricConfig config) {}

  @Override
  public void close() {}

  @Override
  public void notifyOfAddedMetric(Metric metric, String name, MetricGroup group) {
    // Beam names the Flink counter "<namespace><scope delimiter><name>" in the operator's group.
    if (metric instanceof Counter c
        && name.length() > NAMESPACE.length() + 1
        && name.startsWith(NAMESPACE)) {
      COUNTERS.put(
          group.getMetricIdentifier(name), new Named(name.substring(NAMESPACE.length() + 1), c));
    }
  }

  @Override
  public void notifyOfRemovedMetric(Metric metric, String name, MetricGroup group) {
    // Kept: a closed operator's last count still counts.
  }

  /** Our counters by name (without the namespace), summed over every operator and subtask. */
  public static Map<String, Long> snapshot() {
    Map<String, Long> out = new TreeMap<>();
    COUNTERS.values().forEach(n -> out.merge(n.name(), n.counter().getCount(), Long::sum));
    return out;
  }

  /**
   * A new Flink configuration directory ({@code flink-conf.yaml}) that registers this reporter, for
   * {@code --flinkConfDir}; deleted when the JVM exits.
   */
  public static Path configurationDirectory() throws IOException {
    Path dir = Files.createTempDirectory("aiprod-flink-conf-");
    Path conf = dir.resolve("flink-conf.yaml");
    Files.writeString(
        conf,
        "metrics.reporter."
            + REPORTER
            + ".factory.class: "
            + LiveCountersFactory.class.getName()
            + "\n");
    conf.toFile().deleteOnExit();
    dir.toFile().deleteOnExit();
    return dir;
  }
}
