package com.aiprod.pipeline.secrets;

import java.io.Serializable;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.annotation.Nullable;

/**
 * Where secrets come from ({@code --secretSource}, DESIGN §11): {@code secretmanager:projects/P}
 * (Google Secret Manager) or {@code dir:PATH} (one file per secret, local). Serializable, so
 * transforms carry it to the workers; {@link #resolver()} gives the worker's shared, caching
 * resolver, to be called from a DoFn's {@code @Setup}.
 */
public final class SecretSource implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final Pattern SECRET_MANAGER =
      Pattern.compile("secretmanager:(projects/[a-z][a-z0-9-]{4,28}[a-z0-9])");

  /** One resolver per source per JVM (worker): the cache outlives DoFn instances. */
  private static final Map<SecretSource, SecretResolver> SHARED = new ConcurrentHashMap<>();

  private final String kind;
  private final String location;
  private final @Nullable String endpoint;

  private SecretSource(String kind, String location, @Nullable String endpoint) {
    this.kind = kind;
    this.location = location;
    this.endpoint = endpoint;
  }

  /** Parses {@code secretmanager:projects/P} or {@code dir:PATH}. */
  public static SecretSource parse(String spec) {
    if (spec == null || spec.isBlank()) {
      throw new IllegalArgumentException(
          "--secretSource is empty: use secretmanager:projects/P or dir:PATH");
    }
    Matcher m = SECRET_MANAGER.matcher(spec);
    if (m.matches()) {
      return new SecretSource("secretmanager", m.group(1), null);
    }
    if (spec.startsWith("dir:") && spec.length() > "dir:".length()) {
      return dir(Path.of(spec.substring("dir:".length())));
    }
    throw new IllegalArgumentException(
        "--secretSource=" + spec + " is neither secretmanager:projects/P nor dir:PATH");
  }

  /** A directory with one file per secret. */
  public static SecretSource dir(Path directory) {
    return new SecretSource("dir", directory.toAbsolutePath().normalize().toString(), null);
  }

  /**
   * Secret Manager in {@code projects/P}, through the client's HTTP/JSON transport at {@code
   * endpoint} ({@code http://127.0.0.1:PORT} for a local server, used without credentials), or the
   * default endpoint with the worker's credentials when {@code endpoint} is null.
   */
  public static SecretSource secretManager(String project, @Nullable String endpoint) {
    String p = project.startsWith("projects/") ? project : "projects/" + project;
    return new SecretSource("secretmanager", p, endpoint);
  }

  public boolean isSecretManager() {
    return "secretmanager".equals(kind);
  }

  /** {@code projects/P} or the directory. */
  public String location() {
    return location;
  }

  @Nullable
  String endpoint() {
    return endpoint;
  }

  /**
   * The worker's resolver for this source, created on first use and shared by every DoFn of the JVM
   * (so its cache is per worker). Never close it.
   */
  public SecretResolver resolver() {
    return SHARED.computeIfAbsent(this, SecretSource::newResolver);
  }

  /** A new resolver with its own cache and client; the caller closes it. */
  public SecretResolver newResolver() {
    if (isSecretManager()) {
      return SecretManagerResolver.create(this);
    }
    return new DirSecretResolver(Path.of(location), toString());
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof SecretSource)) {
      return false;
    }
    SecretSource s = (SecretSource) o;
    return kind.equals(s.kind)
        && location.equals(s.location)
        && Objects.equals(endpoint, s.endpoint);
  }

  @Override
  public int hashCode() {
    return Objects.hash(kind, location, endpoint);
  }

  /** The spec form ({@code secretmanager:projects/P} or {@code dir:PATH}); no secret in it. */
  @Override
  public String toString() {
    return kind + ":" + location;
  }
}
