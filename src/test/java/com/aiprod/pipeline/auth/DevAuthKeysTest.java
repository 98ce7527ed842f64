package com.aiprod.pipeline.auth;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.Signature;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DevAuthKeysTest {
  @TempDir Path tmp;

  @Test
  void createThenLoadRoundTrip() throws Exception {
    Path dir = tmp.resolve("local/dev-auth");
    DevAuthKeys created = DevAuthKeys.loadOrCreate(dir);
    DevAuthKeys loaded = DevAuthKeys.load(dir);
    DevAuthKeys again = DevAuthKeys.loadOrCreate(dir);

    assertThat(loaded.kid(), equalTo(created.kid()));
    assertThat(again.kid(), equalTo(created.kid()));
    assertThat(loaded.certificatePem(), equalTo(created.certificatePem()));
    assertThat(loaded.privateKey().getEncoded(), equalTo(created.privateKey().getEncoded()));
    assertThat(loaded.dir(), equalTo(dir.toAbsolutePath()));

    String keyPem = Files.readString(dir.resolve("private-key.pem"), StandardCharsets.US_ASCII);
    assertThat(keyPem, startsWith("-----BEGIN PRIVATE KEY-----\n"));
    assertThat(created.certificatePem(), startsWith("-----BEGIN CERTIFICATE-----\n"));
    assertThat(created.privateKey().getAlgorithm(), equalTo("RSA"));
    assertThat(
        ((java.security.interfaces.RSAKey) created.privateKey()).getModulus().bitLength(),
        equalTo(2048));

    String sha256 =
        HexFormat.of()
            .formatHex(
                MessageDigest.getInstance("SHA-256").digest(created.certificate().getEncoded()));
    assertThat(created.kid(), equalTo(sha256.substring(0, 40)));
    assertThat(
        Files.readString(dir.resolve("kid"), StandardCharsets.US_ASCII).trim(),
        equalTo(created.kid()));

    created.certificate().checkValidity();
    created.certificate().verify(created.publicKey()); // self-signed
    assertThat(
        created.certificate().getNotAfter().getTime() - System.currentTimeMillis()
            > 365L * 24 * 3600 * 1000 * 5,
        is(true));

    Signature signature = Signature.getInstance("SHA256withRSA");
    signature.initSign(loaded.privateKey());
    signature.update(new byte[] {1, 2, 3});
    byte[] signed = signature.sign();
    signature.initVerify(created.certificate());
    signature.update(new byte[] {1, 2, 3});
    assertThat(signature.verify(signed), is(true));
  }

  @Test
  void privateKeyIsOwnerOnly() throws IOException {
    Path dir = tmp.resolve("keys");
    DevAuthKeys.loadOrCreate(dir);
    assertThat(
        PosixFilePermissions.toString(
            Files.getPosixFilePermissions(dir.resolve("private-key.pem"))),
        equalTo("rw-------"));
    assertThat(
        PosixFilePermissions.toString(
            Files.getPosixFilePermissions(dir.resolve("certificate.pem"))),
        equalTo("rw-r--r--"));
    assertThat(
        PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)), equalTo("rwx------"));
    try (var files = Files.list(dir)) {
      assertThat(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), is(true));
    }
  }

  @Test
  void loadWithoutKeysNamesDirectoryAndScript() {
    Path dir = tmp.resolve("nothing-here");
    IOException e = assertThrows(IOException.class, () -> DevAuthKeys.load(dir));
    assertThat(e.getMessage(), containsString(dir.toAbsolutePath().toString()));
    assertThat(e.getMessage(), containsString("scripts/dev-token"));
    assertThat(e.getMessage(), containsString("private-key.pem"));
  }

  @Test
  void loadRejectsMismatchedPair() throws IOException {
    Path a = tmp.resolve("a");
    Path b = tmp.resolve("b");
    DevAuthKeys.loadOrCreate(a);
    DevAuthKeys.loadOrCreate(b);
    Files.copy(
        b.resolve("certificate.pem"),
        a.resolve("certificate.pem"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    IOException e = assertThrows(IOException.class, () -> DevAuthKeys.load(a));
    assertThat(e.getMessage(), containsString("does not certify"));
  }

  @Test
  void incompleteDirectoryIsRecreated() throws IOException {
    Path dir = tmp.resolve("partial");
    String firstKid = DevAuthKeys.loadOrCreate(dir).kid();
    Files.delete(dir.resolve("certificate.pem"));
    assertThrows(IOException.class, () -> DevAuthKeys.load(dir));
    DevAuthKeys recreated = DevAuthKeys.loadOrCreate(dir);
    assertThat(recreated.kid().equals(firstKid), is(false));
    assertThat(DevAuthKeys.load(dir).kid(), equalTo(recreated.kid()));
  }

  @Test
  void concurrentFirstUseYieldsOneKeyPair() throws Exception {
    Path dir = tmp.resolve("race");
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<String>> kids = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        Callable<String> call = () -> DevAuthKeys.loadOrCreate(dir).kid();
        kids.add(pool.submit(call));
      }
      Set<String> distinct = new HashSet<>();
      for (Future<String> kid : kids) {
        distinct.add(kid.get());
      }
      assertThat(distinct.size(), equalTo(1));
      assertThat(DevAuthKeys.load(dir).kid(), equalTo(distinct.iterator().next()));
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void certificateJsonHasTheGoogleShape() throws IOException {
    DevAuthKeys keys = DevAuthKeys.loadOrCreate(tmp.resolve("json"));
    var parsed = CertificateCache.parse(keys.certificateJson(), "test");
    assertThat(parsed.keySet(), equalTo(Set.of(keys.kid())));
    assertThat(parsed.get(keys.kid()), equalTo(keys.publicKey()));
  }
}
