package com.aiprod.pipeline.price;

import static com.aiprod.pipeline.testing.StageFixtures.AUDIT;
import static com.aiprod.pipeline.testing.StageFixtures.eventTypes;
import static com.aiprod.pipeline.testing.StageFixtures.history;
import static com.aiprod.pipeline.testing.StageFixtures.list;
import static com.aiprod.pipeline.testing.StageFixtures.received;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;

import com.aiprod.pipeline.StageTags;
import com.aiprod.pipeline.audit.AuditEvent;
import com.aiprod.pipeline.model.Job;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class PriceAndRouteTest {
  private static final String CONTENT = "\"content\": \"A lighthouse at dawn. Waves crash on the rocks.\"";
  private static final String PREVIEW = "{" + CONTENT + ", \"mode\": \"preview\", \"duration_sec\": 10}";
  /** quick_social, 30 s, default budget $1.50. */
  private static final String FINAL = "{" + CONTENT + ", \"mode\": \"final\"}";
  private static final String ESTIMATE = "{" + CONTENT + ", \"mode\": \"estimate\"}";
  private static final String FINAL_CHEAP = "{" + CONTENT + ", \"mode\": \"final\", \"budget_usd\": 0.1}";
  private static final String ESTIMATE_CHEAP = "{" + CONTENT + ", \"mode\": \"estimate\", \"budget_usd\": 0.1}";
  private static final long HOUR = 3_600_000L;

  @RegisterExtension final TestPipelineExtension pipeline = TestPipelineExtension.create();

  private static PCollectionTuple route(TestPipeline p, Set<String> backends, List<Job> jobs) {
    return p.apply(Create.of(jobs)).apply(new PriceAndRoute(AUDIT, PricingTable.defaultTable(), backends));
  }

  private static Job byMessage(Iterable<Job> jobs, String messageId) {
    for (Job j : jobs) {
      if (j.getMessageId().equals(messageId)) {
        return j;
      }
    }
    throw new AssertionError("no job of message " + messageId);
  }

  @Test
  void previewIsRoutedToThePreviewBackend(TestPipeline p) {
    PCollectionTuple out =
        route(p, Set.of("preview"), List.of(received("m-1", "acme", "job-0000001", 1, PREVIEW)));

    PAssert.that(out.get(StageTags.JOBS))
        .satisfies(
            jobs -> {
              Job j = list(jobs).get(0);
              assertThat(list(jobs), hasSize(1));
              assertThat(j.getBackend(), equalTo("preview"));
              assertThat(j.getEstimateUsd(), equalTo(0.0));
              assertThat(j.getClipSeconds(), equalTo(5.0));
              assertThat(j.getState(), equalTo("RECEIVED"));
              return null;
            });
    PAssert.that(out.get(StageTags.FINISHED)).empty();
    PAssert.that(out.get(StageTags.AUDIT)).empty();
    p.run().waitUntilFinish();
  }

  @Test
  void finalWithOnlyThePreviewBackendHasNoBackend(TestPipeline p) {
    PCollectionTuple out =
        route(p, Set.of("preview"), List.of(received("m-1", "acme", "job-0000001", 1, FINAL)));

    PAssert.that(out.get(StageTags.JOBS)).empty();
    PAssert.that(out.get(StageTags.FINISHED))
        .satisfies(
            jobs -> {
              Job j = list(jobs).get(0);
              assertThat(list(jobs), hasSize(1));
              assertThat(j.getState(), equalTo("REJECTED"));
              assertThat(j.getReasonCode(), equalTo("NO_BACKEND_AVAILABLE"));
              assertThat(j.getBackend(), nullValue());
              assertThat(j.getFinishedAtMillis(), notNullValue());
              assertThat(history(j), contains("RECEIVED", "REJECTED"));
              return null;
            });
    PAssert.that(out.get(StageTags.AUDIT))
        .satisfies(
            events -> {
              assertThat(eventTypes(events), contains("PERMISSION_DENIED"));
              AuditEvent e = list(events).get(0);
              assertThat(e.getDetails(), containsString("\"reason_code\":\"NO_BACKEND_AVAILABLE\""));
              assertThat(e.getDetails(), containsString("\"stage\":\"PriceAndRoute\""));
              return null;
            });
    p.run().waitUntilFinish();
  }

  @Test
  void finalOverItsBudgetIsRefused(TestPipeline p) {
    PCollectionTuple out =
        route(
            p,
            Set.of("preview", "replicate_wan"),
            List.of(received("m-1", "acme", "job-0000001", 1, FINAL_CHEAP)));

    PAssert.that(out.get(StageTags.JOBS)).empty();
    PAssert.that(out.get(StageTags.FINISHED))
        .satisfies(
            jobs -> {
              Job j = list(jobs).get(0);
              assertThat(j.getState(), equalTo("REJECTED"));
              assertThat(j.getReasonCode(), equalTo("BUDGET_EXCEEDED"));
              assertThat(j.getReason(), containsString("replicate_wan"));
              return null;
            });
    PAssert.that(out.get(StageTags.AUDIT))
        .satisfies(
            events -> {
              assertThat(eventTypes(events), contains("PERMISSION_DENIED"));
              return null;
            });
    p.run().waitUntilFinish();
  }

  @Test
  void dailyCapRefusesTheLaterFinalsOfATenantsDay(TestPipeline p) {
    // runway_gen4_turbo: 30 s × $0.05 = $1.50 per final; free cap $5: three fit, the fourth would make $6.
    List<Job> jobs = new ArrayList<>();
    for (int i = 1; i <= 5; i++) {
      jobs.add(received("m-" + i, "acme", "job-000000" + i, i, "user", "free", FINAL));
    }
    // After the cap is reached: a preview ($0) and an estimate (spends nothing) still pass.
    jobs.add(received("m-6", "acme", "job-0000006", 6, "user", "free", PREVIEW));
    jobs.add(received("m-7", "acme", "job-0000007", 7, "user", "free", ESTIMATE));
    // Another tenant, and the same tenant the next UTC day (T0 is 16:00 UTC), have budgets of their own.
    jobs.add(received("m-8", "globex", "job-0000008", 8, "user", "free", FINAL));
    jobs.add(
        received("m-9", "acme", "job-0000009", 9, "user", "free", FINAL).toBuilder()
            .setReceivedAtMillis(received("m-9", "acme", "job-0000009", 9, FINAL).getReceivedAtMillis() + 9 * HOUR)
            .build());
    Collections.shuffle(jobs, new Random(42));

    PCollectionTuple out = route(p, Set.of("preview", "runway_gen4_turbo"), jobs);

    PAssert.that(out.get(StageTags.JOBS))
        .satisfies(
            admitted -> {
              assertThat(
                  list(admitted).stream().map(Job::getMessageId).toList(),
                  containsInAnyOrder("m-1", "m-2", "m-3", "m-6", "m-7", "m-8", "m-9"));
              assertThat(byMessage(admitted, "m-1").getBackend(), equalTo("runway_gen4_turbo"));
              assertThat(byMessage(admitted, "m-1").getEstimateUsd(), equalTo(1.5));
              assertThat(byMessage(admitted, "m-6").getBackend(), equalTo("preview"));
              assertThat(byMessage(admitted, "m-7").getEstimateUsd(), equalTo(1.5));
              return null;
            });
    PAssert.that(out.get(StageTags.FINISHED))
        .satisfies(
            refused -> {
              List<Job> all = list(refused);
              all.sort(Comparator.comparing(Job::getMessageId));
              assertThat(all.stream().map(Job::getMessageId).toList(), contains("m-4", "m-5"));
              for (Job j : all) {
                assertThat(j.getState(), equalTo("REJECTED"));
                assertThat(j.getReasonCode(), equalTo("BUDGET_EXCEEDED"));
                assertThat(j.getReason(), containsString("daily cap of $5.00"));
                assertThat(j.getReason(), containsString("$6.00"));
              }
              return null;
            });
    PAssert.that(out.get(StageTags.AUDIT))
        .satisfies(
            events -> {
              List<AuditEvent> all = list(events);
              assertThat(eventTypes(all), contains("PERMISSION_DENIED", "PERMISSION_DENIED"));
              assertThat(
                  all.stream().map(AuditEvent::getMessageId).toList(), containsInAnyOrder("m-4", "m-5"));
              return null;
            });
    p.run().waitUntilFinish();
  }

  @Test
  void estimatesAreNeverRefused(TestPipeline p) {
    List<Job> jobs = new ArrayList<>();
    // Over budget, with no final backend configured, and past a free tenant's cap: still quotes.
    jobs.add(received("m-1", "acme", "job-0000001", 1, "user", "free", ESTIMATE_CHEAP));
    for (int i = 2; i <= 6; i++) {
      jobs.add(received("m-" + i, "acme", "job-000000" + i, i, "user", "free", ESTIMATE));
    }
    PCollectionTuple out = route(p, Set.of("preview"), jobs);

    PAssert.that(out.get(StageTags.FINISHED)).empty();
    PAssert.that(out.get(StageTags.AUDIT)).empty();
    PAssert.that(out.get(StageTags.JOBS))
        .satisfies(
            quoted -> {
              List<Job> all = list(quoted);
              assertThat(all, hasSize(6));
              assertThat(all.stream().map(Job::getState).toList(), everyItem(equalTo("RECEIVED")));
              Job cheap = byMessage(all, "m-1");
              assertThat(cheap.getBackend(), nullValue());
              assertThat(cheap.getReason(), containsString("a final render would be refused: budget_usd $0.10"));
              assertThat(cheap.getEstimateUsd(), greaterThan(0.1));
              assertThat(cheap.getClipSeconds(), greaterThan(0.0));
              Job normal = byMessage(all, "m-2");
              assertThat(normal.getBackend(), equalTo("runway_gen4_turbo"));
              assertThat(normal.getReason(), nullValue());
              assertThat(normal.getEstimateUsd(), equalTo(1.5));
              return null;
            });
    p.run().waitUntilFinish();
  }
}
