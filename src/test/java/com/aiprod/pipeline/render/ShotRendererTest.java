package com.aiprod.pipeline.render;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThan;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;

import com.aiprod.pipeline.catalog.PricingTable;
import com.aiprod.pipeline.media.HostileMp4;
import com.aiprod.pipeline.media.Mp4Inspector;
import com.aiprod.pipeline.media.PreviewCard;
import com.aiprod.pipeline.media.PreviewEncoder;
import com.aiprod.pipeline.model.ShotResult;
import com.aiprod.pipeline.model.ShotSpec;
import com.aiprod.pipeline.render.ShotRenderState.Phase;
import com.aiprod.pipeline.render.backends.BackendConfig;
import com.aiprod.pipeline.render.backends.Loopback.Resp;
import com.aiprod.pipeline.render.backends.VideoBackend;
import com.aiprod.pipeline.testing.FakeProviders;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ShotRenderer} driving the real Runway and Replicate clients against loopback providers:
 * polling, retries (429 with Retry-After, 500), fallback, the circuit breaker opening and closing,
 * attempt timeouts and cancellation mid-render.
 */
class ShotRendererTest {
  private static final PricingTable PRICING = PricingTable.builtIn();
  private static final String RUNWAY = "runway_gen4_turbo";
  private static final String REPLICATE = "replicate_wan";

  @TempDir Path tmp;
  private FakeProviders providers;
  private Path out;
  private final Map<String, VideoBackend> clients = new HashMap<>();
  private BackendConfig config;
  private final CircuitBreaker breaker = new CircuitBreaker();

  @BeforeEach
  void start() throws Exception {
    providers = new FakeProviders(tmp);
    out = Files.createDirectories(tmp.resolve("out"));
    config = providers.config(out.toString());
  }

  @AfterEach
  void stop() {
    clients.values().forEach(VideoBackend::close);
    providers.close();
  }

  private ShotRenderer renderer(RenderPolicy policy) {
    return new ShotRenderer(
        policy, breaker, PRICING, out.toString(), id -> clients.computeIfAbsent(id, config::open));
  }

  private static ShotTask task(int index, String backend, String... fallbacks) {
    return ShotTask.create(
        "acme",
        "job-render-0001",
        "m-1",
        "alice",
        backend,
        List.of(fallbacks),
        3,
        ShotSpec.create(
            index, 5.0, "A lighthouse at dusk, shot " + index + ", warm palette", 1000L + index),
        "16:9",
        24,
        1280,
        720);
  }

  /** Everything the steps of one shot produced. */
  private static final class Outcome {
    final List<ShotResult> results = new ArrayList<>();
    final List<ShotRenderer.Call> calls = new ArrayList<>();
    final List<ShotRenderer.Fallback> fallbacks = new ArrayList<>();
    final List<Long> waits = new ArrayList<>();
    final List<String> phases = new ArrayList<>();
    ShotRenderState last;

    ShotResult settled() {
      return results.get(results.size() - 1);
    }
  }

  /** Steps a shot to its end as the batch driver does, waiting in place between steps. */
  private static Outcome run(ShotRenderer r, ShotTask task, BooleanSupplier cancelled)
      throws Exception {
    return run(r, ShotRenderState.start(task), cancelled);
  }

  /** Steps a shot from {@code state} (e.g. one restored from a checkpoint) to its end. */
  private static Outcome runFrom(ShotRenderer r, ShotRenderState state) throws Exception {
    return run(r, state, () -> false);
  }

  private static Outcome run(ShotRenderer r, ShotRenderState start, BooleanSupplier cancelled)
      throws Exception {
    Outcome o = new Outcome();
    ShotRenderState state = start;
    long deadline = System.currentTimeMillis() + 30_000;
    while (System.currentTimeMillis() < deadline) {
      long now = System.currentTimeMillis();
      ShotRenderer.Step step = r.step(state, now, cancelled.getAsBoolean());
      o.results.addAll(step.results());
      o.calls.addAll(step.calls());
      o.fallbacks.addAll(step.fallbacks());
      state = step.next();
      o.last = state;
      o.phases.add(state.getPhase());
      if (step.done()) {
        return o;
      }
      o.waits.add(step.wakeAtMillis() - now);
      Thread.sleep(Math.max(0, step.wakeAtMillis() - System.currentTimeMillis()));
    }
    throw new AssertionError("the shot did not settle within 30 s: " + state);
  }

  @Test
  void rendersAfterSeveralPollsWithGrowingIntervals() throws Exception {
    providers.runway.pollsBeforeDone = 3;
    Outcome o = run(renderer(RenderPolicy.fast()), task(0, RUNWAY, REPLICATE), () -> false);

    assertThat(o.results, hasSize(1));
    ShotResult r = o.settled();
    assertThat(r.getStatus(), equalTo("succeeded"));
    assertThat(r.getBackend(), equalTo(RUNWAY));
    assertThat(r.getAttempt(), equalTo(1));
    assertThat(r.getFallbackTo(), nullValue());
    assertThat(r.getCostUsd(), equalTo(0.25)); // $0.05/s × one 5 s clip
    assertThat(r.getUri(), equalTo(out + "/acme/job-render-0001/shots/shot-000.mp4"));
    assertThat(Mp4Inspector.inspect(Path.of(r.getUri())).isH264(), is(true));
    assertThat(providers.runway.polls.get(), equalTo(4));
    // Poll intervals grow: 50, 75, 113 ms (fast policy), never a busy loop.
    assertThat(o.waits.subList(0, 3), contains(50L, 75L, 113L));
    assertThat(
        o.calls.stream().map(ShotRenderer.Call::call).toList(),
        contains("submit", "poll", "fetch"));
    assertThat(o.calls.get(1).polls(), equalTo(4));
    assertThat(o.fallbacks, hasSize(0));
  }

  @Test
  void aRateLimitedSubmitWaitsForRetryAfterThenSucceeds() throws Exception {
    int[] n = {0};
    providers.runway.onCreate =
        body ->
            n[0]++ == 0
                ? Resp.json(429, "{\"error\":\"slow down\"}").header("Retry-After", "1")
                : null;
    Outcome o = run(renderer(RenderPolicy.fast()), task(0, RUNWAY), () -> false);

    assertThat(o.settled().getStatus(), equalTo("succeeded"));
    assertThat(o.settled().getAttempt(), equalTo(1));
    assertThat(providers.runway.creates.get(), equalTo(2));
    assertThat("waited for Retry-After: 1 s", o.waits.get(0), greaterThanOrEqualTo(1_000L));
    ShotRenderer.Call refused = o.calls.get(0);
    assertThat(refused.ok(), is(false));
    assertThat(refused.httpStatus(), equalTo(429));
  }

  @Test
  void serverErrorsRetryWithBackoffThenSucceed() throws Exception {
    int[] n = {0};
    providers.replicate.onPoll =
        id -> n[0]++ < 2 ? Resp.json(500, "{\"detail\":\"internal\"}") : null;
    Outcome o = run(renderer(RenderPolicy.fast()), task(1, REPLICATE), () -> false);

    assertThat(o.settled().getStatus(), equalTo("succeeded"));
    assertThat(o.settled().getBackend(), equalTo(REPLICATE));
    assertThat(o.settled().getCostUsd(), equalTo(0.1)); // $0.02/s × 5 s
    assertThat(
        o.calls.stream().filter(c -> !c.ok()).map(ShotRenderer.Call::httpStatus).toList(),
        contains(500, 500));
  }

  @Test
  void aRefusedShotFallsBackToTheNextCandidate() throws Exception {
    providers.runway.onCreate =
        body -> Resp.json(400, "{\"error\":\"promptText violates the content policy\"}");
    Outcome o = run(renderer(RenderPolicy.fast()), task(2, RUNWAY, REPLICATE), () -> false);

    assertThat(o.results, hasSize(2));
    ShotResult first = o.results.get(0);
    assertThat(first.getStatus(), equalTo("failed"));
    assertThat(first.getBackend(), equalTo(RUNWAY));
    assertThat(first.getAttempt(), equalTo(1));
    assertThat(first.getFallbackTo(), equalTo(REPLICATE));
    assertThat(first.getError(), containsString("400"));
    assertThat(first.getCostUsd(), equalTo(0.0));
    ShotResult second = o.settled();
    assertThat(second.getStatus(), equalTo("succeeded"));
    assertThat(second.getBackend(), equalTo(REPLICATE));
    assertThat(second.getAttempt(), equalTo(2));
    assertThat(second.settlesShot(), is(true));
    assertThat(o.fallbacks, hasSize(1));
    assertThat(o.fallbacks.get(0).from(), equalTo(RUNWAY));
    assertThat(o.fallbacks.get(0).to(), equalTo(REPLICATE));
    assertThat("a 400 is not retried", providers.runway.creates.get(), equalTo(1));
  }

  @Test
  void whenEveryCandidateFailsTheShotFailsWithEachReason() throws Exception {
    providers.runway.generationsFail = true;
    providers.replicate.onCreate =
        body -> Resp.json(422, "{\"detail\":\"input.num_frames is invalid\"}");
    Outcome o = run(renderer(RenderPolicy.fast()), task(0, RUNWAY, REPLICATE), () -> false);

    assertThat(
        o.results.stream().map(ShotResult::getStatus).toList(), contains("failed", "failed"));
    assertThat(o.results.get(0).getError(), containsString("the generation failed"));
    assertThat(o.results.get(1).getError(), containsString("422"));
    assertThat(o.settled().getFallbackTo(), nullValue());
    assertThat(o.settled().settlesShot(), is(true));
  }

  @Test
  void retriesExhaustedFallBack() throws Exception {
    providers.runway.onPoll = id -> Resp.json(503, "{\"error\":\"overloaded\"}");
    RenderPolicy policy = RenderPolicy.fast();
    Outcome o = run(renderer(policy), task(0, RUNWAY, REPLICATE), () -> false);

    assertThat(providers.runway.polls.get(), equalTo(policy.maxRetries() + 1));
    // The task we stopped following is cancelled, not left running (and billing).
    assertThat(providers.runway.cancelled, equalTo(java.util.Set.copyOf(providers.runway.made)));
    assertThat(providers.runway.orphans(), hasSize(0));
    assertThat(providers.replicate.orphans(), hasSize(0));
    assertThat(
        o.results.get(0).getError(),
        containsString("gave up after " + policy.maxRetries() + " retries"));
    assertThat(o.settled().getBackend(), equalTo(REPLICATE));
    assertThat(o.settled().getStatus(), equalTo("succeeded"));
  }

  @Test
  void theCircuitOpensAfterFiveFailuresAndClosesAgain() throws Exception {
    providers.runway.onPoll = id -> Resp.json(500, "{\"error\":\"down\"}");
    RenderPolicy policy = RenderPolicy.fast().withBreakerOpenMillis(1_500);
    ShotRenderer r = renderer(policy);
    // Shot 0: 1 + 3 retries = 4 failed polls, then replicate.
    run(r, task(0, RUNWAY, REPLICATE), () -> false);
    assertThat(breaker.isOpen(RUNWAY, System.currentTimeMillis()), is(false));
    // Shot 1: its first failure is the fifth: the circuit opens; the shot falls back.
    Outcome second = run(r, task(1, RUNWAY, REPLICATE), () -> false);
    assertThat(breaker.isOpen(RUNWAY, System.currentTimeMillis()), is(true));
    assertThat(second.settled().getBackend(), equalTo(REPLICATE));
    int callsSoFar = providers.runway.creates.get();

    // Shot 2 while the circuit is open: runway is skipped without a call.
    Outcome skipped = run(r, task(2, RUNWAY, REPLICATE), () -> false);
    assertThat(providers.runway.creates.get(), equalTo(callsSoFar));
    assertThat(skipped.results, hasSize(1));
    assertThat(skipped.settled().getBackend(), equalTo(REPLICATE));
    assertThat(skipped.fallbacks, hasSize(1));
    assertThat(skipped.fallbacks.get(0).why(), containsString("circuit open"));

    // After the open period runway is tried again (half-open) and, healthy now, renders.
    providers.runway.onPoll = null;
    Thread.sleep(1_600);
    Outcome healed = run(r, task(0, RUNWAY, REPLICATE), () -> false);
    assertThat(healed.settled().getBackend(), equalTo(RUNWAY));
    assertThat(healed.settled().getStatus(), equalTo("succeeded"));
    assertThat(breaker.isOpen(RUNWAY, System.currentTimeMillis()), is(false));
  }

  @Test
  void fiveRefusedPromptsFromOneTenantDoNotOpenTheCircuit() throws Exception {
    providers.runway.onCreate =
        body -> Resp.json(400, "{\"error\":\"promptText violates the content policy\"}");
    ShotRenderer r = renderer(RenderPolicy.fast());
    for (int i = 0; i < 5; i++) {
      Outcome o = run(r, task(i, RUNWAY, REPLICATE), () -> false);
      assertThat(o.results.get(0).getError(), containsString("400"));
      assertThat(o.settled().getBackend(), equalTo(REPLICATE));
    }
    assertThat(breaker.isOpen(RUNWAY, System.currentTimeMillis()), is(false));
    // Another tenant's good prompt still goes to runway.
    providers.runway.onCreate = null;
    Outcome good = run(r, task(0, RUNWAY, REPLICATE), () -> false);
    assertThat(good.settled().getBackend(), equalTo(RUNWAY));
    assertThat(good.settled().getStatus(), equalTo("succeeded"));
    assertThat(providers.runway.creates.get(), equalTo(6));
  }

  @Test
  void fiveServerErrorsOpenTheCircuit() throws Exception {
    providers.runway.onCreate = body -> Resp.json(502, "{\"error\":\"bad gateway\"}");
    ShotRenderer r = renderer(RenderPolicy.fast());
    for (int i = 0; i < 5 && !breaker.isOpen(RUNWAY, System.currentTimeMillis()); i++) {
      run(r, task(i, RUNWAY, REPLICATE), () -> false);
    }
    assertThat(breaker.isOpen(RUNWAY, System.currentTimeMillis()), is(true));
  }

  @Test
  void generationsFailedForTheirInputDoNotOpenTheCircuitButTheProvidersOwnFailuresDo()
      throws Exception {
    providers.runway.generationsFail = true;
    providers.runway.failureReason = "SAFETY.INPUT.TEXT";
    providers.replicate.generationsFail = true;
    providers.replicate.failureReason = "NSFW content detected. Try a different prompt.";
    ShotRenderer r = renderer(RenderPolicy.fast());
    for (int i = 0; i < 5; i++) {
      Outcome o = run(r, task(i, RUNWAY, REPLICATE), () -> false);
      assertThat(o.results.get(0).getError(), containsString("SAFETY.INPUT.TEXT"));
      assertThat(o.settled().getStatus(), equalTo("failed"));
    }
    long now = System.currentTimeMillis();
    assertThat(breaker.isOpen(RUNWAY, now), is(false));
    assertThat(breaker.isOpen(REPLICATE, now), is(false));

    providers.runway.failureReason = "INTERNAL.BAD_OUTPUT.CODE01";
    providers.replicate.failureReason = "CUDA out of memory";
    for (int i = 0; i < 5; i++) {
      run(r, task(i, RUNWAY, REPLICATE), () -> false);
    }
    now = System.currentTimeMillis();
    assertThat(breaker.isOpen(RUNWAY, now), is(true));
    assertThat(breaker.isOpen(REPLICATE, now), is(true));
  }

  @Test
  void aRateLimitCountsAgainstTheCircuitOnlyOnceItsRetriesAreExhausted() throws Exception {
    providers.runway.onCreate = body -> Resp.json(429, "{\"error\":\"slow down\"}");
    RenderPolicy policy = RenderPolicy.fast();
    ShotRenderer r = renderer(policy);
    for (int i = 0; i < 4; i++) {
      Outcome o = run(r, task(i, RUNWAY, REPLICATE), () -> false);
      assertThat(o.results.get(0).getError(), containsString("gave up after"));
    }
    // 16 refused calls so far, but only four exhausted attempts: still closed.
    assertThat(providers.runway.creates.get(), equalTo(4 * (policy.maxRetries() + 1)));
    assertThat(breaker.isOpen(RUNWAY, System.currentTimeMillis()), is(false));
    run(r, task(4, RUNWAY, REPLICATE), () -> false);
    assertThat(breaker.isOpen(RUNWAY, System.currentTimeMillis()), is(true));
  }

  /**
   * A worker lost after a create: its state is restored from a checkpoint taken before the create
   * (here: the shot's start), and the same attempt is stepped again. The create journal beside the
   * shot's output makes it follow the task already made instead of creating a second one.
   */
  @Test
  void aStateRestoredFromBeforeItsCreateFollowsTheTaskMadeNotASecondOne() throws Exception {
    for (String backend : List.of(RUNWAY, REPLICATE)) {
      FakeProviders.Provider provider =
          backend.equals(RUNWAY) ? providers.runway : providers.replicate;
      provider.pollsBeforeDone = 2;
      ShotTask task = task(backend.equals(RUNWAY) ? 0 : 1, backend);
      ShotRenderer r = renderer(RenderPolicy.fast());
      ShotRenderState checkpointed = ShotRenderState.start(task);
      ShotRenderer.Step lost = r.step(checkpointed, System.currentTimeMillis(), false);
      assertThat(lost.next().getPhase(), equalTo("POLL"));
      assertThat(provider.made, hasSize(1));

      // The restored state steps again, on a new worker (a new renderer, a new client).
      clients.clear();
      Outcome o = runFrom(renderer(RenderPolicy.fast()), checkpointed);
      assertThat(o.settled().getStatus(), equalTo("succeeded"));
      assertThat(o.settled().getAttempt(), equalTo(1));
      assertThat(backend + ": no second task for attempt 1", provider.made, hasSize(1));
      assertThat(provider.accepted.get(), equalTo(1));
      assertThat(provider.orphans(), hasSize(0));
      assertThat(
          o.calls.stream().map(c -> c.call() + ":" + c.ok()).toList(),
          contains("adopt:true", "poll:true", "fetch:true"));
    }
  }

  /**
   * Lost between the create's request and its answer (the journal says only that a create was
   * sent): Replicate's task list is searched and the task found is followed; Runway, which has no
   * list and no idempotency key, ends the attempt without a second create.
   */
  @Test
  void aStateRestoredFromBeforeACreateOfUnknownOutcomeMakesNoSecondTask() throws Exception {
    ShotRenderer r = renderer(RenderPolicy.fast());
    ShotTask replicate = task(0, REPLICATE);
    ShotRenderState checkpointed = ShotRenderState.start(replicate);
    r.step(checkpointed, System.currentTimeMillis(), false);
    assertThat(providers.replicate.made, hasSize(1));
    String journal = CreateJournal.uri(out.toString(), replicate, 1, REPLICATE);
    CreateJournal.write(
        journal, new CreateJournal.Entry(CreateJournal.INTENT, null, System.currentTimeMillis()));
    Outcome o = runFrom(renderer(RenderPolicy.fast()), checkpointed);
    assertThat(o.settled().getStatus(), equalTo("succeeded"));
    assertThat(providers.replicate.made, hasSize(1));
    assertThat(
        o.calls.stream().map(c -> c.call() + ":" + c.ok()).toList(),
        contains("find:true", "poll:true", "fetch:true"));

    ShotTask runway = task(1, RUNWAY, REPLICATE);
    checkpointed = ShotRenderState.start(runway);
    r.step(checkpointed, System.currentTimeMillis(), false);
    assertThat(providers.runway.made, hasSize(1));
    CreateJournal.write(
        CreateJournal.uri(out.toString(), runway, 1, RUNWAY),
        new CreateJournal.Entry(CreateJournal.INTENT, null, System.currentTimeMillis()));
    o = runFrom(renderer(RenderPolicy.fast()), checkpointed);
    assertThat(providers.runway.made, hasSize(1));
    assertThat(o.results.get(0).getStatus(), equalTo("failed"));
    assertThat(o.results.get(0).getError(), containsString("no second task is made"));
    assertThat(o.settled().getBackend(), equalTo(REPLICATE));
    assertThat(o.settled().getStatus(), equalTo("succeeded"));
  }

  @Test
  void aLostCreateAnswerIsFoundInTheTaskListAndFollowedNotMadeAgain() throws Exception {
    int shot = 0;
    for (Resp lost : List.of(Resp.json(502, "{\"detail\":\"bad gateway\"}"), Resp.dropped())) {
      providers.replicate.made.clear();
      providers.replicate.lostAnswer = lost;
      providers.replicate.createAnswersToLose.set(1);
      // Another shot each time: the create journal remembers a shot's attempt (its task adopted).
      Outcome o = run(renderer(RenderPolicy.fast()), task(shot++, REPLICATE), () -> false);

      assertThat(o.settled().getStatus(), equalTo("succeeded"));
      assertThat(o.settled().getAttempt(), equalTo(1));
      assertThat("one billed task, followed to its end", providers.replicate.made, hasSize(1));
      assertThat(providers.replicate.orphans(), hasSize(0));
      assertThat(
          o.calls.stream().map(c -> c.call() + ":" + c.ok()).toList(),
          contains("submit:false", "find:true", "poll:true", "fetch:true"));
    }
    assertThat(providers.replicate.creates.get(), equalTo(2));
  }

  @Test
  void aLostCreateThatMadeNothingIsMadeOnceMore() throws Exception {
    int[] n = {0};
    providers.replicate.onCreate =
        body -> n[0]++ == 0 ? Resp.json(500, "{\"detail\":\"internal\"}") : null;
    Outcome o = run(renderer(RenderPolicy.fast()), task(0, REPLICATE), () -> false);

    assertThat(o.settled().getStatus(), equalTo("succeeded"));
    assertThat(providers.replicate.lists.get(), equalTo(1));
    assertThat(providers.replicate.creates.get(), equalTo(2));
    assertThat(providers.replicate.made, hasSize(1));
    assertThat(providers.replicate.orphans(), hasSize(0));
    assertThat(o.calls.get(1).error(), containsString("no task made by the lost create"));
  }

  @Test
  void withoutATaskListALostCreateEndsTheAttemptWithoutASecondTask() throws Exception {
    providers.runway.createAnswersToLose.set(1);
    Outcome o = run(renderer(RenderPolicy.fast()), task(0, RUNWAY, REPLICATE), () -> false);

    assertThat(providers.runway.creates.get(), equalTo(1));
    assertThat(providers.runway.made, hasSize(1));
    ShotResult first = o.results.get(0);
    assertThat(first.getStatus(), equalTo("failed"));
    assertThat(first.getError(), containsString("create outcome unknown"));
    assertThat(first.getError(), containsString("no second task"));
    assertThat(o.settled().getBackend(), equalTo(REPLICATE));
    assertThat(o.settled().getStatus(), equalTo("succeeded"));
    assertThat(providers.replicate.orphans(), hasSize(0));
  }

  @Test
  void aJobCancelledWhileALostCreateIsLookedForCancelsWhatItFinds() throws Exception {
    providers.replicate.createAnswersToLose.set(1);
    Outcome o =
        run(
            renderer(RenderPolicy.fast()),
            task(0, REPLICATE),
            () -> providers.replicate.creates.get() >= 1);

    assertThat(o.settled().getStatus(), equalTo("cancelled"));
    assertThat(providers.replicate.made, hasSize(1));
    assertThat(
        providers.replicate.cancelled, equalTo(java.util.Set.copyOf(providers.replicate.made)));
    assertThat(providers.replicate.orphans(), hasSize(0));
  }

  @Test
  void aShotWhoseOnlyCandidatesCircuitIsOpenWaitsForItToClose() throws Exception {
    RenderPolicy policy = RenderPolicy.fast().withBreakerOpenMillis(800);
    long now = System.currentTimeMillis();
    for (int i = 0; i < policy.breakerFailures(); i++) {
      breaker.recordFailure(RUNWAY, now, policy);
    }
    long t0 = System.currentTimeMillis();
    Outcome o = run(renderer(policy), task(0, RUNWAY), () -> false);
    assertThat(o.settled().getStatus(), equalTo("succeeded"));
    assertThat(System.currentTimeMillis() - t0, greaterThanOrEqualTo(700L));
  }

  @Test
  void anAttemptRunningPastItsTimeoutIsCancelledAndFallsBack() throws Exception {
    providers.runway.pollsBeforeDone = Integer.MAX_VALUE;
    RenderPolicy policy = RenderPolicy.fast().withAttemptTimeoutMillis(600);
    Outcome o = run(renderer(policy), task(0, RUNWAY, REPLICATE), () -> false);

    assertThat(o.results.get(0).getError(), containsString("attempt timeout"));
    assertThat(providers.runway.cancels.get(), equalTo(1));
    assertThat(o.settled().getBackend(), equalTo(REPLICATE));
    assertThat(o.settled().getStatus(), equalTo("succeeded"));
  }

  /** {@link #task} with the job's deadline {@code inMillis} from now. */
  private static ShotTask withDeadline(ShotTask t, long inMillis) {
    return ShotTask.create(
        t.getTenant(),
        t.getJobId(),
        t.getMessageId(),
        t.getUid(),
        t.getBackend(),
        t.getFallbackBackends(),
        t.getShotCount(),
        t.getShot(),
        t.getAspectRatio(),
        t.getFps(),
        t.getWidth(),
        t.getHeight(),
        System.currentTimeMillis() + inMillis);
  }

  @Test
  void aGenerationStillRunningAtTheJobsDeadlineIsCancelledAndTheShotGivesUp() throws Exception {
    providers.runway.pollsBeforeDone = Integer.MAX_VALUE;
    // The attempt timeout (20 s) and the fallback would come later: the deadline comes first.
    Outcome o =
        run(
            renderer(RenderPolicy.fast()),
            withDeadline(task(0, RUNWAY, REPLICATE), 700),
            () -> false);

    assertThat(o.results, hasSize(1));
    ShotResult r = o.settled();
    assertThat(r.getStatus(), equalTo(ShotResult.DEADLINE));
    assertThat(r.missedDeadline(), is(true));
    assertThat(r.settlesShot(), is(true));
    assertThat(r.getError(), containsString("deadline passed"));
    assertThat(r.getError(), containsString("still running (cancelled)"));
    assertThat(r.getCostUsd(), equalTo(0.0));
    assertThat(providers.runway.cancelled, equalTo(java.util.Set.copyOf(providers.runway.made)));
    assertThat(providers.runway.orphans(), hasSize(0));
    assertThat("no fallback after the deadline", providers.replicate.creates.get(), equalTo(0));
    assertThat(o.calls.get(o.calls.size() - 1).call(), equalTo("cancel"));
  }

  @Test
  @org.junit.jupiter.api.Timeout(60) // the drip alone would take 200 s (download timeout: 5 min)
  void aDownloadStillDrippingAtTheDeadlineIsStoppedAndTheShotGivesUp() throws Exception {
    byte[] mp4 = com.aiprod.pipeline.render.backends.Loopback.sampleMp4(tmp);
    providers.runway.server.route(
        "GET",
        "/files/[A-Za-z0-9]+\\.mp4",
        req -> Resp.bytes(200, "video/mp4", mp4).dripping(1_000, 200));
    Outcome o =
        run(
            renderer(RenderPolicy.fast()),
            withDeadline(task(0, RUNWAY, REPLICATE), 1_500),
            () -> false);

    ShotResult r = o.settled();
    assertThat(r.getStatus(), equalTo(ShotResult.DEADLINE));
    assertThat(r.getError(), containsString("output on runway_gen4_turbo was not fetched"));
    assertThat("the generation succeeded: billed", r.getCostUsd(), equalTo(0.25));
    assertThat(
        o.calls.stream().filter(c -> c.call().equals("fetch")).map(c -> c.error()).toList(),
        everyItem(containsString("stopped at the job's deadline")));
    assertThat(
        "our deadline is not the provider's fault",
        breaker.isOpen(RUNWAY, System.currentTimeMillis()),
        is(false));
    assertThat(providers.replicate.creates.get(), equalTo(0));
    assertThat(Files.exists(out.resolve("acme/job-render-0001/shots/shot-000.mp4")), is(false));
  }

  @Test
  void aSlowDownloadYieldsTheWorkerBetweenStepsAndIsNotStartedTwice() throws Exception {
    java.util.concurrent.atomic.AtomicInteger gets =
        new java.util.concurrent.atomic.AtomicInteger();
    providers.runway.server.route(
        "GET",
        "/files/[A-Za-z0-9]+\\.mp4",
        req -> {
          gets.incrementAndGet();
          // The whole file, then 5 s before the answer ends: the download takes ~5 s.
          return Resp.bytes(200, "video/mp4", providers.mp4).stalling(5_000);
        });
    Outcome o = run(renderer(RenderPolicy.fast()), task(0, RUNWAY, REPLICATE), () -> false);

    assertThat(o.settled().getStatus(), equalTo("succeeded"));
    assertThat(
        "steps that returned while the download ran",
        o.phases.stream().filter(Phase.FETCH.name()::equals).count(),
        greaterThanOrEqualTo(2L));
    assertThat("one download for all those steps", gets.get(), equalTo(1));
    assertThat(o.calls.stream().filter(c -> c.call().equals("fetch")).toList(), hasSize(1));
    assertThat(Files.exists(out.resolve("acme/job-render-0001/shots/shot-000.mp4")), is(true));
  }

  @Test
  void noWaitLastsPastTheDeadline() throws Exception {
    RenderPolicy policy = RenderPolicy.fast().withBreakerOpenMillis(60_000);
    long now = System.currentTimeMillis();
    for (int i = 0; i < policy.breakerFailures(); i++) {
      breaker.recordFailure(RUNWAY, now, policy);
    }
    ShotTask t = withDeadline(task(0, RUNWAY), 500);
    ShotRenderer.Step step = renderer(policy).step(ShotRenderState.start(t), now, false);
    // The open circuit would keep it waiting a minute; it wakes at the deadline instead.
    assertThat(step.done(), is(false));
    assertThat(step.wakeAtMillis(), equalTo(t.getDeadlineAtMillis()));
    ShotRenderer.Step late = renderer(policy).step(step.next(), t.getDeadlineAtMillis(), false);
    assertThat(late.done(), is(true));
    assertThat(late.results().get(0).getStatus(), equalTo(ShotResult.DEADLINE));
    assertThat(
        "a shot past its deadline submits nothing", providers.runway.creates.get(), equalTo(0));
  }

  @Test
  void aCancelledJobStopsItsShotMidRenderAndCancelsTheGeneration() throws Exception {
    providers.replicate.pollsBeforeDone = Integer.MAX_VALUE;
    Outcome o =
        run(
            renderer(RenderPolicy.fast()),
            task(0, REPLICATE),
            () -> providers.replicate.polls.get() >= 2);

    assertThat(o.results, hasSize(1));
    assertThat(o.settled().getStatus(), equalTo("cancelled"));
    assertThat(o.settled().getCostUsd(), equalTo(0.0));
    assertThat(providers.replicate.cancels.get(), equalTo(1));
    assertThat(o.calls.get(o.calls.size() - 1).call(), equalTo("cancel"));
    assertThat(Files.exists(out.resolve("acme/job-render-0001/shots/shot-000.mp4")), is(false));
  }

  @Test
  void aRotatedKeyIsReReadAfterA401() throws Exception {
    // The provider now only accepts a new key; the secret file is rotated after the client read it.
    renderer(RenderPolicy.fast()); // nothing opened yet
    VideoBackend runway = clients.computeIfAbsent(RUNWAY, config::open);
    assertThat(runway.id(), equalTo(RUNWAY));
    com.aiprod.pipeline.render.backends.Loopback.writeSecret(
        providers.secrets,
        com.aiprod.pipeline.render.backends.RunwayBackend.SECRET,
        "rk_rotated_9876543210");
    providers.runway.onCreate = body -> null;
    java.lang.reflect.Field f = FakeProviders.Provider.class.getDeclaredField("key");
    f.setAccessible(true);
    f.set(providers.runway, "rk_rotated_9876543210");
    Outcome o = run(renderer(RenderPolicy.fast()), task(0, RUNWAY), () -> false);

    assertThat(o.settled().getStatus(), equalTo("succeeded"));
    assertThat(o.settled().getAttempt(), equalTo(1));
    assertThat(o.calls.get(0).httpStatus(), equalTo(401));
    assertThat(providers.runway.accepted.get(), equalTo(1));
  }

  @Test
  void aShotAlreadyOnDiskIsNotRenderedAgain() throws Exception {
    Outcome first = run(renderer(RenderPolicy.fast()), task(0, REPLICATE), () -> false);
    assertThat(first.settled().getStatus(), equalTo("succeeded"));
    int creates = providers.replicate.creates.get();
    // The sample clip is 1 s long; this shot plans 1 s so the file on disk is complete.
    ShotTask again =
        ShotTask.create(
            "acme",
            "job-render-0001",
            "m-1",
            "alice",
            REPLICATE,
            List.of(),
            3,
            ShotSpec.create(0, 1.0, "A lighthouse at dusk, shot 0, warm palette", 1000L),
            "16:9",
            24,
            1280,
            720);
    Outcome second = run(renderer(RenderPolicy.fast()), again, () -> false);
    assertThat(second.settled().getStatus(), equalTo("succeeded"));
    assertThat(providers.replicate.creates.get(), equalTo(creates));
    assertThat(second.calls, hasSize(0));
  }

  @Test
  void requestSecondsFollowTheBackendsClipGrid() {
    ShotRenderer r = renderer(RenderPolicy.fast());
    assertThat(r.requestSeconds(RUNWAY, 5.0), equalTo(5));
    assertThat(r.requestSeconds(RUNWAY, 8.0), equalTo(10));
    assertThat(r.requestSeconds("veo3", 5.0), equalTo(8));
    assertThat(r.requestSeconds(REPLICATE, 8.0), equalTo(5)); // its longest clip
    assertThat(r.requestSeconds("preview", 2.5), equalTo(3));
    assertThat(
        List.of(r.requestSeconds(RUNWAY, 1.0)), everyItem(allOf(greaterThan(0), lessThan(11))));
  }

  @Test
  void aHostileOutputFileIsAFailedAttemptThatFallsBack() throws Exception {
    byte[] entry = HostileMp4.avc1(64, 64, HostileMp4.sps(3, 3), HostileMp4.pps());
    Map<String, byte[]> files = new java.util.LinkedHashMap<>();
    files.put("huge sample count", HostileMp4.bombs().get("huge sample count"));
    files.put("overlapping samples", HostileMp4.bombs().get("overlapping samples"));
    files.put("huge box in moov", HostileMp4.bombs().get("huge box in moov"));
    files.put("undecodable frames", new HostileMp4.Movie().sampleEntry(entry).build());
    int index = 0;
    for (Map.Entry<String, byte[]> file : files.entrySet()) {
      providers.runway.file = file.getValue();
      ShotTask task = task(index++, RUNWAY, REPLICATE);
      Outcome o = run(renderer(RenderPolicy.fast()), task, () -> false);
      ShotResult first = o.results.get(0);
      assertThat(file.getKey(), first.getStatus(), equalTo("failed"));
      assertThat(first.getFallbackTo(), equalTo(REPLICATE));
      assertThat(first.getError(), containsString("Runway output refused: corrupt"));
      assertThat(first.getError(), not(containsString(tmp.toString())));
      ShotResult second = o.settled();
      assertThat(file.getKey(), second.getStatus(), equalTo("succeeded"));
      assertThat(second.getBackend(), equalTo(REPLICATE));
      Path saved = Path.of(ShotRenderer.shotUri(out.toString(), task));
      assertThat(Mp4Inspector.inspect(saved).getFrameCount(), greaterThan(0));
    }
  }

  @Test
  void aBadSavedFileIsNotRenderedAndIsDeletedNeverThrown() throws Exception {
    Path saved = out.resolve("saved.mp4");
    ShotSpec shot = ShotSpec.create(0, 1.0, "p", 1L);
    for (Map.Entry<String, byte[]> bomb : HostileMp4.bombs().entrySet()) {
      Files.write(saved, bomb.getValue());
      assertThat(bomb.getKey(), ShotRenderer.alreadyRendered(saved.toString(), shot), is(false));
      assertThat(bomb.getKey(), Files.exists(saved), is(false));
    }
    byte[] entry = HostileMp4.avc1(64, 64, HostileMp4.sps(3, 3), HostileMp4.pps());
    Files.write(
        saved, new HostileMp4.Movie().sampleEntry(entry).sizes(300, 300).stts(2, 12000).build());
    assertThat(ShotRenderer.alreadyRendered(saved.toString(), shot), is(false));
    assertThat(Files.exists(saved), is(false));

    PreviewEncoder.encode(saved, PreviewCard.of("a good shot", 0, 1, "job-r", 1.0));
    assertThat(ShotRenderer.alreadyRendered(saved.toString(), shot), is(true));
    assertThat(
        ShotRenderer.alreadyRendered(saved.toString(), ShotSpec.create(0, 5.0, "p", 1L)),
        is(false));
    assertThat(Files.exists(saved), is(true)); // a good file of another length is kept
  }
}
