package com.aiprod.pipeline.testing;

import com.aiprod.pipeline.model.JobState;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Polls every job document of a Firestore emulator while a run goes, recording any document that
 * moved to a state of lower rank, or from one terminal state to another (documents never move
 * backwards, DESIGN §7).
 */
public final class JobDocumentWatcher implements AutoCloseable {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private final String hostPort;
  private final String project;
  private final Map<String, String> state = new ConcurrentHashMap<>();
  private final Thread thread = new Thread(this::loop, "job-document-watcher");
  private volatile boolean running = true;

  /** "path: A -> B" for every backwards move seen. */
  public final List<String> backwards = new CopyOnWriteArrayList<>();

  /**
   * The raw JSON of the last poll (every document's fields), to look for what must not be there.
   */
  public volatile String lastRaw = "";

  public JobDocumentWatcher(String hostPort, String project) {
    this.hostPort = hostPort;
    this.project = project;
    thread.setDaemon(true);
    thread.start();
  }

  /** Every job document's path and state, read now. */
  public Map<String, String> states() throws IOException, InterruptedException {
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(
                    URI.create(
                        "http://"
                            + hostPort
                            + "/v1/projects/"
                            + project
                            + "/databases/(default)/documents:runQuery"))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .header("Authorization", "Bearer owner")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"structuredQuery\":{\"from\":[{\"collectionId\":\"jobs\","
                            + "\"allDescendants\":true}]}}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IOException("Firestore runQuery: HTTP " + r.statusCode());
    }
    lastRaw = r.body();
    Map<String, String> out = new ConcurrentHashMap<>();
    for (JsonNode e : MAPPER.readTree(r.body())) {
      JsonNode doc = e.get("document");
      if (doc != null) {
        out.put(
            doc.get("name").asText(),
            doc.path("fields").path("state").path("stringValue").asText());
      }
    }
    return out;
  }

  private void loop() {
    while (running) {
      try {
        states()
            .forEach(
                (path, s) -> {
                  String before = state.put(path, s);
                  if (before != null && !before.equals(s)) {
                    JobState b = JobState.valueOf(before);
                    JobState a = JobState.valueOf(s);
                    if (a.rank() < b.rank() || b.isTerminal()) {
                      backwards.add(path + ": " + before + " -> " + s);
                    }
                  }
                });
        Thread.sleep(1000);
      } catch (InterruptedException e) {
        return;
      } catch (Exception e) {
        // the emulator is busy: next poll
      }
    }
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    thread.interrupt();
    thread.join(10_000);
  }
}
