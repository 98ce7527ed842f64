package com.aiprod.pipeline.persist;

import com.aiprod.pipeline.media.ContactSheet;
import com.aiprod.pipeline.media.OutputFiles;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.ShotSpec;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Distribution;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Draws {@code contact_sheet.png} of each terminal job that has one named (AssembleJobs names it
 * beside {@code final.mp4}). It is drawn here, the first step of DeliverJobs, because only here are
 * the state (after Decide, or FAILED/DEADLINE from assembly) and the charge final. Each shot's
 * backend and attempt come from the job's {@code manifest.json}; the planned shots from the job. A
 * sheet that cannot be written leaves the job without {@code contact_sheet_uri} (counted, logged);
 * the job is delivered all the same. Drawing again (a retried bundle) writes the same file.
 */
final class DrawContactSheets extends DoFn<Job, Job> {
  private static final Logger LOG = LoggerFactory.getLogger(DrawContactSheets.class);
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final Counter drawn = Metrics.counter("aiprod", "contact_sheets");
  private final Counter failed = Metrics.counter("aiprod", "contact_sheets_failed");
  private final Distribution millis = Metrics.distribution("aiprod", "contact_sheet_ms");

  @ProcessElement
  public void process(@Element Job job, OutputReceiver<Job> out) {
    if (job.getContactSheetUri() == null || job.getVideoUri() == null) {
      out.output(job);
      return;
    }
    long start = System.nanoTime();
    try {
      byte[] png = ContactSheet.png(header(job), shots(job, readManifest(job.getManifestUri())));
      OutputFiles.publish(png, job.getContactSheetUri(), "image/png");
      drawn.inc();
      millis.update((System.nanoTime() - start) / 1_000_000);
      out.output(job);
    } catch (IOException | RuntimeException e) {
      failed.inc();
      LOG.warn("contact sheet of {} not written: {}", job.key(), e.toString());
      out.output(job.toBuilder().setContactSheetUri(null).build());
    }
  }

  static ContactSheet.Header header(Job job) {
    return new ContactSheet.Header(
        job.getJobId(),
        job.getTenant(),
        job.getRequest() == null ? null : job.getRequest().getPreset(),
        job.getState(),
        job.getReasonCode(),
        job.getCostUsd(),
        job.getProviderCostUsd());
  }

  /** The manifest, or null when it cannot be read (every tile is then a placeholder). */
  static JsonNode readManifest(String uri) {
    if (uri == null) {
      return null;
    }
    Path local = null;
    try {
      local = OutputFiles.localCopy(uri);
      return MAPPER.readTree(Files.readAllBytes(local));
    } catch (IOException | RuntimeException e) {
      LOG.warn("manifest {} not readable: {}", uri, e.toString());
      return null;
    } finally {
      if (local != null && !OutputFiles.isLocal(uri)) {
        try {
          Files.deleteIfExists(local);
        } catch (IOException e) {
          // a temp file left behind
        }
      }
    }
  }

  /** Every planned shot in shot order, with what the manifest says rendered it. */
  static List<ContactSheet.Shot> shots(Job job, JsonNode manifest) {
    Map<Integer, JsonNode> rendered = new HashMap<>();
    if (manifest != null && manifest.path("shots").isArray()) {
      for (JsonNode s : manifest.path("shots")) {
        rendered.put(s.path("index").asInt(-1), s);
      }
    }
    List<ContactSheet.Shot> out = new ArrayList<>();
    for (ShotSpec spec : job.getShots()) {
      JsonNode r = rendered.get(spec.getIndex());
      out.add(
          r == null
              ? new ContactSheet.Shot(spec.getIndex(), spec.getDurationSec(), null, 0, null)
              : new ContactSheet.Shot(
                  spec.getIndex(),
                  spec.getDurationSec(),
                  r.path("backend").asText(null),
                  r.path("attempt").asInt(0),
                  r.path("uri").asText(null)));
    }
    return out;
  }
}
