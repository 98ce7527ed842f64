package com.aiprod.pipeline.qa;

import com.google.auto.value.AutoValue;
import java.io.Serializable;
import org.apache.beam.sdk.schemas.AutoValueSchema;
import org.apache.beam.sdk.schemas.annotations.DefaultSchema;

/**
 * One technical QA check: its name, whether it passed, and a short human-readable detail.
 *
 * <p>Accessors are {@code get}/{@code is}-prefixed because Beam's {@link AutoValueSchema} only
 * takes such methods as fields.
 */
@DefaultSchema(AutoValueSchema.class)
@AutoValue
public abstract class CheckResult implements Serializable {
  private static final long serialVersionUID = 1L;

  public abstract String getName();

  public abstract boolean isPassed();

  public abstract String getDetail();

  public static CheckResult create(String name, boolean passed, String detail) {
    return new AutoValue_CheckResult(name, passed, detail);
  }
}
