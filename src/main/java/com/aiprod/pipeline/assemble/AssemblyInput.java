package com.aiprod.pipeline.assemble;

import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.ShotResult;
import com.google.auto.value.AutoValue;
import javax.annotation.Nullable;
import org.apache.beam.sdk.schemas.AutoValueSchema;
import org.apache.beam.sdk.schemas.annotations.DefaultSchema;

/** What a job's assembly state receives: the job itself, one of its shot results, or a cancel. */
@DefaultSchema(AutoValueSchema.class)
@AutoValue
public abstract class AssemblyInput {
  public abstract @Nullable Job getJob();

  public abstract @Nullable ShotResult getShot();

  /** An authorized cancel request (a Job with action {@code cancel}, of the requester). */
  public abstract @Nullable Job getCancel();

  public static AssemblyInput ofJob(Job job) {
    return new AutoValue_AssemblyInput(job, null, null);
  }

  public static AssemblyInput ofShot(ShotResult shot) {
    return new AutoValue_AssemblyInput(null, shot, null);
  }

  public static AssemblyInput ofCancel(Job cancel) {
    return new AutoValue_AssemblyInput(null, null, cancel);
  }
}
