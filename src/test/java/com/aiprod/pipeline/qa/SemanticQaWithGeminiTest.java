package com.aiprod.pipeline.qa;

import static com.aiprod.pipeline.testing.StageFixtures.AUDIT;
import static com.aiprod.pipeline.testing.StageFixtures.eventTypes;
import static com.aiprod.pipeline.testing.StageFixtures.list;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;
import static org.hamcrest.Matchers.startsWith;

import com.aiprod.pipeline.decide.Decide;
import com.aiprod.pipeline.decide.DecisionRules;
import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobState;
import com.aiprod.pipeline.vertex.FakeGeminiServer;
import com.aiprod.pipeline.vertex.FakeGeminiServer.Answer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.List;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** SemanticQa (then Decide) with Gemini configured, against the loopback Vertex AI. */
class SemanticQaWithGeminiTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  @RegisterExtension final TestPipelineExtension pipeline = TestPipelineExtension.create();

  @TempDir Path dir;

  private FakeGeminiServer server;

  @BeforeEach
  void start() throws Exception {
    server = new FakeGeminiServer();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private static JsonNode details(AuditEvent e) {
    try {
      return MAPPER.readTree(e.getDetails());
    } catch (Exception x) {
      throw new AssertionError(x);
    }
  }

  private static void assertClean(List<AuditEvent> events) {
    for (AuditEvent e : events) {
      assertThat(e.getDetails(), not(containsString(FakeGeminiServer.TOKEN)));
      assertThat(e.getDetails(), not(containsString("lighthouse")));
    }
  }

  @Test
  void geminiScoresTheFramesAndTheJobRecordsIt(TestPipeline p) throws Exception {
    server.script(Answer.json(GeminiScorerTest.scores(0.9, 0.8, 0.7, 0.6)));
    PCollectionTuple out =
        p.apply(Create.of(GeminiScorerTest.rendered(dir)))
            .apply(new SemanticQa(AUDIT, server.config(5)));
    PCollection<Job> decided = out.get(StageTags.JOBS).apply(new Decide()).get(StageTags.FINISHED);

    PAssert.that(out.get(StageTags.JOBS))
        .satisfies(
            jobs -> {
              Job j = list(jobs).get(0);
              assertThat(j.getQaSemantic(), closeTo(0.27 + 0.24 + 0.14 + 0.12, 1e-9));
              assertThat(j.getQaSemanticScorer(), equalTo("gemini:gemini-test"));
              assertThat(j.getReason(), nullValue());
              return null;
            });
    PAssert.that(out.get(StageTags.AUDIT))
        .satisfies(
            events -> {
              List<AuditEvent> all = list(events);
              assertThat(eventTypes(all), contains("API_CALL"));
              AuditEvent e = all.get(0);
              assertThat(e.getAction(), equalTo("score_semantic"));
              assertThat(e.getStatus(), equalTo("success"));
              JsonNode d = details(e);
              assertThat(d.path("frames").asInt(), equalTo(6));
              assertThat(d.path("total_tokens").asLong(), equalTo(1555L));
              assertThat(d.path("style").asDouble(), equalTo(0.9));
              assertThat(d.path("score").asDouble(), closeTo(0.77, 1e-9));
              assertClean(all);
              return null;
            });
    PAssert.that(decided)
        .satisfies(
            jobs -> {
              assertThat(list(jobs).get(0).getState(), equalTo("DELIVERED"));
              return null;
            });
    p.run().waitUntilFinish();
    assertThat(server.received(), hasSize(1));
    assertThat(server.received().get(0).inlineParts(), hasSize(6));
  }

  @Test
  void whenGeminiFailsTheJobNeedsReviewInsteadOfAHeuristicPass(TestPipeline p) throws Exception {
    server.script(Answer.error(500, "INTERNAL", "Internal error encountered."));
    PCollectionTuple out =
        p.apply(Create.of(GeminiScorerTest.rendered(dir)))
            .apply(new SemanticQa(AUDIT, server.config(5)));
    PCollection<Job> decided = out.get(StageTags.JOBS).apply(new Decide()).get(StageTags.FINISHED);

    PAssert.that(out.get(StageTags.AUDIT))
        .satisfies(
            events -> {
              List<AuditEvent> all = list(events);
              assertThat(eventTypes(all), contains("API_CALL", "ERROR"));
              assertThat(all.get(0).getStatus(), equalTo("failure"));
              assertThat(details(all.get(0)).path("attempts").asInt(), equalTo(3));
              assertThat(details(all.get(0)).path("error_kind").asText(), equalTo("SERVER"));
              assertThat(all.get(1).getAction(), equalTo("semantic_qa_unavailable"));
              assertThat(details(all.get(1)).path("cause").asText(), equalTo("call_failed"));
              assertClean(all);
              return null;
            });
    PAssert.that(decided)
        .satisfies(
            jobs -> {
              Job j = list(jobs).get(0);
              assertThat(j.getState(), equalTo("NEEDS_REVIEW"));
              assertThat(j.getQaSemantic(), nullValue());
              assertThat(j.getQaSemanticScorer(), equalTo("gemini:gemini-test"));
              assertThat(
                  j.getReason(),
                  equalTo(
                      "semantic QA could not run: Gemini call failed: HTTP 500 INTERNAL: Internal error encountered."));
              return null;
            });
    p.run().waitUntilFinish();
  }

  @Test
  void anInvalidAnswerAlsoMeansNoScore(TestPipeline p) throws Exception {
    server.script(Answer.json(GeminiScorerTest.scores(0.9, 0.8, 0.7, 0.6).put("overall", 0.99)));
    PCollectionTuple out =
        p.apply(Create.of(GeminiScorerTest.rendered(dir)))
            .apply(new SemanticQa(AUDIT, server.config(5)));

    PAssert.that(out.get(StageTags.JOBS))
        .satisfies(
            jobs -> {
              Job j = list(jobs).get(0);
              assertThat(j.getQaSemantic(), nullValue());
              assertThat(
                  j.getReason(),
                  startsWith("semantic QA could not run: invalid Gemini scores: unknown field"));
              return null;
            });
    PAssert.that(out.get(StageTags.AUDIT))
        .satisfies(
            events -> {
              List<AuditEvent> all = list(events);
              assertThat(eventTypes(all), contains("API_CALL", "ERROR"));
              assertThat(all.get(0).getStatus(), equalTo("success"));
              assertThat(details(all.get(1)).path("cause").asText(), equalTo("invalid_answer"));
              return null;
            });
    p.run().waitUntilFinish();
  }

  @Test
  void withoutGeminiTheLocalHeuristicScores(TestPipeline p) throws Exception {
    PCollectionTuple out =
        p.apply(Create.of(GeminiScorerTest.rendered(dir))).apply(new SemanticQa());

    PAssert.that(out.get(StageTags.JOBS))
        .satisfies(
            jobs -> {
              Job j = list(jobs).get(0);
              assertThat(j.getQaSemanticScorer(), equalTo(CoverageHeuristic.NAME));
              assertThat(j.getQaSemantic(), equalTo(1.0));
              return null;
            });
    PAssert.that(out.get(StageTags.AUDIT)).empty();
    p.run().waitUntilFinish();
    assertThat(server.received(), hasSize(0));
  }

  @Test
  void decisionWithoutSemanticScore() {
    String why = "semantic QA could not run: x";
    assertThat(
        DecisionRules.decideWithoutSemantic(1.0, 0.5, 1.0, why),
        equalTo(new DecisionRules.Decision(JobState.NEEDS_REVIEW, why)));
    assertThat(
        DecisionRules.decideWithoutSemantic(0.5, 0.5, 1.0, why).state(),
        equalTo(JobState.REJECTED));
    assertThat(
        DecisionRules.decideWithoutSemantic(0.5, 0.5, 1.0, why).reason(),
        equalTo("technical score 0.5 < 0.8; " + why));
    assertThat(
        DecisionRules.decideWithoutSemantic(0.8, 2.0, 1.0, why).reason(),
        startsWith(why + "; cost "));
  }
}
