package com.aiprod.pipeline.audit;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItems;

import com.aiprod.pipeline.kernel.AuditEvents;
import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.model.AuditStatus;
import com.aiprod.pipeline.model.AuditType;
import com.aiprod.pipeline.persist.Deliver;
import com.aiprod.pipeline.persist.Warehouse;
import com.aiprod.pipeline.secrets.LocalSecretManager;
import com.aiprod.pipeline.secrets.SecretResolver;
import com.aiprod.pipeline.secrets.SecretSource;
import com.aiprod.pipeline.tools.VerifyAudit;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.Create;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SignAuditEvents resolving {@code audit-hmac-key} from Secret Manager (the real client against the
 * loopback server), across a key rotation: rows name the key version that signed them, and
 * verification reads each version.
 */
class SignWithSecretManagerTest {
  private static final AuditEvents AUDIT = new AuditEvents("prod");
  @TempDir Path dir;

  private static List<AuditEvent> run(String run, String message, long t) {
    return List.of(
        AUDIT
            .event(AuditType.CONFIG_CHANGE, AuditStatus.SUCCESS, "start_pipeline")
            .resource(run)
            .at(t)
            .discriminator(run)
            .build(),
        AUDIT
            .event(AuditType.AUTH_SUCCESS, AuditStatus.SUCCESS, "authenticate")
            .aboutMessage(message, "acme", "bob")
            .jobId("job-" + message)
            .at(t + 1)
            .build());
  }

  private static void sign(String run, List<AuditEvent> events, SecretSource source, Path db) {
    Pipeline p =
        Pipeline.create(
            PipelineOptionsFactory.fromArgs("--runner=DirectRunner", "--jobName=" + run).create());
    p.apply(Create.of(events))
        .apply(new SignAuditEvents(source, AUDIT))
        .apply(new Deliver.AuditRows(Warehouse.fromSpec("duckdb:" + db)));
    p.run().waitUntilFinish();
  }

  @Test
  void rotatedKeyVersionsBothVerify() throws Exception {
    Path db = dir.resolve("wh.duckdb");
    try (LocalSecretManager server = new LocalSecretManager("demo-aiprod")) {
      server.addVersion("audit-hmac-key", "first-key-0123456789abcdef0123456789");
      SecretSource source = SecretSource.secretManager("projects/demo-aiprod", server.endpoint());
      sign("run-one", run("run-one", "m-1", 1_790_000_000_000L), source, db);

      server.addVersion("audit-hmac-key", "second-key-0123456789abcdef012345678");
      source.resolver().refresh("audit-hmac-key"); // what a worker does on rotation
      sign("run-two", run("run-two", "m-2", 1_790_000_100_000L), source, db);

      List<String> versions = new ArrayList<>();
      try (Connection c = DriverManager.getConnection("jdbc:duckdb:" + db);
          Statement s = c.createStatement();
          ResultSet rs =
              s.executeQuery(
                  "SELECT details->>'version' FROM audit_events WHERE event_type = 'SECRET_ACCESS' ORDER BY 1")) {
        while (rs.next()) {
          versions.add(rs.getString(1));
        }
      }
      assertThat(versions, contains("1", "2"));

      server.requests.clear();
      try (SecretResolver verifier = source.newResolver()) {
        List<String> problems = VerifyAudit.verify(VerifyAudit.readDuckDb(db), verifier);
        assertThat(problems, empty());
      }
      assertThat(
          server.requests,
          hasItems(
              "GET /v1/projects/demo-aiprod/secrets/audit-hmac-key/versions/1:access",
              "GET /v1/projects/demo-aiprod/secrets/audit-hmac-key/versions/2:access"));
      assertThat(server.requests.size(), equalTo(2));
    }
  }
}
