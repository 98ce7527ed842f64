package com.aiprod.pipeline.model;

import com.google.auto.value.AutoValue;
import javax.annotation.Nullable;
import org.apache.beam.sdk.schemas.AutoValueSchema;
import org.apache.beam.sdk.schemas.annotations.DefaultSchema;

/**
 * An authentication failure as burst detection keys it: who the token claimed to be (unverified,
 * never the token) and where the message came from. Emitted by Authenticate beside its AUTH_FAILURE
 * audit event ({@link #getEventId()}), so that nothing parses audit details back.
 */
@DefaultSchema(AutoValueSchema.class)
@AutoValue
public abstract class AuthFailure {
  /** The AUTH_FAILURE audit event's id. */
  public abstract String getEventId();

  /** The token's unverified {@code sub}, or null when it has none. */
  public abstract @Nullable String getClaimedUid();

  /** The message's source (file or subscription), or null. */
  public abstract @Nullable String getSource();

  public static AuthFailure of(
      String eventId, @Nullable String claimedUid, @Nullable String source) {
    return new AutoValue_AuthFailure(eventId, claimedUid, source);
  }
}
