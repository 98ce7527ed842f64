package com.aiprod.pipeline.kernel;

import com.aiprod.pipeline.model.AuditEvent;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import javax.annotation.Nullable;

/**
 * Builds audit events (DESIGN §9) for one environment. Event ids are deterministic — a hash of the
 * message, the event type, the action and a discriminator — so a retried write is one row.
 */
public final class AuditEvents implements Serializable {
  public static final String API_CALL = "API_CALL";
  public static final String AUTH_SUCCESS = "AUTH_SUCCESS";
  public static final String AUTH_FAILURE = "AUTH_FAILURE";
  public static final String PERMISSION_DENIED = "PERMISSION_DENIED";
  public static final String DATA_ACCESS = "DATA_ACCESS";
  public static final String CONFIG_CHANGE = "CONFIG_CHANGE";
  public static final String SECRET_ACCESS = "SECRET_ACCESS";
  public static final String ADMIN_ACTION = "ADMIN_ACTION";
  public static final String ERROR = "ERROR";
  public static final String SECURITY_ALERT = "SECURITY_ALERT";

  public static final String SUCCESS = "success";
  public static final String FAILURE = "failure";
  public static final String DENIED = "denied";
  public static final String ALERT = "alert";
  public static final String ERROR_STATUS = "error";

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final String environment;

  public AuditEvents(String environment) {
    this.environment = environment;
  }

  public String environment() {
    return environment;
  }

  /** A new details object to fill. */
  public static ObjectNode details() {
    return MAPPER.createObjectNode();
  }

  /**
   * An event about one message. {@code discriminator} separates events of the same type and action
   * for one message (e.g. a shot index); use "" when there is only one.
   */
  public AuditEvent event(
      String type,
      String status,
      String action,
      @Nullable String messageId,
      @Nullable String tenant,
      @Nullable String userId,
      @Nullable String jobId,
      @Nullable String resource,
      ObjectNode details,
      long eventTimeMillis,
      String discriminator) {
    return AuditEvent.builder()
        .setEventId(eventId(type, action, messageId, jobId, discriminator))
        .setEventTimeMillis(eventTimeMillis)
        .setEventType(type)
        .setEnvironment(environment)
        .setTenant(tenant)
        .setUserId(userId)
        .setAction(action)
        .setResource(resource)
        .setStatus(status)
        .setJobId(jobId)
        .setMessageId(messageId)
        .setDetails(details.toString())
        .build();
  }

  /** SHA-256 over the identifying parts, 32 hex chars. */
  public static String eventId(String... parts) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      for (String p : parts) {
        sha.update((p == null ? "\u0000" : p).getBytes(StandardCharsets.UTF_8));
        sha.update((byte) 0x1f);
      }
      return HexFormat.of().formatHex(sha.digest(), 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
