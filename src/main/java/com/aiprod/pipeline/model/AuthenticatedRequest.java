package com.aiprod.pipeline.model;

import com.google.auto.value.AutoValue;
import org.apache.beam.sdk.schemas.AutoValueSchema;
import org.apache.beam.sdk.schemas.annotations.DefaultSchema;

/** A readable message whose token was verified; its {@code authorization} attribute is gone. */
@DefaultSchema(AutoValueSchema.class)
@AutoValue
public abstract class AuthenticatedRequest {
  public abstract RequestMessage getMessage();

  public abstract Principal getPrincipal();

  public static AuthenticatedRequest create(RequestMessage message, Principal principal) {
    return new AutoValue_AuthenticatedRequest(message, principal);
  }
}
