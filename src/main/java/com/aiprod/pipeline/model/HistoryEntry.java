package com.aiprod.pipeline.model;

import com.google.auto.value.AutoValue;
import org.apache.beam.sdk.schemas.AutoValueSchema;
import org.apache.beam.sdk.schemas.annotations.DefaultSchema;

/** One entry of a job document's {@code history}. */
@DefaultSchema(AutoValueSchema.class)
@AutoValue
public abstract class HistoryEntry {
  public abstract String getState();

  public abstract long getAtMillis();

  public abstract String getDetail();

  public static HistoryEntry create(String state, long atMillis, String detail) {
    return new AutoValue_HistoryEntry(state, atMillis, detail);
  }
}
