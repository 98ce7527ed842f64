package com.aiprod.pipeline.secrets;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * {@code dir:PATH}: secret {@code S} is the file {@code PATH/S}. A file that group or others may
 * read, write or execute is refused (with the chmod to run). A directory holds one version of each
 * secret, reported as version {@value #VERSION}; {@link #refresh} re-reads the file.
 */
final class DirSecretResolver implements SecretResolver {
  static final String VERSION = "local";
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{1,255}");
  private static final Set<PosixFilePermission> GROUP_OR_OTHERS =
      EnumSet.of(
          PosixFilePermission.GROUP_READ,
          PosixFilePermission.GROUP_WRITE,
          PosixFilePermission.GROUP_EXECUTE,
          PosixFilePermission.OTHERS_READ,
          PosixFilePermission.OTHERS_WRITE,
          PosixFilePermission.OTHERS_EXECUTE);

  private final Path directory;
  private final String source;
  private final Map<String, ResolvedSecret> cache = new ConcurrentHashMap<>();

  DirSecretResolver(Path directory, String source) {
    this.directory = directory;
    this.source = source;
  }

  @Override
  public ResolvedSecret resolve(String name) {
    return cache.computeIfAbsent(checkName(name), this::read);
  }

  @Override
  public ResolvedSecret refresh(String name) {
    ResolvedSecret s = read(checkName(name));
    cache.put(name, s);
    return s;
  }

  @Override
  public ResolvedSecret resolveVersion(String name, String version) {
    if (!VERSION.equals(version)) {
      throw new SecretAccessException(
          name,
          "Secret '"
              + name
              + "' version "
              + version
              + " is not in "
              + source
              + ": a dir: source holds one version of each secret (version "
              + VERSION
              + ")");
    }
    return resolve(name);
  }

  private ResolvedSecret read(String name) {
    Path file = directory.resolve(name);
    try {
      Set<PosixFilePermission> perms =
          Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS);
      if (Files.isSymbolicLink(file)) {
        perms = Files.getPosixFilePermissions(file);
      }
      if (!Files.isRegularFile(file)) {
        throw new SecretAccessException(
            name, "Secret '" + name + "': " + file + " is not a regular file");
      }
      Set<PosixFilePermission> loose = EnumSet.noneOf(PosixFilePermission.class);
      loose.addAll(perms);
      loose.retainAll(GROUP_OR_OTHERS);
      if (!loose.isEmpty()) {
        throw new SecretAccessException(
            name,
            "Refusing secret file "
                + file
                + ": it is accessible by group/others (mode "
                + PosixFilePermissions.toString(perms)
                + "); run: chmod 600 "
                + file);
      }
      return new ResolvedSecret(name, VERSION, source, Files.readAllBytes(file));
    } catch (NoSuchFileException e) {
      throw new SecretAccessException(
          name,
          "Secret '"
              + name
              + "' not found: no file "
              + file
              + " ("
              + source
              + "; create it with mode 0600, one file per secret)");
    } catch (UnsupportedOperationException e) {
      throw new SecretAccessException(
          name,
          "Secret '"
              + name
              + "': cannot check the permissions of "
              + file
              + " (not a POSIX file system)");
    } catch (IOException e) {
      throw new SecretAccessException(
          name, "Secret '" + name + "': cannot read " + file + ": " + e.getClass().getSimpleName());
    }
  }

  static String checkName(String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "Not a secret name: " + name + " (letters, digits, - and _)");
    }
    return name;
  }

  @Override
  public void close() {
    cache.clear();
  }
}
