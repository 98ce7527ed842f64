package com.aiprod.pipeline.tools;

import com.aiprod.pipeline.auth.DevAuthKeys;
import com.aiprod.pipeline.auth.DevTokens;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code bench-inputs}: writes the batch input of {@code scripts/bench}: N estimate requests of a
 * 60 s {@code brand_campaign} each, signed with the dev tokens of U users (enterprise admins, one
 * tenant per user), user i of line i mod U, job ids unique. One token is minted per user.
 */
@Command(
    name = "bench-inputs",
    sortOptions = false,
    description = {
      "Writes N signed estimate requests (60 s brand_campaign) from U users' dev tokens:"
          + " the input of scripts/bench."
    })
public final class BenchInputs extends Tool {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  @Option(names = "--jobs", required = true, paramLabel = "N", description = "Lines to write.")
  int jobs;

  @Option(
      names = "--users",
      defaultValue = "50",
      paramLabel = "U",
      description = "Distinct users (tokens), default ${DEFAULT-VALUE}.")
  int users;

  @Option(names = "--out", required = true, paramLabel = "FILE.jsonl", description = "Output.")
  Path outFile;

  @Option(
      names = "--prefix",
      defaultValue = "bench",
      paramLabel = "P",
      description = "Job id prefix (default ${DEFAULT-VALUE}).")
  String prefix;

  @Mixin DevAuthOptions devAuth;

  @Override
  public Integer call() throws Exception {
    if (jobs < 1 || users < 1 || users > jobs) {
      throw usage("need 1 <= --users <= --jobs");
    }
    if (!prefix.matches("[A-Za-z0-9_-]{1,40}")) {
      throw usage("--prefix must be [A-Za-z0-9_-]{1,40}");
    }
    write(jobs, users, prefix, outFile, devAuth.dir, devAuth.project);
    err().println("wrote " + jobs + " estimate requests of " + users + " users into " + outFile);
    return 0;
  }

  /** Writes the lines; user i of line i mod users. */
  static void write(int jobs, int users, String prefix, Path out, Path devAuthDir, String project)
      throws Exception {
    DevTokens tokens = new DevTokens(DevAuthKeys.loadOrCreate(devAuthDir), project);
    String[] bearer = new String[users];
    for (int u = 0; u < users; u++) {
      String uid = String.format("bench-user-%03d", u);
      bearer[u] =
          "Bearer " + tokens.mint(uid, "bench-t" + u, "admin", "enterprise", Duration.ofHours(6));
    }
    ObjectNode data = MAPPER.createObjectNode();
    data.put(
        "content",
        "Our new running shoe meets the city at night. Neon reflections ripple in the rain."
            + " A runner sprints across an empty bridge. The logo glows on the final frame.");
    data.put("preset", "brand_campaign");
    data.put("mode", "estimate");
    data.put("duration_sec", 60);
    data.put("lang", "en");
    String dataJson = MAPPER.writeValueAsString(data);
    Path parent = out.toAbsolutePath().getParent();
    Files.createDirectories(parent);
    try (BufferedWriter w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
      for (int i = 0; i < jobs; i++) {
        ObjectNode attributes = MAPPER.createObjectNode();
        attributes.put("job_id", String.format("%s-%08d", prefix, i));
        attributes.put("authorization", bearer[i % users]);
        w.write("{\"attributes\":");
        w.write(MAPPER.writeValueAsString(attributes));
        w.write(",\"data\":");
        w.write(dataJson);
        w.write("}");
        w.newLine();
      }
    }
  }
}
