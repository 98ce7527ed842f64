package com.aiprod.pipeline.ingest;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.hamcrest.Matchers.not;

import com.aiprod.pipeline.auth.AuthConfig;
import com.aiprod.pipeline.auth.Authenticate;
import com.aiprod.pipeline.auth.ClaimedSubject;
import com.aiprod.pipeline.auth.DevAuthKeys;
import com.aiprod.pipeline.auth.DevTokens;
import com.aiprod.pipeline.catalog.PricingTable;
import com.aiprod.pipeline.kernel.AuditEvents;
import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.model.AuditType;
import com.aiprod.pipeline.model.DeadLetter;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.RequestMessage;
import com.aiprod.pipeline.validate.RequestValidator;
import com.aiprod.pipeline.validate.Validate;
import com.aiprod.pipeline.validate.ValidationResult;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The worst messages of {@link HostileInputs} through the real ReadRequests, Authenticate and
 * Validate stages: each gets its one outcome (the right dead-letter code, or a REJECTED job with
 * the reason), a good request beside them goes through, and no dead letter carries more than the
 * message did. Their CPU cost per stage is measured by {@link HostileInputBenchmark}.
 */
class HostileInputTest {
  private static final String PROJECT = "demo-aiprod";

  @RegisterExtension final TestPipelineExtension pipeline = TestPipelineExtension.create();

  @TempDir static Path dir;

  private static String token;
  private static Path keyDir;

  @BeforeAll
  static void keys() throws IOException {
    keyDir = dir.resolve("dev-auth");
    DevAuthKeys keys = DevAuthKeys.loadOrCreate(keyDir);
    token = new DevTokens(keys, PROJECT).mint("alice", "acme", "user", "pro", Duration.ofHours(1));
  }

  /** "line:OUTCOME" of a message id "path:line". */
  private static String outcome(String messageId, String outcome) {
    return messageId.substring(messageId.lastIndexOf(':') + 1) + ":" + outcome;
  }

  @Test
  void everyHostileLineGetsItsOutcomeBesideAGoodRequest(TestPipeline p) throws IOException {
    List<HostileInputs.Case> cases = HostileInputs.all(token);
    ByteArrayOutputStream file = new ByteArrayOutputStream();
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < cases.size(); i++) {
      file.write(cases.get(i).line());
      file.write('\n');
      expected.add((i + 1) + ":" + cases.get(i).outcome());
    }
    file.write(
        HostileInputs.jsonLine(
            HostileInputs.auth("Bearer " + token),
            HostileInputs.body(HostileInputs.GOOD_CONTENT, "")));
    file.write('\n');
    expected.add((cases.size() + 1) + ":RECEIVED/null"); // valid, on to Admit
    Path input = dir.resolve("hostile.jsonl");
    Files.write(input, file.toByteArray());

    PCollection<RequestMessage> read = p.apply(ReadRequests.fromFiles(input.toString()));
    PCollectionTuple auth =
        read.apply(
            new Authenticate(AuthConfig.dev(PROJECT, keyDir.toString()), new AuditEvents("test")));
    PCollectionTuple valid =
        auth.get(Authenticate.AUTHENTICATED).apply(new Validate(PricingTable.builtIn()));
    PCollection<DeadLetter> deadLetters =
        PCollectionList.of(auth.get(StageTags.DEAD_LETTERS))
            .and(valid.get(StageTags.DEAD_LETTERS))
            .apply("AllDeadLetters", Flatten.pCollections());
    PCollection<String> fromDeadLetters =
        deadLetters.apply(
            "DeadLetterOutcomes",
            MapElements.into(TypeDescriptors.strings())
                .via(d -> outcome(d.getMessageId(), d.getReasonCode())));
    PCollection<String> fromJobs =
        valid
            .get(StageTags.JOBS)
            .apply(
                "JobOutcomes",
                MapElements.into(TypeDescriptors.strings())
                    .via(
                        (Job j) ->
                            outcome(
                                j.getMessageId(),
                                "REJECTED".equals(j.getState())
                                        && "SCHEMA_VIOLATION".equals(j.getReasonCode())
                                    ? "REJECTED"
                                    : j.getState() + "/" + j.getReasonCode())));
    PAssert.that(
            PCollectionList.of(fromDeadLetters).and(fromJobs).apply("All", Flatten.pCollections()))
        .containsInAnyOrder(expected);

    int count = cases.size() + 1;
    // Only serializable values go into the checks.
    int attributesLine = line(cases, "10,000 attributes");
    int numberLine = line(cases, "5,000-digit number");
    int deepLine = line(cases, "900-deep array body (closed)");
    int bearerLine = line(cases, "authorization: Bearer ×9,000");
    int marksLine = line(cases, "32,000 raw combining marks of alternating classes");
    int unknownLine = line(cases, "8,000 unknown fields");
    PAssert.that(auth.get(StageTags.AUDIT))
        .satisfies(
            events -> {
              int authEvents = 0;
              for (AuditEvent e : events) {
                if (e.getEventType().equals(AuditType.AUTH_SUCCESS.name())
                    || e.getEventType().equals(AuditType.AUTH_FAILURE.name())) {
                  authEvents++;
                }
                assertThat(e.getDetails(), not(containsString(token)));
              }
              assertThat(authEvents, equalTo(count));
              return null;
            });
    PAssert.that(deadLetters)
        .satisfies(
            all -> {
              Map<String, DeadLetter> byLine = new TreeMap<>();
              for (DeadLetter d : all) {
                byLine.put(outcome(d.getMessageId(), ""), d);
                String text = d.toString();
                assertThat(text, not(containsString(token.substring(token.lastIndexOf('.') + 1))));
                assertThat(d.getErrorMessage().length(), lessThanOrEqualTo(1_000));
                if (d.getPayloadString() != null) {
                  assertThat(
                      d.getPayloadString().length(),
                      lessThanOrEqualTo(Envelope.MAX_PAYLOAD_BYTES + 4096));
                }
                assertThat(d.getAttributes().size(), lessThanOrEqualTo(Envelope.MAX_ATTRIBUTES));
              }
              assertThat(
                  message(byLine, attributesLine), containsString("attributes; at most 100"));
              assertThat(
                  message(byLine, numberLine),
                  containsString("Number length (5000) exceeds the maximum length (100)"));
              assertThat(message(byLine, deepLine), containsString("nesting depth"));
              assertThat(
                  message(byLine, bearerLine), containsString("is longer than 8192 characters"));
              return null;
            });
    PAssert.that(valid.get(StageTags.JOBS))
        .satisfies(
            jobs -> {
              for (Job j : jobs) {
                if (j.getMessageId().endsWith(":" + marksLine)) {
                  assertThat(j.getReason(), containsString("combining marks in a row"));
                }
                if (j.getMessageId().endsWith(":" + unknownLine)) {
                  assertThat(j.getReason(), containsString("f0: unknown field; allowed: content"));
                  assertThat(j.getReason(), containsString(" more"));
                }
              }
              return null;
            });
    p.run().waitUntilFinish();
  }

  private static int line(List<HostileInputs.Case> cases, String name) {
    for (int i = 0; i < cases.size(); i++) {
      if (cases.get(i).name().equals(name)) {
        return i + 1;
      }
    }
    throw new AssertionError("no case " + name);
  }

  private static String message(Map<String, DeadLetter> byLine, int line) {
    DeadLetter d = byLine.get(line + ":");
    assertThat("a dead letter for line " + line, d != null, equalTo(true));
    return d.getErrorMessage();
  }

  @Test
  void thirtyCombiningMarksInARowAreTextThirtyOneAreNot() {
    String thirty = "Waves crash a" + "\u0301".repeat(30) + " on the rocks";
    ValidationResult ok =
        RequestValidator.validate(
            HostileInputs.body(thirty, "").getBytes(StandardCharsets.UTF_8),
            PricingTable.builtIn());
    assertThat(ok.toString(), ok.isValid(), equalTo(true));
    ValidationResult refused =
        RequestValidator.validate(
            HostileInputs.body(thirty.replace("a\u0301", "a\u0301\u0316"), "")
                .getBytes(StandardCharsets.UTF_8),
            PricingTable.builtIn());
    assertThat(
        refused.message(),
        equalTo(
            "content: has 31 combining marks in a row; at most 30 may follow one character (Unicode"
                + " stream-safe text, UAX #15): remove them"));
  }

  @Test
  void aLineMayCarryAsManyAttributesAsAPubsubMessage() {
    Map<String, String> attributes = new TreeMap<>();
    for (int i = 0; i < Envelope.MAX_ATTRIBUTES; i++) {
      attributes.put("k" + i, "v");
    }
    String body = HostileInputs.body(HostileInputs.GOOD_CONTENT, "");
    assertThat(Envelope.parseLine(HostileInputs.rawLine(attributes, body)).isOk(), equalTo(true));
    attributes.put("one-more", "v");
    Envelope.Parsed refused = Envelope.parseLine(HostileInputs.rawLine(attributes, body));
    assertThat(refused.errorCode, equalTo("MALFORMED_JSON"));
    assertThat(
        refused.errorMessage,
        equalTo("envelope has 101 attributes; at most 100 (as a Pub/Sub message)"));
  }

  @Test
  void aRequestNestedDeeperThanTheLimitIsUnreadable() {
    String nested = "{\"content\":\"" + HostileInputs.GOOD_CONTENT + "\",\"preferences\":";
    Envelope.Parsed deep =
        Envelope.checkPayload(
            Map.of(),
            (nested + "[".repeat(63) + "]".repeat(63) + "}").getBytes(StandardCharsets.UTF_8));
    assertThat(deep.isOk(), equalTo(true)); // 64 levels: read, then refused by Validate
    Envelope.Parsed deeper =
        Envelope.checkPayload(
            Map.of(),
            (nested + "[".repeat(64) + "]".repeat(64) + "}").getBytes(StandardCharsets.UTF_8));
    assertThat(deeper.errorCode, equalTo("MALFORMED_JSON"));
    assertThat(
        deeper.errorMessage,
        containsString("Depth (65) exceeds the maximum allowed nesting depth (64)"));
  }

  @Test
  void aClaimedSubjectIsNeverReadFromAHostileToken() {
    for (HostileInputs.Case c : HostileInputs.all(token)) {
      RequestMessage m =
          ReadRequests.ReadLinesFn.toMessage(
              "/in/h.jsonl", 1, new ReadRequests.LineReader.Line(c.line(), false), 0L);
      String header = m.getAttributes().get("authorization");
      if (header != null && !header.equals("Bearer " + token)) {
        assertThat(c.name(), ClaimedSubject.of(header), equalTo(null));
      }
    }
  }
}
