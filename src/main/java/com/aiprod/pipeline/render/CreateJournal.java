package com.aiprod.pipeline.render;

import com.aiprod.pipeline.media.OutputFiles;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import javax.annotation.Nullable;

/**
 * What is known of one attempt's create at a provider, in a small file beside the shot's output
 * ({@code shots/creates/shot-NNN-attempt-A-BACKEND.json}), written before the create ({@code
 * intent}), after it ({@code made} with the task id) and after a create that made nothing ({@code
 * none}). Runner state is restored from the last checkpoint after a lost worker, so a create made
 * after that checkpoint is unknown to the restored state; the file is not lost with the worker, and
 * the next submit of the same attempt reads it first: {@code made} adopts the task, {@code intent}
 * is a create whose outcome is unknown (looked for, or the attempt ends), so no attempt creates a
 * second task.
 */
final class CreateJournal {
  private static final ObjectMapper JSON = new ObjectMapper();

  static final String INTENT = "intent";
  static final String MADE = "made";
  static final String NONE = "none";

  private CreateJournal() {}

  /** One record: {@code status}, the task id when {@code made}, and when it was written. */
  record Entry(String status, @Nullable String operation, long atMillis) {}

  /** The journal file of {@code attempt} of {@code task}'s shot on {@code backend}. */
  static String uri(String outputLocation, ShotTask task, int attempt, String backend) {
    return OutputFiles.jobFile(
        outputLocation,
        task.getTenant(),
        task.getJobId(),
        String.format(
            Locale.ROOT,
            "shots/creates/shot-%03d-attempt-%d-%s.json",
            task.getShot().getIndex(),
            attempt,
            backend));
  }

  /** The record at {@code uri}; null when there is none (or it cannot be parsed). */
  static @Nullable Entry read(String uri) throws IOException {
    if (!OutputFiles.exists(uri)) {
      return null;
    }
    Path local = OutputFiles.localCopy(uri);
    try {
      JsonNode n = JSON.readTree(Files.readString(local, StandardCharsets.UTF_8));
      String status = n.path("status").asText("");
      if (!status.equals(INTENT) && !status.equals(MADE) && !status.equals(NONE)) {
        return null;
      }
      String op = n.path("operation").isTextual() ? n.path("operation").asText() : null;
      if (status.equals(MADE) && op == null) {
        return null;
      }
      return new Entry(status, op, n.path("at_millis").asLong(0));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      return null;
    } finally {
      if (!OutputFiles.isLocal(uri)) {
        Files.deleteIfExists(local);
      }
    }
  }

  /** Replaces the record at {@code uri} (atomically for local files). */
  static void write(String uri, Entry e) throws IOException {
    ObjectNode n = JSON.createObjectNode().put("status", e.status()).put("at_millis", e.atMillis());
    if (e.operation() != null) {
      n.put("operation", e.operation());
    }
    OutputFiles.publish(
        JSON.writeValueAsString(n).getBytes(StandardCharsets.UTF_8), uri, "application/json");
  }
}
