package com.aiprod.pipeline.auth;

import com.aiprod.pipeline.kernel.AuditEvents;
import com.aiprod.pipeline.kernel.DeadLetters;
import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.model.AuditStatus;
import com.aiprod.pipeline.model.AuditType;
import com.aiprod.pipeline.model.AuthFailure;
import com.aiprod.pipeline.model.AuthenticatedRequest;
import com.aiprod.pipeline.model.Principal;
import com.aiprod.pipeline.model.ReasonCode;
import com.aiprod.pipeline.model.Redaction;
import com.aiprod.pipeline.model.RequestMessage;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;

/**
 * Authenticate (DESIGN §3): verifies every message's Firebase ID token with firebase-admin plus our
 * stricter checks, emitting exactly one AUTH_SUCCESS or AUTH_FAILURE per message (and a
 * SECURITY_ALERT for forged tokens). Unreadable messages are authenticated too (for the audit
 * trail) and then dead-lettered with their read error; failed authentication is dead-lettered with
 * its AUTH_* code. The token leaves the message here.
 */
public final class Authenticate extends PTransform<PCollection<RequestMessage>, PCollectionTuple> {
  public static final TupleTag<AuthenticatedRequest> AUTHENTICATED =
      new TupleTag<AuthenticatedRequest>() {};

  /** Each authentication failure with its burst keys (claimed principal, source). */
  public static final TupleTag<AuthFailure> AUTH_FAILURES = new TupleTag<AuthFailure>() {};

  static final String STAGE = "Authenticate";

  private final AuthConfig config;
  private final AuditEvents audit;

  public Authenticate(AuthConfig config, AuditEvents audit) {
    this.config = config;
    this.audit = audit;
  }

  @Override
  public PCollectionTuple expand(PCollection<RequestMessage> input) {
    // Also checked with the other options (OptionsCheck); repeated here so that no graph built
    // around this transform can trust the dev key pair on Dataflow.
    if (config.mode() == AuthConfig.Mode.DEV
        && AuthConfig.isDataflowRunner(input.getPipeline().getOptions().getRunner())) {
      throw new IllegalArgumentException(AuthConfig.DEV_ON_DATAFLOW);
    }
    return input.apply(
        "VerifyIdTokens",
        ParDo.of(new VerifyFn(config, audit))
            .withOutputTags(
                AUTHENTICATED,
                TupleTagList.of(StageTags.AUDIT).and(StageTags.DEAD_LETTERS).and(AUTH_FAILURES)));
  }

  static final class VerifyFn extends DoFn<RequestMessage, AuthenticatedRequest> {
    private final AuthConfig config;
    private final AuditEvents audit;
    private final Counter success = Metrics.counter("aiprod", "auth_success");
    private final Counter failure = Metrics.counter("aiprod", "auth_failure");
    private transient TokenVerifier verifier;

    VerifyFn(AuthConfig config, AuditEvents audit) {
      this.config = config;
      this.audit = audit;
    }

    @Setup
    public void setup() throws java.io.IOException {
      verifier = TokenVerifier.create(config);
    }

    @Teardown
    public void teardown() throws Exception {
      if (verifier != null) {
        verifier.close();
      }
    }

    @ProcessElement
    public void process(@Element RequestMessage message, MultiOutputReceiver out) {
      String header = findAuthorization(message.getAttributes());
      AuthResult result = verifier.verify(header);
      long now = System.currentTimeMillis();
      RequestMessage withoutToken =
          message.toBuilder().setAttributes(withoutAuthorization(message.getAttributes())).build();
      ObjectNode details = AuditEvents.details();
      if (result.isOk()) {
        success.inc();
        Principal p = result.principal();
        details
            .put("role", p.getRole())
            .put("plan", p.getPlan())
            .put("mode", config.mode().flagValue());
        out.get(StageTags.AUDIT)
            .output(
                audit
                    .event(AuditType.AUTH_SUCCESS, AuditStatus.SUCCESS, "authenticate")
                    .aboutMessage(message.getMessageId(), p.getTenant(), p.getUid())
                    .details(details)
                    .at(now)
                    .build());
      } else {
        failure.inc();
        details.put("reason_code", result.reasonCode()).put("reason", result.message());
        // Who the token claims to be (unverified, never the token) and where it came from:
        // the keys of auth-failure burst detection.
        String claimed = ClaimedSubject.of(header);
        if (claimed != null) {
          details.put("claimed_uid", claimed);
        }
        if (message.getSource() != null) {
          details.put("source", message.getSource());
        }
        AuditEvent failed =
            audit
                .event(AuditType.AUTH_FAILURE, AuditStatus.FAILURE, "authenticate")
                .aboutMessage(message.getMessageId(), null, null)
                .details(details)
                .at(now)
                .build();
        out.get(StageTags.AUDIT).output(failed);
        out.get(AUTH_FAILURES)
            .output(AuthFailure.of(failed.getEventId(), claimed, message.getSource()));
        if (result.forged()) {
          ObjectNode alert =
              AuditEvents.details().put("reason", "forged token: " + result.message());
          out.get(StageTags.AUDIT)
              .output(
                  audit
                      .event(AuditType.SECURITY_ALERT, AuditStatus.ALERT, "forged_token")
                      .aboutMessage(message.getMessageId(), null, null)
                      .details(alert)
                      .at(now)
                      .build());
        }
      }
      if (message.getReadErrorCode() != null) {
        out.get(StageTags.DEAD_LETTERS)
            .output(
                DeadLetters.of(
                    message,
                    ReasonCode.valueOf(message.getReadErrorCode()),
                    message.getReadErrorMessage(),
                    "ReadRequests",
                    null));
      } else if (!result.isOk()) {
        out.get(StageTags.DEAD_LETTERS)
            .output(
                DeadLetters.of(
                    message,
                    ReasonCode.valueOf(result.reasonCode()),
                    result.message(),
                    STAGE,
                    null));
      } else {
        out.get(AUTHENTICATED)
            .output(AuthenticatedRequest.create(withoutToken, result.principal()));
      }
    }
  }

  /** The authorization attribute, matched case-insensitively as HTTP headers are. */
  static String findAuthorization(Map<String, String> attributes) {
    for (Map.Entry<String, String> e : attributes.entrySet()) {
      if (e.getKey().equalsIgnoreCase(Redaction.AUTHORIZATION)) {
        return e.getValue();
      }
    }
    return null;
  }

  static Map<String, String> withoutAuthorization(Map<String, String> attributes) {
    Map<String, String> out = new TreeMap<>();
    attributes.forEach(
        (k, v) -> {
          if (!k.equalsIgnoreCase(Redaction.AUTHORIZATION)) {
            out.put(k, v);
          }
        });
    return out;
  }
}
