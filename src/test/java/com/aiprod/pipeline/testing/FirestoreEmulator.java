package com.aiprod.pipeline.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

/**
 * A Firestore emulator ({@code gcloud emulators firestore start}) on a free local port, for tests.
 *
 * <p>As a JUnit 5 extension: {@code @RegisterExtension static final FirestoreEmulator EMULATOR =
 * new FirestoreEmulator();} starts it before the class's tests and stops it after them. It is also
 * an {@link AutoCloseable} ({@link #start()} / {@link #close()}). Stopping destroys the whole
 * process tree (gcloud starts a shell which starts a JVM).
 */
public final class FirestoreEmulator extends GcloudEmulator {
  public FirestoreEmulator() {
    super("Firestore", Duration.ofSeconds(60));
  }

  @Override
  List<String> command(String hostPort) {
    return List.of(
        "gcloud", "emulators", "firestore", "start", "--host-port=" + hostPort, "--quiet");
  }

  /** Starts the emulator and waits until it answers HTTP (at most 60 s). */
  public FirestoreEmulator start() throws IOException, InterruptedException {
    startProcess();
    return this;
  }

  /** Deletes every document of {@code project}'s default database. */
  public void clear(String project) throws IOException, InterruptedException {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(
                    URI.create(
                        "http://"
                            + hostPort()
                            + "/emulator/v1/projects/"
                            + project
                            + "/databases/(default)/documents"))
                .timeout(Duration.ofSeconds(10))
                .DELETE()
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IOException(
          "Clearing the emulator failed: HTTP " + r.statusCode() + " " + r.body());
    }
  }
}
