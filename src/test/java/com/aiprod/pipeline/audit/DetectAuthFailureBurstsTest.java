package com.aiprod.pipeline.audit;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import com.aiprod.pipeline.kernel.AuditEvents;
import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.model.AuthFailure;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.transforms.Count;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TimestampedValue;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.joda.time.Instant;
import org.junit.jupiter.api.Test;

class DetectAuthFailureBurstsTest {
  private static final AuditEvents AUDIT = new AuditEvents("dev");
  private static final long T0 = Instant.parse("2026-11-24T10:00:00Z").getMillis();

  private static TimestampedValue<AuthFailure> failure(
      int i, String claimed, String source, long at) {
    return TimestampedValue.of(
        AuthFailure.of(AuditEvents.eventId("m-" + i + "-" + at), claimed, source), new Instant(at));
  }

  @Test
  void twentyFailuresOfOnePrincipalInAMinuteRaiseOneAlertPerKey() {
    TestPipeline p = TestPipeline.create().enableAbandonedNodeEnforcement(false);
    List<TimestampedValue<AuthFailure>> events = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      events.add(failure(i, "mallory", "src-a", T0 + i * 1000));
    }
    // 19 failures of another principal from their own source: below the threshold.
    for (int i = 0; i < 19; i++) {
      events.add(failure(100 + i, "eve", "src-b", T0 + i * 1000));
    }
    PCollection<AuditEvent> alerts =
        p.apply(Create.timestamped(events)).apply(new DetectAuthFailureBursts(AUDIT));
    PAssert.that(
            alerts.apply(MapElements.into(TypeDescriptors.strings()).via(AuditEvent::getResource)))
        .containsInAnyOrder("principal:mallory", "source:src-a");
    PAssert.thatSingleton(alerts.apply(Count.globally())).isEqualTo(2L);
    p.run().waitUntilFinish();
  }

  @Test
  void failuresSpreadOverTwoMinutesDoNotAlert() {
    TestPipeline p = TestPipeline.create().enableAbandonedNodeEnforcement(false);
    List<TimestampedValue<AuthFailure>> events = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      events.add(failure(i, "mallory", "src-" + i, T0 + (i < 10 ? 0 : 60_000) + i));
    }
    PCollection<AuditEvent> alerts =
        p.apply(Create.timestamped(events)).apply(new DetectAuthFailureBursts(AUDIT));
    PAssert.that(alerts).empty();
    p.run().waitUntilFinish();
  }

  @Test
  void alertsAreSecurityAlertsWithTheirCount() {
    TestPipeline p = TestPipeline.create().enableAbandonedNodeEnforcement(false);
    List<TimestampedValue<AuthFailure>> events = new ArrayList<>();
    for (int i = 0; i < 25; i++) {
      events.add(failure(i, null, "subscription-x", T0 + i));
    }
    PCollection<AuditEvent> alerts =
        p.apply(Create.timestamped(events)).apply(new DetectAuthFailureBursts(AUDIT));
    PAssert.thatSingleton(alerts)
        .satisfies(
            a -> {
              assertThat(a.getEventType(), equalTo("SECURITY_ALERT"));
              assertThat(a.getStatus(), equalTo("alert"));
              // The count when the alert fired: the threshold was reached within the bundle.
              assertThat(a.getDetails(), containsString("\"threshold\":20"));
              int failures =
                  Integer.parseInt(a.getDetails().replaceAll(".*\"failures\":(\\d+).*", "$1"));
              assertThat(
                  failures,
                  org.hamcrest.Matchers.allOf(
                      org.hamcrest.Matchers.greaterThanOrEqualTo(20),
                      org.hamcrest.Matchers.lessThanOrEqualTo(25)));
              return null;
            });
    p.run().waitUntilFinish();
  }

  @Test
  void theAlertFiresWhenTheThresholdIsReachedNotWhenTheMinuteCloses() {
    TestPipeline p = TestPipeline.create().enableAbandonedNodeEnforcement(false);
    TestStream.Builder<AuthFailure> stream =
        TestStream.create(com.aiprod.pipeline.kernel.Coders.schema(AuthFailure.class))
            .advanceWatermarkTo(new Instant(T0));
    List<TimestampedValue<AuthFailure>> first = new ArrayList<>();
    for (int i = 0; i < 25; i++) {
      first.add(failure(i, "mallory", "src-a", T0 + i * 100));
    }
    List<TimestampedValue<AuthFailure>> later = new ArrayList<>();
    for (int i = 25; i < 30; i++) {
      later.add(failure(i, "mallory", "src-a", T0 + i * 100));
    }
    TestStream<AuthFailure> events =
        stream
            .addElements(
                first.get(0), first.subList(1, first.size()).toArray(TimestampedValue[]::new))
            .addElements(
                later.get(0), later.subList(1, later.size()).toArray(TimestampedValue[]::new))
            .advanceWatermarkToInfinity();
    PCollection<AuditEvent> alerts = p.apply(events).apply(new DetectAuthFailureBursts(AUDIT));
    // One alert per key, carrying the count when it fired (25), not the minute's total (30).
    PAssert.that(
            alerts.apply(
                MapElements.into(TypeDescriptors.strings())
                    .via(
                        a ->
                            a.getResource()
                                + " "
                                + a.getDetails().replaceAll(".*\"failures\":(\\d+).*", "$1"))))
        .containsInAnyOrder("principal:mallory 25", "source:src-a 25");
    p.run().waitUntilFinish();
  }
}
