package com.aiprod.pipeline.model;

import com.google.auto.value.AutoValue;
import org.apache.beam.sdk.schemas.AutoValueSchema;
import org.apache.beam.sdk.schemas.annotations.DefaultSchema;

/** Who sent a request, from the verified Firebase ID token (DESIGN §3). */
@DefaultSchema(AutoValueSchema.class)
@AutoValue
public abstract class Principal {
  public abstract String getUid();

  public abstract String getTenant();

  /** One of {@code viewer user service admin}. */
  public abstract String getRole();

  /** One of {@code free pro enterprise}. */
  public abstract String getPlan();

  public static Principal create(String uid, String tenant, String role, String plan) {
    return new AutoValue_Principal(uid, tenant, role, plan);
  }
}
