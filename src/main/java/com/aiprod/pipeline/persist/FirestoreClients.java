package com.aiprod.pipeline.persist;

import com.google.cloud.NoCredentials;
import com.google.cloud.firestore.Firestore;
import com.google.cloud.firestore.FirestoreOptions;
import java.io.Serializable;
import javax.annotation.Nullable;
import org.apache.beam.sdk.options.PipelineOptions;

/**
 * Where the google-cloud-firestore client connects, for the DoFns that read single documents
 * directly (FirestoreIO is a transform, not callable from inside a DoFn): project, database, and
 * the emulator (Beam's {@code --emulatorHost}) when there is one. Open the client in
 * {@code @Setup} and close it in {@code @Teardown}.
 */
public final class FirestoreClients implements Serializable {
  private static final long serialVersionUID = 1L;

  private final String projectId;
  private final String databaseId;
  private final @Nullable String emulatorHost;

  private FirestoreClients(String projectId, String databaseId, @Nullable String emulatorHost) {
    this.projectId = projectId;
    this.databaseId = databaseId;
    this.emulatorHost = emulatorHost;
  }

  /** The same project and database as {@code store}, and the options' emulator if any. */
  public static FirestoreClients of(JobStore store, PipelineOptions options) {
    String host = options.as(org.apache.beam.sdk.io.gcp.firestore.FirestoreOptions.class).getEmulatorHost();
    return new FirestoreClients(store.projectId(), store.databaseId(), host == null || host.isBlank() ? null : host);
  }

  public static FirestoreClients of(String projectId, String databaseId, @Nullable String emulatorHost) {
    return new FirestoreClients(projectId, databaseId, emulatorHost);
  }

  /** A new client: against the emulator without credentials, else with application defaults. */
  public Firestore open() {
    FirestoreOptions.Builder b = FirestoreOptions.newBuilder().setProjectId(projectId).setDatabaseId(databaseId);
    if (emulatorHost != null) {
      // The client talks plaintext to a host whose credentials are NoCredentials (the emulator).
      b.setHost(emulatorHost).setCredentials(NoCredentials.getInstance());
    }
    return b.build().getService();
  }
}
