package com.aiprod.pipeline.kernel;

import com.aiprod.pipeline.model.DeadLetter;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.ReasonCode;
import com.aiprod.pipeline.model.Redaction;
import com.aiprod.pipeline.model.RequestMessage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import javax.annotation.Nullable;

/** Builds dead letters: never with a token (attributes and text are redacted). */
public final class DeadLetters {
  private DeadLetters() {}

  /** A dead letter for a message that never became a job. */
  public static DeadLetter of(
      RequestMessage message,
      ReasonCode code,
      String errorMessage,
      String stage,
      @Nullable Throwable error) {
    String text = message.getRawText();
    byte[] bytes = null;
    if (message.getPayload() != null) {
      String decoded = decodeStrict(message.getPayload());
      if (decoded != null) {
        text = decoded;
      } else {
        bytes = message.getPayload();
      }
    }
    return DeadLetter.builder()
        .setTimestampMillis(System.currentTimeMillis())
        .setPayloadString(text == null ? null : Redaction.redactText(text))
        .setPayloadBytes(bytes)
        .setAttributes(Redaction.redactAttributes(message.getAttributes()))
        .setErrorMessage(Redaction.redactText(errorMessage))
        .setStacktrace(stacktrace(error))
        .setReasonCode(code.name())
        .setStage(stage)
        .setMessageId(message.getMessageId())
        .build();
  }

  /** A dead letter for an authenticated job that must not touch its document (e.g. a duplicate). */
  public static DeadLetter ofJob(Job job, ReasonCode code, String errorMessage, String stage) {
    return ofJob(job, code, errorMessage, stage, null);
  }

  /** The same, with the error that caused it (its stack trace is kept, redacted). */
  public static DeadLetter ofJob(
      Job job, ReasonCode code, String errorMessage, String stage, @Nullable Throwable error) {
    Map<String, String> attributes = new TreeMap<>();
    attributes.put("job_id", job.getJobId());
    attributes.put("tenant", job.getTenant());
    attributes.put("uid", job.getUid());
    attributes.put(Redaction.AUTHORIZATION, Redaction.REDACTED);
    return DeadLetter.builder()
        .setTimestampMillis(System.currentTimeMillis())
        .setPayloadString(
            job.getInputPayload() == null ? null : Redaction.redactText(job.getInputPayload()))
        .setPayloadBytes(null)
        .setAttributes(attributes)
        .setErrorMessage(Redaction.redactText(errorMessage))
        .setStacktrace(stacktrace(error))
        .setReasonCode(code.name())
        .setStage(stage)
        .setMessageId(job.getMessageId())
        .build();
  }

  /** The message of an INTERNAL_ERROR dead letter: which stage broke, never the error's text. */
  public static String unexpected(String stage, Throwable error) {
    return stage
        + " failed unexpectedly ("
        + error.getClass().getSimpleName()
        + "); report this message id to the operators";
  }

  static @Nullable String stacktrace(@Nullable Throwable error) {
    if (error == null) {
      return null;
    }
    StringWriter w = new StringWriter();
    error.printStackTrace(new PrintWriter(w));
    String s = w.toString();
    return Redaction.redactText(s.length() > 16_000 ? s.substring(0, 16_000) : s);
  }

  static @Nullable String decodeStrict(byte[] bytes) {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }
}
