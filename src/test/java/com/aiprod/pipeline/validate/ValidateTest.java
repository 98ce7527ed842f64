package com.aiprod.pipeline.validate;

import static com.aiprod.pipeline.testing.StageFixtures.history;
import static com.aiprod.pipeline.testing.StageFixtures.list;
import static com.aiprod.pipeline.testing.StageFixtures.message;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasEntry;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;

import com.aiprod.pipeline.catalog.PricingTable;
import com.aiprod.pipeline.kernel.StageTags;
import com.aiprod.pipeline.model.AuthenticatedRequest;
import com.aiprod.pipeline.model.DeadLetter;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobRequest;
import com.aiprod.pipeline.model.Principal;
import com.aiprod.pipeline.testing.StageFixtures;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class ValidateTest {
  private static final Principal ALICE = Principal.create("alice", "acme", "user", "pro");
  private static final String MINIMAL =
      "{\"content\": \"A lighthouse at dawn. Waves crash on the rocks.\"}";

  @RegisterExtension final TestPipelineExtension pipeline = TestPipelineExtension.create();

  private static AuthenticatedRequest request(
      String messageId, long ordinal, Map<String, String> attributes, String body) {
    return AuthenticatedRequest.create(message(messageId, ordinal, attributes, body), ALICE);
  }

  private static PCollectionTuple validate(TestPipeline p, AuthenticatedRequest... requests) {
    return p.apply(Create.of(List.of(requests))).apply(new Validate(PricingTable.builtIn()));
  }

  @Test
  void badJobIdAndActionAttributesAreDeadLettered(TestPipeline p) {
    PCollectionTuple out =
        validate(
            p,
            request("m-1", 1, Map.of("job_id", "short"), MINIMAL),
            request("m-2", 2, Map.of("job_id", "../../etc/passwd"), MINIMAL),
            request("m-3", 3, Map.of("action", "cancel"), MINIMAL),
            request("m-4", 4, Map.of("job_id", "job-0000004", "action", "bogus"), MINIMAL));

    PAssert.that(out.get(StageTags.JOBS)).empty();
    PAssert.that(out.get(Validate.CANCELS)).empty();
    PAssert.that(out.get(StageTags.DEAD_LETTERS))
        .satisfies(
            dead -> {
              List<DeadLetter> all = list(dead);
              all.sort(Comparator.comparing(DeadLetter::getMessageId));
              assertThat(all, hasSize(4));
              for (DeadLetter d : all) {
                assertThat(d.getReasonCode(), equalTo("SCHEMA_VIOLATION"));
                assertThat(d.getStage(), equalTo("Validate"));
                assertThat(d.getPayloadString(), equalTo(MINIMAL));
              }
              assertThat(
                  all.get(0).getErrorMessage(), containsString("job_id attribute must match"));
              assertThat(
                  all.get(1).getErrorMessage(), containsString("job_id attribute must match"));
              assertThat(all.get(1).getAttributes(), hasEntry("job_id", "../../etc/passwd"));
              assertThat(
                  all.get(2).getErrorMessage(), containsString("action=cancel needs the job_id"));
              assertThat(all.get(3).getErrorMessage(), containsString("action must be 'submit'"));
              assertThat(all.get(3).getAttributes(), hasEntry("action", "bogus"));
              return null;
            });
    p.run().waitUntilFinish();
  }

  @Test
  void cancelIsARequestOfTheRequesterNamingTheJob(TestPipeline p) {
    PCollectionTuple out =
        validate(p, request("m-9", 9, Map.of("job_id", "job-0000009", "action", "cancel"), "{}"));
    PAssert.that(out.get(StageTags.JOBS)).empty();
    PAssert.that(out.get(StageTags.DEAD_LETTERS)).empty();
    PAssert.that(out.get(Validate.CANCELS))
        .satisfies(
            cancels -> {
              List<Job> all = list(cancels);
              assertThat(all, hasSize(1));
              Job c = all.get(0);
              assertThat(c.isCancelRequest(), equalTo(true));
              assertThat(c.getJobId(), equalTo("job-0000009"));
              assertThat(c.getTenant(), equalTo("acme"));
              assertThat(c.getMessageId(), equalTo("m-9"));
              return null;
            });
    p.run().waitUntilFinish();
  }

  @Test
  void brokenBodyBecomesARejectedJobThatStillMovesOn(TestPipeline p) {
    String body = "{\"content\": \"\", \"duration_sec\": \"30\", \"colour\": \"red\"}";
    PCollectionTuple out = validate(p, request("m-1", 7, Map.of("job_id", "job-0000001"), body));

    PAssert.that(out.get(StageTags.DEAD_LETTERS)).empty();
    PAssert.that(out.get(StageTags.JOBS))
        .satisfies(
            jobs -> {
              List<Job> all = list(jobs);
              assertThat(all, hasSize(1));
              Job j = all.get(0);
              assertThat(j.getState(), equalTo("REJECTED"));
              assertThat(j.getReasonCode(), equalTo("SCHEMA_VIOLATION"));
              assertThat(j.getRequest(), nullValue());
              assertThat(j.getReason(), containsString("content"));
              assertThat(j.getReason(), containsString("duration_sec"));
              assertThat(j.getReason(), containsString("colour"));
              assertThat(j.getJobId(), equalTo("job-0000001"));
              assertThat(j.getTenant(), equalTo("acme"));
              assertThat(j.getOrdinal(), equalTo(7L));
              assertThat(j.getInputPayload(), equalTo(body));
              assertThat(j.getFinishedAtMillis(), notNullValue());
              assertThat(history(j), contains("RECEIVED", "REJECTED"));
              return null;
            });
    p.run().waitUntilFinish();
  }

  @Test
  void validBodyIsReceivedWithTheRequestDefaults(TestPipeline p) {
    PCollectionTuple out =
        validate(
            p,
            request("m-1", 1, Map.of("job_id", "job-0000001", "action", "submit"), MINIMAL),
            request("m-2", 2, Map.of(), MINIMAL));

    PAssert.that(out.get(StageTags.DEAD_LETTERS)).empty();
    PAssert.that(out.get(StageTags.JOBS))
        .satisfies(
            jobs -> {
              List<Job> all = list(jobs);
              all.sort(Comparator.comparing(Job::getMessageId));
              assertThat(all, hasSize(2));
              assertThat(all.get(0).getJobId(), equalTo("job-0000001"));
              // No job_id attribute: the message's default job id names the job.
              assertThat(
                  all.get(1).getJobId(),
                  equalTo(message("m-2", 2, Map.of(), MINIMAL).getDefaultJobId()));
              for (Job j : all) {
                assertThat(j.getState(), equalTo("RECEIVED"));
                assertThat(j.getReasonCode(), nullValue());
                assertThat(j.getTenant(), equalTo("acme"));
                assertThat(j.getUid(), equalTo("alice"));
                assertThat(j.getRole(), equalTo("user"));
                assertThat(j.getPlan(), equalTo("pro"));
                assertThat(j.getReceivedAtMillis(), equalTo(StageFixtures.T0 + j.getOrdinal()));
                assertThat(j.getInputPayload(), equalTo(MINIMAL));
                assertThat(history(j), contains("RECEIVED"));
                JobRequest r = j.getRequest();
                assertThat(
                    r.getContent(), equalTo("A lighthouse at dawn. Waves crash on the rocks."));
                assertThat(r.getPreset(), equalTo("quick_social"));
                assertThat(r.getMode(), equalTo("final"));
                assertThat(r.getPriority(), equalTo("low"));
                assertThat(r.getLang(), equalTo("en"));
                assertThat(r.getDurationSec(), equalTo(30));
                assertThat(r.getBudgetUsd(), equalTo(1.5));
                assertThat(r.getAspectRatio(), equalTo("16:9"));
                assertThat(r.getFps(), equalTo(24));
                assertThat(r.getBackend(), nullValue());
              }
              return null;
            });
    p.run().waitUntilFinish();
  }
}
