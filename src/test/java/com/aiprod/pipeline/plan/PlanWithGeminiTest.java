package com.aiprod.pipeline.plan;

import static com.aiprod.pipeline.testing.StageFixtures.AUDIT;
import static com.aiprod.pipeline.testing.StageFixtures.eventTypes;
import static com.aiprod.pipeline.testing.StageFixtures.history;
import static com.aiprod.pipeline.testing.StageFixtures.list;
import static com.aiprod.pipeline.testing.StageFixtures.received;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.startsWith;

import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.model.AuditEvent;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.vertex.FakeGeminiServer;
import com.aiprod.pipeline.vertex.FakeGeminiServer.Answer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The Plan transform with Gemini configured, against the loopback Vertex AI. */
class PlanWithGeminiTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String CONTENT = GeminiPlannerTest.CONTENT;

  @RegisterExtension final TestPipelineExtension pipeline = TestPipelineExtension.create();

  private FakeGeminiServer server;

  @BeforeEach
  void start() throws Exception {
    server = new FakeGeminiServer();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private static Job routed(String body, String backend, double clip) {
    return received("m-1", "acme", "job-00000001", 1, body).toBuilder()
        .setInputPayload(null)
        .setBackend(backend)
        .setClipSeconds(clip)
        .setEstimateUsd(1.5)
        .build();
  }

  private Plan plan() {
    return new Plan(AUDIT, server.config(2));
  }

  private static JsonNode details(AuditEvent e) {
    try {
      return MAPPER.readTree(e.getDetails());
    } catch (Exception x) {
      throw new AssertionError(x);
    }
  }

  /** No event carries the token or any of the job's text. */
  private static void assertClean(List<AuditEvent> events) {
    for (AuditEvent e : events) {
      assertThat(e.getDetails(), not(containsString(FakeGeminiServer.TOKEN)));
      assertThat(e.getDetails(), not(containsString("lighthouse")));
      assertThat(e.getDetails(), not(containsString("Gemini shot")));
    }
  }

  @Test
  void geminiPlansAFinalAndTheCallIsAudited(TestPipeline p) {
    server.script(Answer.json(GeminiPlannerTest.answer(3)));
    PCollectionTuple out =
        p.apply(Create.of(routed(GeminiPlannerTest.FINAL_30S, "runway_gen4_turbo", 10)))
            .apply(plan());

    PAssert.that(out.get(StageTags.JOBS))
        .satisfies(
            jobs -> {
              Job j = list(jobs).get(0);
              assertThat(j.getState(), equalTo("RENDERING"));
              assertThat(j.getPlanner(), equalTo("gemini:" + FakeGeminiServer.MODEL));
              assertThat(j.getShots(), hasSize(3));
              assertThat(j.getShots().get(2).getPrompt(), startsWith("Gemini shot 2"));
              assertThat(history(j), contains("RECEIVED", "PLANNED", "RENDERING"));
              assertThat(
                  j.getHistory().get(1).getDetail(),
                  containsString("planned by gemini:gemini-test"));
              return null;
            });
    PAssert.that(out.get(StageTags.AUDIT))
        .satisfies(
            events -> {
              List<AuditEvent> all = list(events);
              assertThat(eventTypes(all), contains("API_CALL"));
              AuditEvent e = all.get(0);
              assertThat(e.getStatus(), equalTo("success"));
              assertThat(e.getAction(), equalTo("plan_script"));
              assertThat(e.getResource(), equalTo("gemini:gemini-test"));
              assertThat(e.getJobId(), equalTo("job-00000001"));
              JsonNode d = details(e);
              assertThat(d.path("total_tokens").asLong(), equalTo(1555L));
              assertThat(d.path("prompt_tokens").asLong(), equalTo(1234L));
              assertThat(d.path("attempts").asInt(), equalTo(1));
              assertThat(d.path("shots").asInt(), equalTo(3));
              assertClean(all);
              return null;
            });
    p.run().waitUntilFinish();
    assertThat(server.received(), hasSize(1));
    assertThat(server.problems(), empty());
  }

  @Test
  void anInvalidAnswerFallsBackToTheLocalPlannerWithAnErrorEvent(TestPipeline p) {
    server.script(Answer.json(GeminiPlannerTest.answer(2)));
    PCollectionTuple out =
        p.apply(Create.of(routed(GeminiPlannerTest.FINAL_30S, "runway_gen4_turbo", 10)))
            .apply(plan());

    PAssert.that(out.get(StageTags.JOBS))
        .satisfies(
            jobs -> {
              Job j = list(jobs).get(0);
              assertThat(j.getPlanner(), equalTo(LocalPlanner.NAME));
              assertThat(
                  j.getShots(), equalTo(LocalPlanner.plan("job-00000001", j.getRequest(), 10)));
              assertThat(
                  j.getHistory().get(1).getDetail(),
                  containsString(
                      "planned by local-sentence-planner (fallback: invalid Gemini plan: shots: expected 3"));
              return null;
            });
    PAssert.that(out.get(StageTags.AUDIT))
        .satisfies(
            events -> {
              List<AuditEvent> all = list(events);
              assertThat(eventTypes(all), contains("API_CALL", "ERROR"));
              assertThat(all.get(0).getStatus(), equalTo("success"));
              AuditEvent fb = all.get(1);
              assertThat(fb.getAction(), equalTo("plan_fallback"));
              assertThat(fb.getStatus(), equalTo("error"));
              assertThat(details(fb).path("fallback").asText(), equalTo(LocalPlanner.NAME));
              assertThat(details(fb).path("cause").asText(), equalTo("invalid_answer"));
              assertClean(all);
              return null;
            });
    p.run().waitUntilFinish();
  }

  @Test
  void aFailingGeminiFallsBackAfterItsRetries(TestPipeline p) {
    server.script(Answer.error(500, "INTERNAL", "Internal error encountered."));
    PCollectionTuple out =
        p.apply(
                Create.of(
                    routed(
                        "{\"content\": \""
                            + CONTENT
                            + "\", \"mode\": \"preview\", \"duration_sec\": 12}",
                        "preview",
                        5)))
            .apply(plan());

    PAssert.that(out.get(StageTags.JOBS))
        .satisfies(
            jobs -> {
              Job j = list(jobs).get(0);
              assertThat(j.getState(), equalTo("RENDERING"));
              assertThat(j.getPlanner(), equalTo(LocalPlanner.NAME));
              assertThat(j.getShots(), hasSize(3));
              return null;
            });
    PAssert.that(out.get(StageTags.DEAD_LETTERS)).empty();
    PAssert.that(out.get(StageTags.AUDIT))
        .satisfies(
            events -> {
              List<AuditEvent> all = list(events);
              assertThat(eventTypes(all), contains("API_CALL", "ERROR"));
              JsonNode call = details(all.get(0));
              assertThat(all.get(0).getStatus(), equalTo("failure"));
              assertThat(call.path("attempts").asInt(), equalTo(3));
              assertThat(call.path("http_status").asInt(), equalTo(500));
              assertThat(call.path("error_kind").asText(), equalTo("SERVER"));
              assertThat(details(all.get(1)).path("cause").asText(), equalTo("call_failed"));
              assertClean(all);
              return null;
            });
    p.run().waitUntilFinish();
    assertThat(server.received(), hasSize(3));
  }

  @Test
  void estimatesArePlannedLocallyWithoutCallingGemini(TestPipeline p) {
    server.script(Answer.json(GeminiPlannerTest.answer(3)));
    PCollectionTuple out =
        p.apply(
                Create.of(
                    routed(
                        "{\"content\": \"" + CONTENT + "\", \"mode\": \"estimate\"}",
                        "runway_gen4_turbo",
                        10)))
            .apply(plan());

    PAssert.that(out.get(StageTags.FINISHED))
        .satisfies(
            jobs -> {
              Job j = list(jobs).get(0);
              assertThat(j.getState(), equalTo("ESTIMATED"));
              assertThat(j.getPlanner(), equalTo(LocalPlanner.NAME));
              return null;
            });
    PAssert.that(out.get(StageTags.AUDIT)).empty();
    p.run().waitUntilFinish();
    assertThat(server.received(), empty());
  }
}
