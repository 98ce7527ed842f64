package com.aiprod.pipeline.audit;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import com.aiprod.pipeline.kernel.AuditEvents;
import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.model.AuditStatus;
import com.aiprod.pipeline.model.AuditType;
import com.aiprod.pipeline.secrets.SecretSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.Create;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code aiprod/security_alerts} counter the SECURITY_ALERT alert policy of terraform watches:
 * one per SECURITY_ALERT event signed, none for other events.
 */
class SecurityAlertCounterTest {
  private static final AuditEvents AUDIT = new AuditEvents("dev");

  @TempDir Path dir;

  @Test
  void countsEverySecurityAlertAndNothingElse() throws Exception {
    Path secrets = dir.resolve("secrets");
    Files.createDirectories(secrets);
    Path key = secrets.resolve(AuditSignatures.KEY_SECRET);
    Files.writeString(key, "bm90LWEtcmVhbC1rZXktYnV0LWxvbmctZW5vdWdoLTEyMzQ=\n");
    Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
    long t0 = 1_790_000_000_000L;
    List<AuditEvent> events =
        List.of(
            AUDIT
                .event(AuditType.SECURITY_ALERT, AuditStatus.ALERT, "forged_token")
                .aboutMessage("m-1", null, null)
                .details(AuditEvents.details().put("reason", "forged token"))
                .at(t0)
                .build(),
            AUDIT
                .event(AuditType.AUTH_FAILURE, AuditStatus.FAILURE, "authenticate")
                .aboutMessage("m-1", null, null)
                .details(AuditEvents.details().put("reason_code", "AUTH_INVALID"))
                .at(t0 + 1)
                .build(),
            AUDIT
                .event(AuditType.SECURITY_ALERT, AuditStatus.ALERT, "auth_failure_burst")
                .details(AuditEvents.details().put("failures", 20))
                .at(t0 + 2)
                .discriminator("burst")
                .build(),
            AUDIT
                .event(AuditType.AUTH_SUCCESS, AuditStatus.SUCCESS, "authenticate")
                .aboutMessage("m-2", "acme", "alice")
                .jobId("job-1")
                .at(t0 + 3)
                .build());
    Pipeline p =
        Pipeline.create(
            PipelineOptionsFactory.fromArgs("--runner=DirectRunner", "--jobName=alerts").create());
    p.apply(Create.of(events)).apply(new SignAuditEvents(SecretSource.dir(secrets), AUDIT));
    PipelineResult result = p.run();
    result.waitUntilFinish();

    long alerts = 0;
    for (MetricResult<Long> c :
        result
            .metrics()
            .queryMetrics(
                MetricsFilter.builder()
                    .addNameFilter(MetricNameFilter.named("aiprod", "security_alerts"))
                    .build())
            .getCounters()) {
      alerts += c.getAttempted();
    }
    assertThat(alerts, equalTo(2L));
  }
}
