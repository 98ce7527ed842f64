package com.aiprod.pipeline.jobstore;

import com.google.cloud.firestore.v1.FirestoreClient;
import com.google.firestore.v1.Document;
import javax.annotation.Nullable;
import org.apache.beam.sdk.transforms.DoFn;

/**
 * A DoFn that reads or writes single Firestore documents with the GAPIC documents client: one
 * client per DoFn instance, opened in {@code @Setup} and closed in {@code @Teardown}.
 */
public abstract class FirestoreDocumentsFn<InputT, OutputT> extends DoFn<InputT, OutputT> {
  private final FirestoreClients clients;
  private transient @Nullable FirestoreClient client;

  protected FirestoreDocumentsFn(FirestoreClients clients) {
    this.clients = clients;
  }

  @Setup
  public void openClient() throws Exception {
    client = clients.openDocumentsClient();
  }

  @Teardown
  public void closeClient() {
    if (client != null) {
      client.close();
      client = null;
    }
  }

  /** The open client. */
  protected FirestoreClient client() {
    if (client == null) {
      throw new IllegalStateException("the Firestore client is opened in @Setup");
    }
    return client;
  }

  /** The document {@code name}, or null when there is none. */
  protected @Nullable Document getOrNull(String name) {
    return FirestoreClients.getOrNull(client(), name);
  }
}
