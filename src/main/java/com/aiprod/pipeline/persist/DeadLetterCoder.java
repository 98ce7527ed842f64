package com.aiprod.pipeline.persist;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Map;
import org.apache.beam.sdk.coders.ByteArrayCoder;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CustomCoder;
import org.apache.beam.sdk.coders.MapCoder;
import org.apache.beam.sdk.coders.NullableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;

/**
 * An explicit coder of {@link DeadLetter}. Beam 2.70's {@code AutoValueSchema} only recognises
 * {@code getX()}/{@code isX()} getters, so the schema inferred for DeadLetter (bare-named getters)
 * has no fields and cannot decode; outputs of this package set this coder instead.
 */
public final class DeadLetterCoder extends CustomCoder<DeadLetter> {
  private static final DeadLetterCoder INSTANCE = new DeadLetterCoder();
  private static final Coder<String> STRING = StringUtf8Coder.of();
  private static final Coder<String> NULLABLE_STRING = NullableCoder.of(STRING);
  private static final Coder<byte[]> NULLABLE_BYTES = NullableCoder.of(ByteArrayCoder.of());
  private static final Coder<Map<String, String>> ATTRIBUTES = MapCoder.of(STRING, STRING);

  private DeadLetterCoder() {}

  public static DeadLetterCoder of() {
    return INSTANCE;
  }

  @Override
  public void encode(DeadLetter d, OutputStream out) throws IOException {
    VarLongCoder.of().encode(d.timestampMillis(), out);
    NULLABLE_STRING.encode(d.payloadString(), out);
    NULLABLE_BYTES.encode(d.payloadBytes(), out);
    ATTRIBUTES.encode(d.attributes(), out);
    STRING.encode(d.errorMessage(), out);
    NULLABLE_STRING.encode(d.stacktrace(), out);
    STRING.encode(d.reasonCode(), out);
    STRING.encode(d.stage(), out);
    STRING.encode(d.messageId(), out);
  }

  @Override
  public DeadLetter decode(InputStream in) throws IOException {
    return DeadLetter.builder()
        .setTimestampMillis(VarLongCoder.of().decode(in))
        .setPayloadString(NULLABLE_STRING.decode(in))
        .setPayloadBytes(NULLABLE_BYTES.decode(in))
        .setAttributes(ATTRIBUTES.decode(in))
        .setErrorMessage(STRING.decode(in))
        .setStacktrace(NULLABLE_STRING.decode(in))
        .setReasonCode(STRING.decode(in))
        .setStage(STRING.decode(in))
        .setMessageId(STRING.decode(in))
        .build();
  }
}
