package com.aiprod.pipeline.audit;

import com.aiprod.pipeline.kernel.AuditEvents;
import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.model.AuditStatus;
import com.aiprod.pipeline.model.AuditType;
import com.aiprod.pipeline.model.AuthFailure;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.transforms.Count;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.FlatMapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.windowing.AfterPane;
import org.apache.beam.sdk.transforms.windowing.AfterWatermark;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.transforms.windowing.DefaultTrigger;
import org.apache.beam.sdk.transforms.windowing.FixedWindows;
import org.apache.beam.sdk.transforms.windowing.GlobalWindows;
import org.apache.beam.sdk.transforms.windowing.IntervalWindow;
import org.apache.beam.sdk.transforms.windowing.PaneInfo;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.joda.time.Duration;

/**
 * SECURITY_ALERT for bursts of authentication failures (DESIGN §9): counts the failures
 * Authenticate emits ({@link AuthFailure}, the keys of its AUTH_FAILURE events) per claimed
 * principal and per source in fixed one-minute windows of event time; a key with {@value
 * #THRESHOLD} or more failures in a window raises one alert for that window. The alert fires as
 * soon as the {@value #THRESHOLD}th failure is counted (an early pane), not when the watermark
 * closes the minute: a security alert should not wait, and a streaming run stopped or restarted
 * before the window closes would otherwise lose it. Only a window's first pane can alert
 * (accumulating panes: later ones repeat the count), so each key and minute alerts once; {@code
 * failures} in the alert is the count when it fired. Output is re-windowed into the global window
 * to join the rest of the audit trail.
 */
public final class DetectAuthFailureBursts
    extends PTransform<PCollection<AuthFailure>, PCollection<AuditEvent>> {
  public static final int THRESHOLD = 20;
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final AuditEvents audit;

  public DetectAuthFailureBursts(AuditEvents audit) {
    this.audit = audit;
  }

  @Override
  public PCollection<AuditEvent> expand(PCollection<AuthFailure> failures) {
    return failures
        .apply(
            "KeyByPrincipalAndSource",
            FlatMapElements.into(
                    TypeDescriptors.kvs(TypeDescriptors.strings(), TypeDescriptors.strings()))
                .via(DetectAuthFailureBursts::keys))
        .apply(
            "PerMinute",
            Window.<KV<String, String>>into(FixedWindows.of(Duration.standardMinutes(1)))
                .triggering(
                    AfterWatermark.pastEndOfWindow()
                        .withEarlyFirings(AfterPane.elementCountAtLeast(THRESHOLD)))
                .withAllowedLateness(Duration.ZERO)
                .accumulatingFiredPanes())
        .apply("CountFailures", Count.perKey())
        .apply("RaiseAlerts", ParDo.of(new AlertFn(audit)))
        .apply(
            "BackToGlobalWindow",
            // The default trigger again, as every other audit event has (Flatten needs them equal).
            Window.<AuditEvent>into(new GlobalWindows())
                .triggering(DefaultTrigger.of())
                .withAllowedLateness(Duration.ZERO)
                .discardingFiredPanes());
  }

  static List<KV<String, String>> keys(AuthFailure f) {
    List<KV<String, String>> out = new ArrayList<>(2);
    if (f.getClaimedUid() != null) {
      out.add(KV.of("principal:" + f.getClaimedUid(), f.getEventId()));
    }
    if (f.getSource() != null) {
      out.add(KV.of("source:" + f.getSource(), f.getEventId()));
    }
    return out;
  }

  static final class AlertFn extends DoFn<KV<String, Long>, AuditEvent> {
    private final AuditEvents audit;

    AlertFn(AuditEvents audit) {
      this.audit = audit;
    }

    @ProcessElement
    public void process(
        @Element KV<String, Long> count,
        BoundedWindow window,
        PaneInfo pane,
        OutputReceiver<AuditEvent> out) {
      if (pane.getIndex() != 0 || count.getValue() < THRESHOLD) {
        return;
      }
      IntervalWindow w = (IntervalWindow) window;
      String key = count.getKey();
      ObjectNode d =
          AuditEvents.details()
              .put("reason", "authentication failure burst")
              .put("key", key)
              .put("failures", count.getValue())
              .put("threshold", THRESHOLD)
              .put("window_start", w.start().toString())
              .put("window_end", w.end().toString());
      out.output(
          audit
              .event(AuditType.SECURITY_ALERT, AuditStatus.ALERT, "auth_failure_burst")
              .aboutMessage(
                  null,
                  null,
                  key.startsWith("principal:") ? key.substring("principal:".length()) : null)
              .resource(key)
              .details(d)
              .at(w.maxTimestamp().getMillis())
              .discriminator(key + "@" + w.start())
              .build());
    }
  }
}
