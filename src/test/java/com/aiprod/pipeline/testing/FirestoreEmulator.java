package com.aiprod.pipeline.testing;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A Firestore emulator ({@code gcloud emulators firestore start}) on a free local port, for tests.
 *
 * <p>As a JUnit 5 extension: {@code @RegisterExtension static final FirestoreEmulator EMULATOR =
 * new FirestoreEmulator();} starts it before the class's tests and stops it after them. It is also
 * an {@link AutoCloseable} ({@link #start()} / {@link #close()}). Stopping destroys the whole
 * process tree (gcloud starts a shell which starts a JVM).
 */
public final class FirestoreEmulator implements BeforeAllCallback, AfterAllCallback, AutoCloseable {
  private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private Process process;
  private Path log;
  private String hostPort;

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    start();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    close();
  }

  /** Starts the emulator and waits until it answers HTTP (at most 60 s). */
  public synchronized FirestoreEmulator start() throws IOException, InterruptedException {
    if (process != null) {
      return this;
    }
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    hostPort = "127.0.0.1:" + port;
    log = Files.createTempFile("firestore-emulator-", ".log");
    ProcessBuilder pb =
        new ProcessBuilder(
                List.of("gcloud", "emulators", "firestore", "start", "--host-port=" + hostPort, "--quiet"))
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    try {
      process = pb.start();
    } catch (IOException e) {
      throw new IOException("Cannot start the Firestore emulator (is gcloud on the PATH?)", e);
    }
    long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        String output = Files.readString(log);
        process = null;
        throw new IllegalStateException(
            "The Firestore emulator exited during startup (" + hostPort + "):\n" + output);
      }
      if (answers()) {
        return this;
      }
      Thread.sleep(250);
    }
    String output = Files.readString(log);
    close();
    throw new IllegalStateException(
        "The Firestore emulator did not answer on "
            + hostPort
            + " within "
            + STARTUP_TIMEOUT.toSeconds()
            + " s; its output:\n"
            + output);
  }

  private boolean answers() {
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create("http://" + hostPort + "/"))
                  .timeout(Duration.ofSeconds(2))
                  .GET()
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** {@code 127.0.0.1:PORT}, for {@code --emulatorHost}. */
  public String hostPort() {
    if (hostPort == null) {
      throw new IllegalStateException("The Firestore emulator is not started");
    }
    return hostPort;
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
      throw new IOException("Clearing the emulator failed: HTTP " + r.statusCode() + " " + r.body());
    }
  }

  /** Stops the emulator and every process it started. */
  @Override
  public synchronized void close() {
    if (process == null) {
      return;
    }
    List<ProcessHandle> tree = process.descendants().toList();
    tree.forEach(ProcessHandle::destroy);
    process.destroy();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (ProcessHandle h : tree) {
      try {
        h.onExit().get(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        h.destroyForcibly();
      }
    }
    if (process.isAlive()) {
      process.destroyForcibly();
    }
    process = null;
    try {
      Files.deleteIfExists(log);
    } catch (IOException ignored) {
      // A leftover temp log is harmless.
    }
  }
}
