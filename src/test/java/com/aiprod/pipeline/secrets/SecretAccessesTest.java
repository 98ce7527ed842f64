package com.aiprod.pipeline.secrets;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.not;

import com.aiprod.pipeline.kernel.AuditEvents;
import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.model.AuditStatus;
import com.aiprod.pipeline.model.AuditType;
import java.util.List;
import org.junit.jupiter.api.Test;

/** SECRET_ACCESS events of resolutions and refreshes, with the real client and loopback server. */
class SecretAccessesTest {
  private static final AuditEvents AUDIT = new AuditEvents("staging");

  @Test
  void oneEventPerResolvedVersionAndAnotherAfterRotation() throws Exception {
    try (LocalSecretManager server = new LocalSecretManager("demo-aiprod");
        SecretResolver resolver =
            SecretSource.secretManager("demo-aiprod", server.endpoint()).newResolver()) {
      server.addVersion("runway-api-key", "rk-1-value");
      SecretAccesses accesses = new SecretAccesses(resolver);
      accesses.resolve("runway-api-key");
      accesses.resolve("runway-api-key");
      List<AuditEvent> first = accesses.drainEvents(AUDIT, "run-a", "RenderShots", 1000L);
      assertThat(first, hasSize(1));
      AuditEvent e = first.get(0);
      assertThat(e.getEventType(), equalTo(AuditType.SECRET_ACCESS.name()));
      assertThat(e.getStatus(), equalTo(AuditStatus.SUCCESS.wire()));
      assertThat(
          e.getResource(),
          equalTo("secretmanager:projects/demo-aiprod/secrets/runway-api-key/versions/1"));
      assertThat(
          e.getDetails(),
          equalTo(
              "{\"secret\":\"runway-api-key\",\"version\":\"1\",\"source\":\"secretmanager:projects/demo-aiprod\","
                  + "\"run\":\"run-a\",\"accessor\":\"RenderShots\"}"));
      assertThat(e.toString(), not(containsString("rk-1-value")));
      assertThat(accesses.drainEvents(AUDIT, "run-a", "RenderShots", 2000L), empty());

      // Same run, same version, another worker: the same event id (one row).
      SecretAccesses other = new SecretAccesses(resolver);
      other.resolve("runway-api-key");
      assertThat(
          other.drainEvents(AUDIT, "run-a", "RenderShots", 3000L).get(0).getEventId(),
          equalTo(e.getEventId()));

      server.addVersion("runway-api-key", "rk-2-value");
      assertThat(accesses.refresh("runway-api-key").version(), equalTo("2"));
      List<AuditEvent> afterRotation = accesses.drainEvents(AUDIT, "run-a", "RenderShots", 4000L);
      assertThat(afterRotation, hasSize(1));
      assertThat(
          afterRotation.get(0).getResource(),
          equalTo("secretmanager:projects/demo-aiprod/secrets/runway-api-key/versions/2"));
      assertThat(afterRotation.get(0).getEventId(), not(equalTo(e.getEventId())));
      assertThat(
          server.requests,
          contains(
              "GET /v1/projects/demo-aiprod/secrets/runway-api-key/versions/latest:access",
              "GET /v1/projects/demo-aiprod/secrets/runway-api-key/versions/latest:access"));
    }
  }
}
