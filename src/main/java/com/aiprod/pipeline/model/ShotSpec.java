package com.aiprod.pipeline.model;

import com.google.auto.value.AutoValue;
import org.apache.beam.sdk.schemas.AutoValueSchema;
import org.apache.beam.sdk.schemas.annotations.DefaultSchema;

/** One planned shot (DESIGN §6). */
@DefaultSchema(AutoValueSchema.class)
@AutoValue
public abstract class ShotSpec {
  /** 0-based. */
  public abstract int getIndex();

  public abstract double getDurationSec();

  /** Its slice of the script plus the job's consistency markers. */
  public abstract String getPrompt();

  /** hash(job_id, index): the same shot always renders with the same seed. */
  public abstract long getSeed();

  public static ShotSpec create(int index, double durationSec, String prompt, long seed) {
    return new AutoValue_ShotSpec(index, durationSec, prompt, seed);
  }
}
