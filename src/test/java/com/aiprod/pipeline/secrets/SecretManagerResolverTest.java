package com.aiprod.pipeline.secrets;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The real {@code SecretManagerServiceClient} (HTTP/JSON transport) against {@link
 * LocalSecretManager} on loopback.
 */
class SecretManagerResolverTest {
  private static final String PROJECT = "demo-aiprod";
  private LocalSecretManager server;
  private SecretResolver resolver;

  @BeforeEach
  void start() throws Exception {
    server = new LocalSecretManager(PROJECT);
    resolver = SecretSource.secretManager("projects/" + PROJECT, server.endpoint()).newResolver();
  }

  @AfterEach
  void stop() {
    resolver.close();
    server.close();
  }

  @Test
  void resolvesLatestAndPinsTheConcreteVersion() {
    server.addVersion("runway-api-key", "old-key");
    server.addVersion("runway-api-key", "rw-key-2");
    ResolvedSecret s = resolver.resolve("runway-api-key");
    assertThat(s.name(), equalTo("runway-api-key"));
    assertThat(s.version(), equalTo("2"));
    assertThat(s.text(), equalTo("rw-key-2"));
    assertThat(s.source(), equalTo("secretmanager:projects/demo-aiprod"));
    assertThat(s.toString(), not(containsString("rw-key-2")));
    assertThat(
        server.requests,
        contains("GET /v1/projects/demo-aiprod/secrets/runway-api-key/versions/latest:access"));
  }

  @Test
  void secondResolveMakesNoRequest() {
    server.addVersion("runway-api-key", "k1");
    ResolvedSecret first = resolver.resolve("runway-api-key");
    server.addVersion("runway-api-key", "k2"); // rotated, but the pinned version stays
    ResolvedSecret second = resolver.resolve("runway-api-key");
    assertThat(second, equalTo(first));
    assertThat(second.version(), equalTo("1"));
    assertThat(server.requests, hasSize(1));
  }

  @Test
  void sharedResolverCachesPerWorker() {
    server.addVersion("replicate-api-token", "r1");
    SecretSource source = SecretSource.secretManager(PROJECT, server.endpoint());
    SecretResolver a = source.resolver();
    SecretResolver b =
        SecretSource.secretManager("projects/" + PROJECT, server.endpoint()).resolver();
    assertThat(b == a, equalTo(true));
    a.resolve("replicate-api-token");
    b.resolve("replicate-api-token");
    assertThat(server.requests, hasSize(1));
  }

  @Test
  void refreshPicksTheNewVersion() {
    server.addVersion("runway-api-key", "k1");
    assertThat(resolver.resolve("runway-api-key").version(), equalTo("1"));
    server.addVersion("runway-api-key", "k2");
    ResolvedSecret refreshed = resolver.refresh("runway-api-key");
    assertThat(refreshed.version(), equalTo("2"));
    assertThat(refreshed.text(), equalTo("k2"));
    assertThat(resolver.resolve("runway-api-key").version(), equalTo("2"));
    assertThat(server.requests, hasSize(2));
  }

  @Test
  void resolvesAGivenVersion() {
    server.addVersion("audit-hmac-key", "a1");
    server.addVersion("audit-hmac-key", "a2");
    assertThat(resolver.resolveVersion("audit-hmac-key", "1").text(), equalTo("a1"));
    assertThat(resolver.resolveVersion("audit-hmac-key", "1").version(), equalTo("1"));
    assertThat(resolver.resolve("audit-hmac-key").text(), equalTo("a2"));
    assertThat(
        server.requests,
        contains(
            "GET /v1/projects/demo-aiprod/secrets/audit-hmac-key/versions/1:access",
            "GET /v1/projects/demo-aiprod/secrets/audit-hmac-key/versions/latest:access"));
  }

  @Test
  void missingSecretNamesTheSecretAndThePermission() {
    SecretAccessException e =
        assertThrows(SecretAccessException.class, () -> resolver.resolve("runway-api-key"));
    assertThat(e.secretName(), equalTo("runway-api-key"));
    assertThat(e.getMessage(), containsString("Secret 'runway-api-key'"));
    assertThat(e.getMessage(), containsString("not found in projects/demo-aiprod"));
    assertThat(e.getMessage(), containsString("secretmanager.versions.access"));
    assertThat(e.getMessage(), containsString("roles/secretmanager.secretAccessor"));
  }

  @Test
  void permissionDeniedNamesTheSecretAndThePermission() {
    server.addVersion("replicate-api-token", "very-secret-value");
    server.deny("replicate-api-token");
    SecretAccessException e =
        assertThrows(SecretAccessException.class, () -> resolver.resolve("replicate-api-token"));
    assertThat(
        e.getMessage(), containsString("Permission denied reading secret 'replicate-api-token'"));
    assertThat(e.getMessage(), containsString("secretmanager.versions.access"));
    assertThat(e.getMessage(), containsString("roles/secretmanager.secretAccessor"));
    assertThat(e.getMessage(), not(containsString("very-secret-value")));
  }
}
