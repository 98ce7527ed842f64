package com.aiprod.pipeline.secrets;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.aiprod.pipeline.audit.LocalSecrets;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code dir:PATH}: one file per secret, group/others-readable files refused. */
class DirSecretResolverTest {
  @TempDir Path dir;

  private Path secret(String name, String value, String mode) throws Exception {
    Path f = dir.resolve(name);
    Files.writeString(f, value, StandardCharsets.UTF_8);
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(mode));
    return f;
  }

  @Test
  void readsAPrivateFile() throws Exception {
    secret("audit-hmac-key", "c2VjcmV0LWtleQ==\n", "rw-------");
    try (SecretResolver r = SecretSource.parse("dir:" + dir).newResolver()) {
      ResolvedSecret s = r.resolve("audit-hmac-key");
      assertThat(s.text(), equalTo("c2VjcmV0LWtleQ=="));
      assertThat(s.version(), equalTo("local"));
      assertThat(s.source(), equalTo("dir:" + dir.toAbsolutePath().normalize()));
      assertThat(s.toString(), not(containsString("c2VjcmV0")));
      assertThat(r.resolveVersion("audit-hmac-key", "local"), equalTo(s));
    }
  }

  @Test
  void cachesUntilRefresh() throws Exception {
    Path f = secret("runway-api-key", "one", "rw-------");
    try (SecretResolver r = SecretSource.dir(dir).newResolver()) {
      assertThat(r.resolve("runway-api-key").text(), equalTo("one"));
      Files.writeString(f, "two");
      assertThat(r.resolve("runway-api-key").text(), equalTo("one"));
      assertThat(r.refresh("runway-api-key").text(), equalTo("two"));
      assertThat(r.resolve("runway-api-key").text(), equalTo("two"));
    }
  }

  @Test
  void refusesAFileOthersCanRead() throws Exception {
    Path f = secret("runway-api-key", "leaky", "rw-r--r--");
    try (SecretResolver r = SecretSource.dir(dir).newResolver()) {
      SecretAccessException e =
          assertThrows(SecretAccessException.class, () -> r.resolve("runway-api-key"));
      assertThat(e.getMessage(), containsString("Refusing secret file " + f));
      assertThat(e.getMessage(), containsString("rw-r--r--"));
      assertThat(e.getMessage(), containsString("run: chmod 600 " + f));
      assertThat(e.getMessage(), not(containsString("leaky")));
    }
  }

  @Test
  void refusesAFileTheGroupCanRead() throws Exception {
    Path f = secret("runway-api-key", "x", "rw-r-----");
    try (SecretResolver r = SecretSource.dir(dir).newResolver()) {
      SecretAccessException e =
          assertThrows(SecretAccessException.class, () -> r.resolve("runway-api-key"));
      assertThat(e.getMessage(), containsString("chmod 600 " + f));
    }
  }

  @Test
  void missingFileNamesTheSecretAndTheFile() {
    try (SecretResolver r = SecretSource.dir(dir).newResolver()) {
      SecretAccessException e =
          assertThrows(SecretAccessException.class, () -> r.resolve("replicate-api-token"));
      assertThat(e.getMessage(), containsString("Secret 'replicate-api-token' not found"));
      assertThat(e.getMessage(), containsString(dir.resolve("replicate-api-token").toString()));
    }
  }

  @Test
  void parsesBothForms() {
    assertThat(
        SecretSource.parse("secretmanager:projects/my-project").toString(),
        equalTo("secretmanager:projects/my-project"));
    assertThat(
        SecretSource.parse("secretmanager:projects/my-project").isSecretManager(), equalTo(true));
    assertThat(SecretSource.parse("dir:local/secrets").isSecretManager(), equalTo(false));
    assertThrows(IllegalArgumentException.class, () -> SecretSource.parse("vault:x"));
    assertThrows(
        IllegalArgumentException.class,
        () -> SecretSource.dir(dir).newResolver().resolve("../etc/passwd"));
  }

  @Test
  void localAuditKeyIsCreatedOncePrivateAndReadable() throws Exception {
    Path secrets = dir.resolve("local/secrets");
    Path key = LocalSecrets.ensureAuditKey(secrets);
    assertThat(
        PosixFilePermissions.toString(Files.getPosixFilePermissions(key)), equalTo("rw-------"));
    assertThat(
        PosixFilePermissions.toString(Files.getPosixFilePermissions(secrets)),
        equalTo("rwx------"));
    String first = Files.readString(key);
    assertThat(java.util.Base64.getDecoder().decode(first.strip()).length, equalTo(32));
    LocalSecrets.ensureAuditKey(secrets);
    assertThat(Files.readString(key), equalTo(first));
    try (SecretResolver r = SecretSource.dir(secrets).newResolver()) {
      assertThat(r.resolve("audit-hmac-key").text(), equalTo(first.strip()));
    }
  }
}
