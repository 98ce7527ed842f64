package com.aiprod.pipeline.flink;

import java.util.Properties;
import org.apache.flink.metrics.reporter.MetricReporter;
import org.apache.flink.metrics.reporter.MetricReporterFactory;

/** Creates {@link LiveCounters} (Flink finds factories through {@code META-INF/services}). */
public final class LiveCountersFactory implements MetricReporterFactory {
  @Override
  public MetricReporter createMetricReporter(Properties properties) {
    return new LiveCounters();
  }
}
