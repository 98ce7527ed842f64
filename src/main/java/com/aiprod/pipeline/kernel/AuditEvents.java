package com.aiprod.pipeline.kernel;

import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.model.AuditStatus;
import com.aiprod.pipeline.model.AuditType;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobResource;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;
import javax.annotation.Nullable;

/**
 * Builds audit events (DESIGN §9) for one environment, typed: an {@link AuditType}, an {@link
 * AuditStatus} and an action, then what the event is about — a job ({@link Draft#about(Job)}: its
 * message, tenant, user and {@link JobResource}), a message, or nothing (run-level events) — its
 * details, time and discriminator. Event ids are deterministic — a hash of the message, the type,
 * the action, the job and the discriminator — so a retried write is one row.
 *
 * <pre>{@code
 * audit.event(AuditType.DATA_ACCESS, AuditStatus.DUPLICATE, "check_duplicate")
 *     .about(job).details(d).at(now).discriminator(STAGE).build();
 * }</pre>
 */
public final class AuditEvents implements Serializable {
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

  /** Starts an event of {@code type} with {@code status} for {@code action}. */
  public Draft event(AuditType type, AuditStatus status, String action) {
    return new Draft(this, type, status, action);
  }

  /** An event being built; {@link #build()} makes the row. */
  public static final class Draft {
    private final AuditEvents audit;
    private final AuditType type;
    private final AuditStatus status;
    private final String action;
    private @Nullable String messageId;
    private @Nullable String tenant;
    private @Nullable String userId;
    private @Nullable String jobId;
    private @Nullable String resource;
    private ObjectNode details;
    private long atMillis = -1;
    private String discriminator = "";

    private Draft(AuditEvents audit, AuditType type, AuditStatus status, String action) {
      this.audit = audit;
      this.type = Objects.requireNonNull(type, "type");
      this.status = Objects.requireNonNull(status, "status");
      this.action = Objects.requireNonNull(action, "action");
      this.details = AuditEvents.details();
    }

    /** About {@code job}: its message, tenant, user, job id and document as the resource. */
    public Draft about(Job job) {
      messageId = job.getMessageId();
      tenant = job.getTenant();
      userId = job.getUid();
      jobId = job.getJobId();
      resource = JobResource.of(job).path();
      return this;
    }

    /** About message {@code messageId} (tenant and user when known, else null). */
    public Draft aboutMessage(
        @Nullable String messageId, @Nullable String tenant, @Nullable String userId) {
      this.messageId = messageId;
      this.tenant = tenant;
      this.userId = userId;
      return this;
    }

    /** The user the event is about (e.g. a claimed principal), when no job or message says it. */
    public Draft user(@Nullable String userId) {
      this.userId = userId;
      return this;
    }

    /** The job id the event is about, without a job document as its resource. */
    public Draft jobId(@Nullable String jobId) {
      this.jobId = jobId;
      return this;
    }

    /** The resource acted on, when it is not a job document ({@link #about(Job)} sets that). */
    public Draft resource(@Nullable String resource) {
      this.resource = resource;
      return this;
    }

    public Draft details(ObjectNode details) {
      this.details = Objects.requireNonNull(details, "details");
      return this;
    }

    /** When it happened (epoch milliseconds). */
    public Draft at(long eventTimeMillis) {
      this.atMillis = eventTimeMillis;
      return this;
    }

    /**
     * Separates events of one type and action about one message (e.g. a shot index); "" when there
     * is only one.
     */
    public Draft discriminator(String discriminator) {
      this.discriminator = Objects.requireNonNull(discriminator, "discriminator");
      return this;
    }

    public AuditEvent build() {
      if (atMillis < 0) {
        throw new IllegalStateException("an audit event needs its time: at(...)");
      }
      return AuditEvent.builder()
          .setEventId(eventId(type.name(), action, messageId, jobId, discriminator))
          .setEventTimeMillis(atMillis)
          .setEventType(type.name())
          .setEnvironment(audit.environment)
          .setTenant(tenant)
          .setUserId(userId)
          .setAction(action)
          .setResource(resource)
          .setStatus(status.wire())
          .setJobId(jobId)
          .setMessageId(messageId)
          .setDetails(details.toString())
          .build();
    }
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
