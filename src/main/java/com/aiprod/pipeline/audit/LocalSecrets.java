package com.aiprod.pipeline.audit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The local secret directory of a {@code dir:} source: what {@code ensure_local_secrets} of
 * scripts/lib.sh does, for Java callers (tests that run the pipeline with a temporary {@code
 * --secretSource=dir:…}).
 */
public final class LocalSecrets {
  private LocalSecrets() {}

  /**
   * Creates {@code directory} (mode 0700) and, if absent, {@code directory/audit-hmac-key}: 32
   * random bytes, base64, mode 0600. Returns the key file. An existing key is kept.
   */
  public static Path ensureAuditKey(Path directory) throws IOException {
    Files.createDirectories(directory);
    Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwx------"));
    Path key = directory.resolve(AuditSignatures.KEY_SECRET);
    if (Files.isRegularFile(key) && Files.size(key) > 0) {
      return key;
    }
    byte[] random = new byte[32];
    new SecureRandom().nextBytes(random);
    Path tmp =
        Files.createTempFile(
            directory,
            ".audit-hmac-key",
            ".tmp",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(
        tmp, Base64.getEncoder().encodeToString(random) + "\n", StandardCharsets.US_ASCII);
    try {
      Files.move(tmp, key, StandardCopyOption.ATOMIC_MOVE);
    } catch (java.nio.file.FileAlreadyExistsException raced) {
      Files.deleteIfExists(tmp); // another worker made it first: keep theirs
    }
    return key;
  }
}
