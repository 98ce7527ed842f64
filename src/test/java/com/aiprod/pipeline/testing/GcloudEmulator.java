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
 * A Google Cloud CLI emulator as a JUnit 5 extension (or AutoCloseable): started on a free loopback
 * port before the class's tests, ready once it answers HTTP, and stopped after them with every
 * process it started (gcloud runs the emulator as a child JVM).
 */
abstract class GcloudEmulator implements BeforeAllCallback, AfterAllCallback, AutoCloseable {
  protected final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final String name;
  private final Duration startupTimeout;
  private Process process;
  private Path log;
  private String hostPort;

  GcloudEmulator(String name, Duration startupTimeout) {
    this.name = name;
    this.startupTimeout = startupTimeout;
  }

  /** The gcloud command line that starts the emulator on {@code hostPort}. */
  abstract List<String> command(String hostPort);

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    startProcess();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    close();
  }

  /** Starts the emulator (once) and waits until it answers HTTP. */
  final synchronized void startProcess() throws IOException, InterruptedException {
    if (process != null) {
      return;
    }
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    hostPort = "127.0.0.1:" + port;
    log = Files.createTempFile(name.toLowerCase().replaceAll("[^a-z]", "") + "-emulator-", ".log");
    ProcessBuilder pb =
        new ProcessBuilder(command(hostPort))
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    try {
      process = pb.start();
    } catch (IOException e) {
      throw new IOException("Cannot start the " + name + " emulator (is gcloud on the PATH?)", e);
    }
    long deadline = System.nanoTime() + startupTimeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        String output = Files.readString(log);
        process = null;
        throw new IllegalStateException(
            "The " + name + " emulator exited during startup (" + hostPort + "):\n" + output);
      }
      if (answers()) {
        return;
      }
      Thread.sleep(250);
    }
    String output = Files.readString(log);
    close();
    throw new IllegalStateException(
        "The "
            + name
            + " emulator did not answer on "
            + hostPort
            + " within "
            + startupTimeout.toSeconds()
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

  /** {@code 127.0.0.1:PORT}. */
  public String hostPort() {
    if (hostPort == null) {
      throw new IllegalStateException("The " + name + " emulator is not started");
    }
    return hostPort;
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
