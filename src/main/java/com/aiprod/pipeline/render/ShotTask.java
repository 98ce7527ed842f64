package com.aiprod.pipeline.render;

import com.aiprod.pipeline.model.ShotSpec;
import com.google.auto.value.AutoValue;
import org.apache.beam.sdk.schemas.AutoValueSchema;
import org.apache.beam.sdk.schemas.annotations.DefaultSchema;

/** One shot of one job to render: what RenderShots fans a job out into. */
@DefaultSchema(AutoValueSchema.class)
@AutoValue
public abstract class ShotTask {
  public abstract String getTenant();

  public abstract String getJobId();

  public abstract String getMessageId();

  public abstract String getUid();

  public abstract String getBackend();

  public abstract int getShotCount();

  public abstract ShotSpec getShot();

  public static ShotTask create(
      String tenant, String jobId, String messageId, String uid, String backend, int shotCount, ShotSpec shot) {
    return new AutoValue_ShotTask(tenant, jobId, messageId, uid, backend, shotCount, shot);
  }
}
