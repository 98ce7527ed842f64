package com.aiprod.pipeline.model;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import javax.annotation.Nullable;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.CoderException;
import org.apache.beam.sdk.coders.CoderProvider;
import org.apache.beam.sdk.coders.CoderProviders;
import org.apache.beam.sdk.util.VarInt;
import org.apache.beam.sdk.values.TypeDescriptor;

/**
 * The coder of every {@link Job} ({@code @DefaultCoder} on the class): its fields written one after
 * another in the order of {@link #FIELDS}, with {@link JobRequest}, {@link ShotSpec} and {@link
 * HistoryEntry} inside. A job crosses every keyed exchange and every multi-output step of the graph
 * (on Flink each output of a step is encoded for each consumer); the schema coder it replaces
 * converted to and from a {@code Row} each time (docs/PERFORMANCE.md). Strings and lists carry a
 * length (0 = null); nullable numbers a presence byte. Deterministic: equal jobs encode to equal
 * bytes. {@code JobCoderTest} fails when a property of these classes is not in {@link #FIELDS}.
 */
public final class JobCoder extends AtomicCoder<Job> {
  private static final long serialVersionUID = 1L;
  private static final JobCoder INSTANCE = new JobCoder();

  /** The properties written, by class, in order. */
  static final List<String> FIELDS =
      List.of(
          "Job.messageId",
          "Job.jobId",
          "Job.tenant",
          "Job.uid",
          "Job.role",
          "Job.plan",
          "Job.receivedAtMillis",
          "Job.state",
          "Job.reasonCode",
          "Job.reason",
          "Job.request",
          "Job.backend",
          "Job.fallbackBackends",
          "Job.estimateUsd",
          "Job.costUsd",
          "Job.providerCostUsd",
          "Job.clipSeconds",
          "Job.shots",
          "Job.planner",
          "Job.shotsDone",
          "Job.shotUris",
          "Job.qaTechnical",
          "Job.qaSemantic",
          "Job.qaSemanticScorer",
          "Job.videoUri",
          "Job.manifestUri",
          "Job.contactSheetUri",
          "Job.history",
          "Job.finishedAtMillis",
          "Job.ordinal",
          "Job.inputPayload",
          "Job.action",
          "Job.cancelMessageId",
          "JobRequest.content",
          "JobRequest.preset",
          "JobRequest.mode",
          "JobRequest.priority",
          "JobRequest.lang",
          "JobRequest.durationSec",
          "JobRequest.budgetUsd",
          "JobRequest.brandId",
          "JobRequest.style",
          "JobRequest.mood",
          "JobRequest.cameraStyle",
          "JobRequest.colorPalette",
          "JobRequest.aspectRatio",
          "JobRequest.fps",
          "JobRequest.backend",
          "ShotSpec.index",
          "ShotSpec.durationSec",
          "ShotSpec.prompt",
          "ShotSpec.seed",
          "HistoryEntry.state",
          "HistoryEntry.atMillis",
          "HistoryEntry.detail");

  private JobCoder() {}

  public static JobCoder of() {
    return INSTANCE;
  }

  /** For {@code @DefaultCoder}. */
  public static CoderProvider getCoderProvider() {
    return CoderProviders.forCoder(TypeDescriptor.of(Job.class), INSTANCE);
  }

  @Override
  public void encode(Job j, OutputStream os) throws IOException {
    if (j == null) {
      throw new CoderException("cannot encode a null Job");
    }
    DataOutputStream out = new DataOutputStream(os);
    string(out, j.getMessageId());
    string(out, j.getJobId());
    string(out, j.getTenant());
    string(out, j.getUid());
    string(out, j.getRole());
    string(out, j.getPlan());
    out.writeLong(j.getReceivedAtMillis());
    string(out, j.getState());
    string(out, j.getReasonCode());
    string(out, j.getReason());
    request(out, j.getRequest());
    string(out, j.getBackend());
    strings(out, j.getFallbackBackends());
    out.writeDouble(j.getEstimateUsd());
    out.writeDouble(j.getCostUsd());
    out.writeDouble(j.getProviderCostUsd());
    out.writeDouble(j.getClipSeconds());
    VarInt.encode(j.getShots().size(), out);
    for (ShotSpec s : j.getShots()) {
      VarInt.encode(s.getIndex(), out);
      out.writeDouble(s.getDurationSec());
      string(out, s.getPrompt());
      out.writeLong(s.getSeed());
    }
    string(out, j.getPlanner());
    VarInt.encode(j.getShotsDone(), out);
    strings(out, j.getShotUris());
    nullableDouble(out, j.getQaTechnical());
    nullableDouble(out, j.getQaSemantic());
    string(out, j.getQaSemanticScorer());
    string(out, j.getVideoUri());
    string(out, j.getManifestUri());
    string(out, j.getContactSheetUri());
    VarInt.encode(j.getHistory().size(), out);
    for (HistoryEntry h : j.getHistory()) {
      string(out, h.getState());
      out.writeLong(h.getAtMillis());
      string(out, h.getDetail());
    }
    out.writeBoolean(j.getFinishedAtMillis() != null);
    if (j.getFinishedAtMillis() != null) {
      out.writeLong(j.getFinishedAtMillis());
    }
    out.writeLong(j.getOrdinal());
    string(out, j.getInputPayload());
    string(out, j.getAction());
    string(out, j.getCancelMessageId());
    out.flush();
  }

  @Override
  public Job decode(InputStream is) throws IOException {
    DataInputStream in = new DataInputStream(is);
    Job.Builder b =
        Job.builder()
            .setMessageId(string(in))
            .setJobId(string(in))
            .setTenant(string(in))
            .setUid(string(in))
            .setRole(string(in))
            .setPlan(string(in))
            .setReceivedAtMillis(in.readLong())
            .setState(string(in))
            .setReasonCode(string(in))
            .setReason(string(in))
            .setRequest(request(in))
            .setBackend(string(in))
            .setFallbackBackends(strings(in))
            .setEstimateUsd(in.readDouble())
            .setCostUsd(in.readDouble())
            .setProviderCostUsd(in.readDouble())
            .setClipSeconds(in.readDouble());
    int shots = VarInt.decodeInt(in);
    List<ShotSpec> shotList = new ArrayList<>(shots);
    for (int i = 0; i < shots; i++) {
      shotList.add(
          ShotSpec.create(VarInt.decodeInt(in), in.readDouble(), string(in), in.readLong()));
    }
    b.setShots(shotList)
        .setPlanner(string(in))
        .setShotsDone(VarInt.decodeInt(in))
        .setShotUris(strings(in))
        .setQaTechnical(nullableDouble(in))
        .setQaSemantic(nullableDouble(in))
        .setQaSemanticScorer(string(in))
        .setVideoUri(string(in))
        .setManifestUri(string(in))
        .setContactSheetUri(string(in));
    int entries = VarInt.decodeInt(in);
    List<HistoryEntry> history = new ArrayList<>(entries);
    for (int i = 0; i < entries; i++) {
      history.add(HistoryEntry.create(string(in), in.readLong(), string(in)));
    }
    b.setHistory(history).setFinishedAtMillis(in.readBoolean() ? in.readLong() : null);
    try {
      return b.setOrdinal(in.readLong())
          .setInputPayload(string(in))
          .setAction(string(in))
          .setCancelMessageId(string(in))
          .build();
    } catch (IllegalStateException | NullPointerException e) {
      throw new CoderException("not an encoded Job: " + e.getMessage(), e);
    }
  }

  @Override
  public void verifyDeterministic() {}

  private static void request(DataOutputStream out, @Nullable JobRequest r) throws IOException {
    out.writeBoolean(r != null);
    if (r == null) {
      return;
    }
    string(out, r.getContent());
    string(out, r.getPreset());
    string(out, r.getMode());
    string(out, r.getPriority());
    string(out, r.getLang());
    VarInt.encode(r.getDurationSec(), out);
    out.writeDouble(r.getBudgetUsd());
    string(out, r.getBrandId());
    string(out, r.getStyle());
    string(out, r.getMood());
    string(out, r.getCameraStyle());
    string(out, r.getColorPalette());
    string(out, r.getAspectRatio());
    VarInt.encode(r.getFps(), out);
    string(out, r.getBackend());
  }

  private static @Nullable JobRequest request(DataInputStream in) throws IOException {
    if (!in.readBoolean()) {
      return null;
    }
    return JobRequest.builder()
        .setContent(string(in))
        .setPreset(string(in))
        .setMode(string(in))
        .setPriority(string(in))
        .setLang(string(in))
        .setDurationSec(VarInt.decodeInt(in))
        .setBudgetUsd(in.readDouble())
        .setBrandId(string(in))
        .setStyle(string(in))
        .setMood(string(in))
        .setCameraStyle(string(in))
        .setColorPalette(string(in))
        .setAspectRatio(string(in))
        .setFps(VarInt.decodeInt(in))
        .setBackend(string(in))
        .build();
  }

  private static void string(DataOutputStream out, @Nullable String s) throws IOException {
    if (s == null) {
      VarInt.encode(0, out);
      return;
    }
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    VarInt.encode(bytes.length + 1, out);
    out.write(bytes);
  }

  private static @Nullable String string(DataInputStream in) throws IOException {
    int n = VarInt.decodeInt(in);
    if (n == 0) {
      return null;
    }
    byte[] bytes = new byte[n - 1];
    in.readFully(bytes);
    return new String(bytes, StandardCharsets.UTF_8);
  }

  private static void strings(DataOutputStream out, List<String> list) throws IOException {
    VarInt.encode(list.size(), out);
    for (String s : list) {
      string(out, s);
    }
  }

  private static List<String> strings(DataInputStream in) throws IOException {
    int n = VarInt.decodeInt(in);
    List<String> list = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      list.add(string(in));
    }
    return list;
  }

  private static void nullableDouble(DataOutputStream out, @Nullable Double d) throws IOException {
    out.writeBoolean(d != null);
    if (d != null) {
      out.writeDouble(d);
    }
  }

  private static @Nullable Double nullableDouble(DataInputStream in) throws IOException {
    return in.readBoolean() ? in.readDouble() : null;
  }
}
