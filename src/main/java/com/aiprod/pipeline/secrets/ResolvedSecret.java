package com.aiprod.pipeline.secrets;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * One resolved secret version: its name, the concrete version it was pinned to, where it came from,
 * and the value. {@link #toString()} never shows the value, so a resolved secret can be logged or
 * put in an exception message safely.
 */
public final class ResolvedSecret {
  private final String name;
  private final String version;
  private final String source;
  private final byte[] value;

  public ResolvedSecret(String name, String version, String source, byte[] value) {
    this.name = name;
    this.version = version;
    this.source = source;
    this.value = value.clone();
  }

  /** The secret's short name, e.g. {@code audit-hmac-key}. */
  public String name() {
    return name;
  }

  /** The concrete version ({@code latest} is never returned): a number for Secret Manager. */
  public String version() {
    return version;
  }

  /**
   * Where it came from, without the value: {@code secretmanager:projects/P} or {@code dir:PATH}.
   */
  public String source() {
    return source;
  }

  /** A copy of the value bytes. */
  public byte[] value() {
    return value.clone();
  }

  /** The value as UTF-8 text with surrounding whitespace (e.g. a file's final newline) removed. */
  public String text() {
    return new String(value, StandardCharsets.UTF_8).strip();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ResolvedSecret
        && ((ResolvedSecret) o).name.equals(name)
        && ((ResolvedSecret) o).version.equals(version)
        && ((ResolvedSecret) o).source.equals(source)
        && Arrays.equals(((ResolvedSecret) o).value, value);
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + version.hashCode();
  }

  @Override
  public String toString() {
    return "ResolvedSecret{" + name + " version " + version + " from " + source + ", value hidden}";
  }
}
