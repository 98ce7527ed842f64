package com.aiprod.pipeline.secrets;

import com.aiprod.pipeline.kernel.AuditEvents;
import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.model.AuditStatus;
import com.aiprod.pipeline.model.AuditType;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A DoFn instance's view of the worker's {@link SecretResolver} that remembers which secret
 * versions it resolved, so that the SECRET_ACCESS audit events (DESIGN §9) can be emitted from the
 * first bundle after resolution: {@code @Setup} has no output. Use: {@code resolve} in
 * {@code @Setup}, {@code refresh} when a backend answers 401/403, and output {@link #drainEvents}
 * (signed, if before signing) with the next element processed.
 */
public final class SecretAccesses implements SecretResolver {
  public static final String ACTION = "access_secret";

  private final SecretResolver resolver;
  private final Set<String> seen = new HashSet<>();
  private final List<ResolvedSecret> pending = new ArrayList<>();

  public SecretAccesses(SecretResolver resolver) {
    this.resolver = resolver;
  }

  /** The pinned version of {@code name} (cached by the worker's resolver). */
  @Override
  public synchronized ResolvedSecret resolve(String name) {
    return note(resolver.resolve(name));
  }

  /** Re-resolves {@code latest} of {@code name} after a 401/403 (rotation) and pins it. */
  @Override
  public synchronized ResolvedSecret refresh(String name) {
    return note(resolver.refresh(name));
  }

  @Override
  public synchronized ResolvedSecret resolveVersion(String name, String version) {
    return note(resolver.resolveVersion(name, version));
  }

  /** Does nothing: the worker's shared resolver outlives this view. */
  @Override
  public void close() {}

  private ResolvedSecret note(ResolvedSecret s) {
    if (seen.add(s.name() + "\u0000" + s.version())) {
      pending.add(s);
    }
    return s;
  }

  /**
   * The SECRET_ACCESS events of the versions resolved since the last call (each version once per
   * instance). {@code run} is the job name; {@code accessor} names the transform.
   */
  public synchronized List<AuditEvent> drainEvents(
      AuditEvents audit, String run, String accessor, long nowMillis) {
    List<AuditEvent> out = new ArrayList<>();
    for (ResolvedSecret s : pending) {
      out.add(event(audit, s, run, accessor, nowMillis));
    }
    pending.clear();
    return out;
  }

  /**
   * The SECRET_ACCESS event of one resolution: name, version and source, never the value. Its
   * event_id is a hash of (run, source, name, version): every worker resolving the same version in
   * the same run writes the same row.
   */
  public static AuditEvent event(
      AuditEvents audit, ResolvedSecret s, String run, String accessor, long nowMillis) {
    String resource = s.source() + "/secrets/" + s.name() + "/versions/" + s.version();
    return audit
        .event(AuditType.SECRET_ACCESS, AuditStatus.SUCCESS, ACTION)
        .resource(resource)
        .details(
            AuditEvents.details()
                .put("secret", s.name())
                .put("version", s.version())
                .put("source", s.source())
                .put("run", run)
                .put("accessor", accessor))
        .at(nowMillis)
        .discriminator(run + "\u0000" + s.source() + "\u0000" + s.name() + "\u0000" + s.version())
        .build();
  }
}
