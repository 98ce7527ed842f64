package com.aiprod.pipeline.testing;

import com.aiprod.pipeline.model.HistoryEntry;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobRequest;
import com.aiprod.pipeline.model.ShotSpec;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.coders.CustomCoder;

/**
 * A field-by-field coder of {@link Job} for tests.
 *
 * <p>Beam 2.70's {@code AutoValueSchema} only sees getters named {@code getX()}/{@code isX()}; the
 * model's AutoValue types use bare names ({@code jobId()}), so their inferred schema has no fields
 * and the inferred SchemaCoder cannot decode a Job. Tests set this coder explicitly.
 */
public final class TestJobCoder extends CustomCoder<Job> {
  private static final TestJobCoder INSTANCE = new TestJobCoder();

  public static TestJobCoder of() {
    return INSTANCE;
  }

  @Override
  public void encode(Job j, OutputStream os) throws IOException {
    DataOutputStream out = new DataOutputStream(os);
    out.writeUTF(j.messageId());
    out.writeUTF(j.jobId());
    out.writeUTF(j.tenant());
    out.writeUTF(j.uid());
    out.writeUTF(j.role());
    out.writeUTF(j.plan());
    out.writeLong(j.receivedAtMillis());
    out.writeUTF(j.state());
    str(out, j.reasonCode());
    str(out, j.reason());
    JobRequest r = j.request();
    out.writeBoolean(r != null);
    if (r != null) {
      out.writeUTF(r.content());
      out.writeUTF(r.preset());
      out.writeUTF(r.mode());
      out.writeUTF(r.priority());
      out.writeUTF(r.lang());
      out.writeInt(r.durationSec());
      out.writeDouble(r.budgetUsd());
      str(out, r.brandId());
      str(out, r.style());
      str(out, r.mood());
      str(out, r.cameraStyle());
      str(out, r.colorPalette());
      out.writeUTF(r.aspectRatio());
      out.writeInt(r.fps());
      str(out, r.backend());
    }
    str(out, j.backend());
    out.writeDouble(j.estimateUsd());
    out.writeDouble(j.costUsd());
    out.writeInt(j.shots().size());
    for (ShotSpec s : j.shots()) {
      out.writeInt(s.index());
      out.writeDouble(s.durationSec());
      out.writeUTF(s.prompt());
      out.writeLong(s.seed());
    }
    out.writeInt(j.shotsDone());
    dbl(out, j.qaTechnical());
    dbl(out, j.qaSemantic());
    str(out, j.qaSemanticScorer());
    str(out, j.videoUri());
    str(out, j.manifestUri());
    out.writeInt(j.history().size());
    for (HistoryEntry h : j.history()) {
      out.writeUTF(h.state());
      out.writeLong(h.atMillis());
      out.writeUTF(h.detail());
    }
    out.writeBoolean(j.finishedAtMillis() != null);
    if (j.finishedAtMillis() != null) {
      out.writeLong(j.finishedAtMillis());
    }
    out.flush();
  }

  @Override
  public Job decode(InputStream is) throws IOException {
    DataInputStream in = new DataInputStream(is);
    Job.Builder b =
        Job.builder()
            .setMessageId(in.readUTF())
            .setJobId(in.readUTF())
            .setTenant(in.readUTF())
            .setUid(in.readUTF())
            .setRole(in.readUTF())
            .setPlan(in.readUTF())
            .setReceivedAtMillis(in.readLong())
            .setState(in.readUTF())
            .setReasonCode(str(in))
            .setReason(str(in));
    if (in.readBoolean()) {
      b.setRequest(
          JobRequest.builder()
              .setContent(in.readUTF())
              .setPreset(in.readUTF())
              .setMode(in.readUTF())
              .setPriority(in.readUTF())
              .setLang(in.readUTF())
              .setDurationSec(in.readInt())
              .setBudgetUsd(in.readDouble())
              .setBrandId(str(in))
              .setStyle(str(in))
              .setMood(str(in))
              .setCameraStyle(str(in))
              .setColorPalette(str(in))
              .setAspectRatio(in.readUTF())
              .setFps(in.readInt())
              .setBackend(str(in))
              .build());
    }
    b.setBackend(str(in)).setEstimateUsd(in.readDouble()).setCostUsd(in.readDouble());
    int shots = in.readInt();
    List<ShotSpec> specs = new ArrayList<>();
    for (int i = 0; i < shots; i++) {
      specs.add(ShotSpec.create(in.readInt(), in.readDouble(), in.readUTF(), in.readLong()));
    }
    b.setShots(specs)
        .setShotsDone(in.readInt())
        .setQaTechnical(dbl(in))
        .setQaSemantic(dbl(in))
        .setQaSemanticScorer(str(in))
        .setVideoUri(str(in))
        .setManifestUri(str(in));
    int history = in.readInt();
    List<HistoryEntry> entries = new ArrayList<>();
    for (int i = 0; i < history; i++) {
      entries.add(HistoryEntry.create(in.readUTF(), in.readLong(), in.readUTF()));
    }
    b.setHistory(entries);
    b.setFinishedAtMillis(in.readBoolean() ? in.readLong() : null);
    return b.build();
  }

  @Override
  public void verifyDeterministic() {}

  private static void str(DataOutputStream out, String s) throws IOException {
    out.writeBoolean(s != null);
    if (s != null) {
      out.writeUTF(s);
    }
  }

  private static String str(DataInputStream in) throws IOException {
    return in.readBoolean() ? in.readUTF() : null;
  }

  private static void dbl(DataOutputStream out, Double d) throws IOException {
    out.writeBoolean(d != null);
    if (d != null) {
      out.writeDouble(d);
    }
  }

  private static Double dbl(DataInputStream in) throws IOException {
    return in.readBoolean() ? in.readDouble() : null;
  }
}
