package com.aiprod.pipeline.secrets;

/**
 * Resolves secrets by short name (DESIGN §5, §9). Implementations cache: a second {@link #resolve}
 * of the same name returns the version pinned by the first without asking the backend again. {@link
 * #refresh} is for callers whose backend answered 401/403 (the secret was rotated): it asks again
 * for the newest version and pins that one. Thread-safe.
 */
public interface SecretResolver extends AutoCloseable {
  /** The pinned version of {@code name}, resolving {@code latest} on first use. */
  ResolvedSecret resolve(String name);

  /** Re-resolves {@code latest} of {@code name}, pins and returns it (rotation). */
  ResolvedSecret refresh(String name);

  /**
   * A given version of {@code name} (e.g. the key version an audit signature names). Cached per
   * (name, version); does not change what {@link #resolve} returns.
   */
  ResolvedSecret resolveVersion(String name, String version);

  @Override
  void close();
}
