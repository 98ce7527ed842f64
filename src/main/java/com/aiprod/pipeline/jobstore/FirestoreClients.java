package com.aiprod.pipeline.jobstore;

import java.io.Serializable;
import java.util.Objects;
import javax.annotation.Nullable;
import org.apache.beam.sdk.extensions.gcp.options.GcpOptions;
import org.apache.beam.sdk.io.gcp.firestore.FirestoreOptions;
import org.apache.beam.sdk.options.PipelineOptions;

/**
 * Where the google-cloud-firestore client connects, for the DoFns that use single documents or
 * transactions directly (the spend ledger, the renders' cancel check; FirestoreIO is a transform
 * and cannot be called inside a DoFn): the database {@code
 * projects/{projectId}/databases/{databaseId}}, reached through the emulator at {@code
 * emulatorHost} ({@code host:port}, no scheme) when one is given, else with application default
 * credentials. Serializable so that a DoFn can carry it and {@link #open} a client in
 * {@code @Setup} (and close it in {@code @Teardown}).
 *
 * <p>{@link #fromOptions} reuses Beam's options like {@link
 * com.aiprod.pipeline.jobstore.JobStore#fromOptions}: the project is {@code --firestoreProject} or
 * else {@code --project}, the database {@code --firestoreDb} (default {@code (default)}), the
 * emulator {@code --emulatorHost}.
 */
public final class FirestoreClients implements Serializable {
  private static final long serialVersionUID = 1L;

  private final String projectId;
  private final String databaseId;
  private final @Nullable String emulatorHost;

  private FirestoreClients(
      String projectId, @Nullable String databaseId, @Nullable String emulatorHost) {
    if (projectId == null || projectId.isBlank()) {
      throw new IllegalArgumentException(
          "The Firestore project of the spend ledger is required: --project (or --firestoreProject)");
    }
    if (emulatorHost != null && emulatorHost.contains("://")) {
      throw new IllegalArgumentException(
          "--emulatorHost is host:port without a scheme, got " + emulatorHost);
    }
    this.projectId = projectId;
    this.databaseId = databaseId == null || databaseId.isBlank() ? "(default)" : databaseId;
    this.emulatorHost = emulatorHost == null || emulatorHost.isBlank() ? null : emulatorHost;
  }

  /** The ledger of a pipeline's options (see the class comment). */
  public static FirestoreClients fromOptions(PipelineOptions options) {
    FirestoreOptions fs = options.as(FirestoreOptions.class);
    String project = fs.getFirestoreProject();
    if (project == null || project.isBlank()) {
      project = options.as(GcpOptions.class).getProject();
    }
    return new FirestoreClients(project, fs.getFirestoreDb(), fs.getEmulatorHost());
  }

  /**
   * The ledger in {@code projects/{projectId}/databases/{databaseId}} ({@code (default)} when null
   * or blank), through the emulator at {@code emulatorHost} when not null.
   */
  public static FirestoreClients of(
      String projectId, @Nullable String databaseId, @Nullable String emulatorHost) {
    return new FirestoreClients(projectId, databaseId, emulatorHost);
  }

  public String projectId() {
    return projectId;
  }

  public String databaseId() {
    return databaseId;
  }

  /** {@code host:port} of the Firestore emulator, or null for the real service. */
  public @Nullable String emulatorHost() {
    return emulatorHost;
  }

  /**
   * The low-level Firestore v1 client (documents as the same protos FirestoreIO uses), through the
   * emulator when one is configured (plaintext, the emulator's owner token), else with application
   * default credentials. The caller closes it.
   */
  public com.google.cloud.firestore.v1.FirestoreClient openDocumentsClient()
      throws java.io.IOException {
    com.google.cloud.firestore.v1.FirestoreSettings.Builder b =
        com.google.cloud.firestore.v1.FirestoreSettings.newBuilder();
    if (emulatorHost != null) {
      b.setCredentialsProvider(com.google.api.gax.core.NoCredentialsProvider.create())
          .setHeaderProvider(
              com.google.api.gax.rpc.FixedHeaderProvider.create("Authorization", "Bearer owner"))
          .setTransportChannelProvider(
              com.google.cloud.firestore.v1.FirestoreSettings.defaultGrpcTransportProviderBuilder()
                  .setEndpoint(emulatorHost)
                  .setChannelConfigurator(io.grpc.ManagedChannelBuilder::usePlaintext)
                  .build());
    }
    return com.google.cloud.firestore.v1.FirestoreClient.create(b.build());
  }

  /** The document {@code name} read with {@code client}, or null when there is none. */
  public static @Nullable com.google.firestore.v1.Document getOrNull(
      com.google.cloud.firestore.v1.FirestoreClient client, String name) {
    try {
      return client.getDocument(
          com.google.firestore.v1.GetDocumentRequest.newBuilder().setName(name).build());
    } catch (com.google.api.gax.rpc.NotFoundException missing) {
      return null;
    }
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof FirestoreClients)) {
      return false;
    }
    FirestoreClients that = (FirestoreClients) o;
    return projectId.equals(that.projectId)
        && databaseId.equals(that.databaseId)
        && Objects.equals(emulatorHost, that.emulatorHost);
  }

  @Override
  public int hashCode() {
    return Objects.hash(projectId, databaseId, emulatorHost);
  }

  @Override
  public String toString() {
    return "projects/"
        + projectId
        + "/databases/"
        + databaseId
        + (emulatorHost == null ? "" : " (emulator " + emulatorHost + ")");
  }

  /**
   * A new client. Against the emulator only the emulator host is set: the client then uses its own
   * emulator credentials (adding {@code NoCredentials} makes client 3.33 fall back to the
   * production endpoint).
   */
  public com.google.cloud.firestore.Firestore open() {
    com.google.cloud.firestore.FirestoreOptions.Builder b =
        com.google.cloud.firestore.FirestoreOptions.newBuilder()
            .setProjectId(projectId)
            .setDatabaseId(databaseId);
    if (emulatorHost != null) {
      b.setEmulatorHost(emulatorHost);
    }
    return b.build().getService();
  }
}
