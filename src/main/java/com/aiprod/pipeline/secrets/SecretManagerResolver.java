package com.aiprod.pipeline.secrets;

import com.google.api.gax.core.NoCredentialsProvider;
import com.google.api.gax.rpc.ApiException;
import com.google.api.gax.rpc.NotFoundException;
import com.google.api.gax.rpc.PermissionDeniedException;
import com.google.api.gax.rpc.UnauthenticatedException;
import com.google.cloud.secretmanager.v1.AccessSecretVersionResponse;
import com.google.cloud.secretmanager.v1.SecretManagerServiceClient;
import com.google.cloud.secretmanager.v1.SecretManagerServiceSettings;
import com.google.cloud.secretmanager.v1.SecretPayload;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.CRC32C;

/**
 * {@code secretmanager:projects/P}: {@link SecretManagerServiceClient} over its HTTP/JSON
 * transport. {@code latest} is accessed once and pinned: the cache keeps the concrete version the
 * response names ({@code projects/N/secrets/S/versions/3} → {@code 3}) until {@link #refresh}.
 * Payloads with a {@code dataCrc32c} are checked. Errors name the secret and the permission needed;
 * they never carry a value.
 */
final class SecretManagerResolver implements SecretResolver {
  static final String PERMISSION = "secretmanager.versions.access";
  static final String ROLE = "roles/secretmanager.secretAccessor";

  private final SecretManagerServiceClient client;
  private final String project;
  private final String source;
  private final Map<String, ResolvedSecret> pinned = new ConcurrentHashMap<>();
  private final Map<String, ResolvedSecret> versions = new ConcurrentHashMap<>();

  private SecretManagerResolver(SecretManagerServiceClient client, String project, String source) {
    this.client = client;
    this.project = project;
    this.source = source;
  }

  static SecretManagerResolver create(SecretSource s) {
    SecretManagerServiceSettings.Builder settings =
        SecretManagerServiceSettings.newHttpJsonBuilder();
    if (s.endpoint() != null) {
      // A local server (tests, or a proxy on loopback): plain http, no credentials.
      settings.setEndpoint(s.endpoint()).setCredentialsProvider(NoCredentialsProvider.create());
    }
    try {
      return new SecretManagerResolver(
          SecretManagerServiceClient.create(settings.build()), s.location(), s.toString());
    } catch (IOException e) {
      throw new IllegalStateException(
          "Cannot create the Secret Manager client for " + s + ": " + e.getMessage(), e);
    }
  }

  @Override
  public ResolvedSecret resolve(String name) {
    return pinned.computeIfAbsent(DirSecretResolver.checkName(name), n -> access(n, "latest"));
  }

  @Override
  public ResolvedSecret refresh(String name) {
    ResolvedSecret s = access(DirSecretResolver.checkName(name), "latest");
    pinned.put(name, s);
    return s;
  }

  @Override
  public ResolvedSecret resolveVersion(String name, String version) {
    if (!version.matches("[0-9]{1,18}")) {
      throw new SecretAccessException(
          name, "Secret '" + name + "': not a version number: " + version);
    }
    return versions.computeIfAbsent(
        DirSecretResolver.checkName(name) + "/" + version, k -> access(name, version));
  }

  private ResolvedSecret access(String name, String version) {
    String path = project + "/secrets/" + name + "/versions/" + version;
    AccessSecretVersionResponse response;
    try {
      response = client.accessSecretVersion(path);
    } catch (NotFoundException e) {
      throw new SecretAccessException(
          name,
          "Secret '"
              + name
              + "' (version "
              + version
              + ") not found in "
              + project
              + ": create it, with an enabled version, and grant the pipeline's service account "
              + PERMISSION
              + " (role "
              + ROLE
              + ") on it",
          e);
    } catch (PermissionDeniedException | UnauthenticatedException e) {
      throw new SecretAccessException(
          name,
          "Permission denied reading secret '"
              + name
              + "' (version "
              + version
              + ") in "
              + project
              + ": the pipeline's service account needs "
              + PERMISSION
              + " (role "
              + ROLE
              + ") on the secret or the project",
          e);
    } catch (ApiException e) {
      throw new SecretAccessException(
          name,
          "Secret Manager failed for secret '"
              + name
              + "' (version "
              + version
              + ") in "
              + project
              + ": "
              + e.getStatusCode().getCode(),
          e);
    }
    SecretPayload payload = response.getPayload();
    byte[] value = payload.getData().toByteArray();
    if (payload.hasDataCrc32C()) {
      CRC32C crc = new CRC32C();
      crc.update(value);
      if (crc.getValue() != payload.getDataCrc32C()) {
        throw new SecretAccessException(
            name,
            "Secret '"
                + name
                + "' (version "
                + version
                + "): payload checksum mismatch (corrupted in transit)");
      }
    }
    String resolvedName = response.getName();
    int at = resolvedName.lastIndexOf("/versions/");
    String concrete = at < 0 ? version : resolvedName.substring(at + "/versions/".length());
    return new ResolvedSecret(name, concrete, source, value);
  }

  @Override
  public void close() {
    client.close();
  }
}
