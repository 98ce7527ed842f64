package com.aiprod.pipeline.render;

import com.aiprod.pipeline.catalog.PricingTable;
import com.aiprod.pipeline.media.Mp4Inspector;
import com.aiprod.pipeline.media.OutputFiles;
import com.aiprod.pipeline.media.VideoFrames;
import com.aiprod.pipeline.model.ShotResult;
import com.aiprod.pipeline.model.ShotSpec;
import com.aiprod.pipeline.render.ShotRenderState.Phase;
import com.aiprod.pipeline.render.backends.BackendException;
import com.aiprod.pipeline.render.backends.PollResult;
import com.aiprod.pipeline.render.backends.RenderRequest;
import com.aiprod.pipeline.render.backends.VideoBackend;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import javax.annotation.Nullable;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.MoveOptions;

/**
 * The rendering of one shot as a state machine (DESIGN §5, §6), advanced one {@link #step} at a
 * time by the render stage: choose a backend, submit, poll with growing intervals, fetch the
 * output. Every step is a few bounded HTTP exchanges; between steps the shot waits on a timer (or,
 * in batch, a resume of the splittable DoFn), never inside a provider call.
 *
 * <ul>
 *   <li>429, 5xx, timeouts and connection failures retry with exponential backoff and full jitter,
 *       honouring Retry-After, up to {@link RenderPolicy#maxRetries()} in a row;
 *   <li>401/403 refresh the backend's credentials once (a rotated secret), then count as permanent;
 *   <li>a permanent failure, a failed generation, exhausted retries or an attempt running past
 *       {@link RenderPolicy#attemptTimeoutMillis()} end the attempt: the next candidate of the
 *       router's order takes the shot over (a fallback); with none left the shot fails, and the
 *       reasons of every attempt are in its {@code shot_renders} rows and the job's reason;
 *   <li>provider faults count against the backend's circuit ({@link CircuitBreaker}): 5xx,
 *       timeouts, connection failures, malformed answers, bad outputs, attempts timing out, 429
 *       once its retries are exhausted, generations failed for the provider's own reasons; a
 *       refusal of the request (4xx on create, a shot the backend cannot render) and a generation
 *       the provider failed because of its input ({@link PollResult#inputFault()}) do not, so one
 *       tenant's refused prompts never close a backend for everyone. A candidate whose circuit is
 *       open is skipped, and when every remaining candidate is open the shot waits for the first to
 *       close;
 *   <li>a cancelled job stops its shot at the next step (the provider is asked to cancel);
 *   <li>the job's preset deadline ({@link ShotTask#getDeadlineAtMillis()}) stops the shot the same
 *       way, with a {@code deadline} result; no wait lasts past the deadline.
 * </ul>
 *
 * <p>Cost of an attempt: the provider's reported cost when it gives one, else the pricing table's
 * {@code usd_per_second × seconds requested}, charged when the generation succeeded (also when its
 * output could not be fetched: the provider billed it); failed generations cost 0.
 */
public final class ShotRenderer {
  private final RenderPolicy policy;
  private final CircuitBreaker breaker;
  private final PricingTable pricing;
  private final String outputLocation;
  private final Function<String, VideoBackend> backends;
  private final Downloads downloads;

  /** How long a step waits for a provider output's download before it yields the worker. */
  static final long FETCH_WAIT_MILLIS = 2_000;

  /** How long after a yielded step the download is checked again. */
  static final long FETCH_CHECK_MILLIS = 250;

  /**
   * @param backends the worker's open client of a backend id
   */
  public ShotRenderer(
      RenderPolicy policy,
      CircuitBreaker breaker,
      PricingTable pricing,
      String outputLocation,
      Function<String, VideoBackend> backends) {
    this.policy = policy;
    this.breaker = breaker;
    this.pricing = pricing;
    this.outputLocation = outputLocation;
    this.backends = backends;
    this.downloads = Downloads.perWorker();
  }

  /** One backend call, for its API_CALL audit event. */
  public record Call(
      String backend,
      String call,
      int attempt,
      int sequence,
      boolean ok,
      int httpStatus,
      long latencyMs,
      @Nullable String error,
      int polls,
      long atMillis) {}

  /** A shot handed from one backend to the next. */
  public record Fallback(String from, String to, int attempt, String why, long atMillis) {}

  /**
   * What one step did.
   *
   * @param next the state to keep; {@link Phase#DONE} once the shot is settled
   * @param wakeAtMillis when to take the next step (meaningless once done)
   * @param results {@code shot_renders} rows of the attempts that ended in this step
   * @param calls backend calls worth an audit event (submits, terminal polls, fetches, cancels,
   *     failed calls)
   * @param fallbacks hand-overs to the next candidate
   */
  public record Step(
      ShotRenderState next,
      long wakeAtMillis,
      List<ShotResult> results,
      List<Call> calls,
      List<Fallback> fallbacks) {
    public boolean done() {
      return next.phase() == Phase.DONE;
    }
  }

  /** One download per attempt of a shot and provider operation. */
  private static String downloadKey(ShotRenderState s, String uri) {
    return uri + "#" + s.getAttempt() + "#" + s.backend() + "#" + s.getOperation();
  }

  /** The URI of a shot's clip. */
  public static String shotUri(String outputLocation, ShotTask task) {
    return OutputFiles.jobFile(
        outputLocation,
        task.getTenant(),
        task.getJobId(),
        String.format(Locale.ROOT, "shots/shot-%03d.mp4", task.getShot().getIndex()));
  }

  /**
   * A complete rendering of this shot is already at {@code uri} (a redelivered job): the file
   * passes the provider-file acceptance (bounded parse, first and last frames decoded) and has the
   * shot's duration. A saved file that fails the checks is deleted and the shot is rendered again;
   * nothing a file holds makes this throw.
   */
  static boolean alreadyRendered(String uri, ShotSpec shot) {
    if (!OutputFiles.exists(uri)) {
      return false;
    }
    Path local;
    try {
      local = OutputFiles.localCopy(uri);
    } catch (IOException | RuntimeException e) {
      return false; // cannot be read now: render it again (the render replaces it)
    }
    boolean corrupt = false;
    try (FileChannel channel = FileChannel.open(local, StandardOpenOption.READ)) {
      VideoFrames frames = VideoFrames.of(channel);
      if (Math.abs(Mp4Inspector.inspect(local).getDurationSec() - shot.getDurationSec()) >= 0.1) {
        return false;
      }
      frames.decodeFirstAndLast();
      return true;
    } catch (IOException | RuntimeException e) {
      corrupt = true;
      return false; // unreadable, partial or hostile: render it again
    } finally {
      if (!OutputFiles.isLocal(uri)) {
        local.toFile().delete();
      }
      if (corrupt) {
        deleteQuietly(uri);
      }
    }
  }

  private static void deleteQuietly(String uri) {
    try {
      FileSystems.delete(
          List.of(FileSystems.matchNewResource(uri, false)),
          MoveOptions.StandardMoveOptions.IGNORE_MISSING_FILES);
    } catch (IOException | RuntimeException e) {
      // best effort: the next render replaces it
    }
  }

  /** Advances {@code state} at {@code now}; {@code cancelled}: the job was cancelled. */
  public Step step(ShotRenderState state, long now, boolean cancelled) {
    Run run = new Run(now, state.getCallsRecorded());
    ShotTask task = state.getTask();
    ShotRenderState next;
    if (cancelled) {
      next = run.stop(state, "cancelled", "the job was cancelled before this shot was rendered");
    } else if (task.pastDeadline(now)) {
      next = run.stop(state, ShotResult.DEADLINE, deadlinePassed(state));
    } else {
      next = run.advance(state);
    }
    next = next.toBuilder().setCallsRecorded(state.getCallsRecorded() + run.calls.size()).build();
    long wakeAt = run.wakeAt;
    if (task.getDeadlineAtMillis() > 0 && next.phase() != Phase.DONE) {
      wakeAt = Math.min(wakeAt, task.getDeadlineAtMillis()); // never sleep past the deadline
    }
    return new Step(next, wakeAt, run.results, run.calls, run.fallbacks);
  }

  private static String deadlinePassed(ShotRenderState s) {
    String waiting =
        switch (s.phase()) {
          case POLL -> "its generation on " + s.backend() + " was still running (cancelled)";
          case FETCH -> "its output on " + s.backend() + " was not fetched yet";
          case RECOVER -> "a lost create on " + s.backend() + " was being looked for";
          default -> "it was waiting for " + s.backend();
        };
    return "the job's deadline passed before this shot was rendered: " + waiting;
  }

  /** The clip length to ask {@code backend} for: the shortest of its grid covering the shot. */
  int requestSeconds(String backend, double plannedSeconds) {
    List<Integer> grid =
        pricing.find(backend).map(PricingTable.Backend::clipSeconds).orElse(List.of());
    int needed = (int) Math.ceil(plannedSeconds - 1e-9);
    if (grid.isEmpty()) {
      return Math.max(1, needed);
    }
    return grid.stream()
        .filter(s -> s >= needed)
        .min(Integer::compare)
        .orElse(grid.stream().max(Integer::compare).get());
  }

  private double listCost(String backend, int seconds) {
    return pricing
        .find(backend)
        .map(b -> Math.round(b.usdPerSecond() * seconds * 1e6) / 1e6)
        .orElse(0.0);
  }

  /** One step's bookkeeping. */
  private final class Run {
    private final long now;
    private long wakeAt;
    private final List<ShotResult> results = new ArrayList<>();
    private final List<Call> calls = new ArrayList<>();
    private final List<Fallback> fallbacks = new ArrayList<>();

    private final int callBase;

    Run(long now, int callBase) {
      this.now = now;
      this.callBase = callBase;
      this.wakeAt = now;
    }

    ShotRenderState advance(ShotRenderState s) {
      // Each phase either waits (returns with wakeAt set) or moves on within this step.
      for (int guard = 0; guard < 16; guard++) {
        switch (s.phase()) {
          case DONE:
            return s;
          case CHOOSE:
            {
              ShotRenderState chosen = choose(s);
              if (chosen == null
                  || chosen.phase() == Phase.DONE
                  || chosen.phase() == Phase.CHOOSE) {
                return chosen == null ? s : chosen;
              }
              s = chosen;
              break;
            }
          case SUBMIT:
            {
              ShotRenderState submitted = submit(s);
              if (submitted.phase() != Phase.POLL || wakeAt > now) {
                return submitted;
              }
              s = submitted;
              break;
            }
          case RECOVER:
            {
              ShotRenderState recovered = recover(s);
              if (recovered.phase() != Phase.SUBMIT || wakeAt > now) {
                return recovered;
              }
              s = recovered;
              break;
            }
          case POLL:
            {
              ShotRenderState polled = poll(s);
              if (polled.phase() != Phase.FETCH) {
                return polled;
              }
              s = polled;
              break;
            }
          case FETCH:
            return fetch(s);
          default:
            throw new IllegalStateException("unknown phase " + s.getPhase());
        }
      }
      return s;
    }

    /** Start an attempt on the current candidate, or the next whose circuit is closed. */
    private ShotRenderState choose(ShotRenderState s) {
      ShotTask task = s.getTask();
      if (s.getAttempt() == 1
          && s.getCandidate() == 0
          && alreadyRendered(shotUri(outputLocation, task), task.getShot())) {
        // A redelivered job after a restart: the shot's file is the memory, never render twice.
        results.add(result(s, "succeeded", null, 0.0, shotUri(outputLocation, task), null));
        return s.toBuilder().phase(Phase.DONE).build();
      }
      int i = s.getCandidate();
      long soonest = Long.MAX_VALUE;
      for (; task.candidate(i) != null; i++) {
        String b = task.candidate(i);
        if (!breaker.isOpen(b, now)) {
          break;
        }
        soonest = Math.min(soonest, breaker.closesAt(b, now));
      }
      if (task.candidate(i) == null) {
        // Every remaining candidate's circuit is open: wait for the first to close, then retry.
        wakeAt = soonest == Long.MAX_VALUE ? now + policy.breakerOpenMillis() : soonest;
        return s;
      }
      if (i != s.getCandidate()) {
        for (int skipped = s.getCandidate(); skipped < i; skipped++) {
          fallbacks.add(
              new Fallback(
                  task.candidate(skipped),
                  task.candidate(i),
                  s.getAttempt(),
                  "circuit open: "
                      + task.candidate(skipped)
                      + " failed "
                      + policy.breakerFailures()
                      + " times within "
                      + policy.breakerWindowMillis() / 1000
                      + " s",
                  now));
        }
      }
      return s.toBuilder()
          .setCandidate(i)
          .phase(Phase.SUBMIT)
          .setOperation(null)
          .setAttemptStartedMillis(now)
          .setRetries(0)
          .setCredentialsRefreshed(false)
          .setPolls(0)
          .setPollDelayMillis(0)
          .setOutputUri(null)
          .setReportedCostUsd(null)
          .build();
    }

    private RenderRequest request(ShotRenderState s) {
      ShotTask t = s.getTask();
      ShotSpec shot = t.getShot();
      String uri = shotUri(outputLocation, t);
      String prefix =
          uri.substring(0, uri.length() - ".mp4".length()) + "-attempt-" + s.getAttempt() + "/";
      return new RenderRequest(
          t.getJobId(),
          shot.getIndex(),
          s.getAttempt(),
          shot.getPrompt(),
          requestSeconds(s.backend(), shot.getDurationSec()),
          shot.getSeed(),
          t.getAspectRatio(),
          t.getWidth(),
          t.getHeight(),
          t.getFps(),
          t.getTenant() + "-" + t.getJobId() + "-" + shot.getIndex() + "-" + s.backend(),
          prefix,
          t.getShotCount(),
          shot.getDurationSec(),
          t.getDeadlineAtMillis());
    }

    private ShotRenderState submit(ShotRenderState s) {
      VideoBackend backend;
      try {
        backend = backends.apply(s.backend());
      } catch (RuntimeException e) {
        return attemptFailed(
            s, "backend " + s.backend() + " could not be opened: " + e.getMessage(), 0.0);
      }
      String journal =
          backend.completesOnSubmit()
              ? null
              : CreateJournal.uri(outputLocation, s.getTask(), s.getAttempt(), s.backend());
      if (journal != null) {
        ShotRenderState known = fromJournal(s, backend, journal);
        if (known != null) {
          return known;
        }
      }
      long t0 = System.currentTimeMillis();
      try {
        if (journal != null) {
          journal(journal, CreateJournal.INTENT, null);
        }
        String op = backend.submit(request(s));
        calls.add(call(s, "submit", true, 0, t0, null));
        if (journal != null) {
          journal(journal, CreateJournal.MADE, op);
        }
        long delay = backend.completesOnSubmit() ? 0 : policy.nextPollDelay(0);
        wakeAt = now + delay;
        return s.toBuilder()
            .phase(Phase.POLL)
            .setOperation(op)
            .setRetries(0)
            .setPollDelayMillis(delay)
            .build();
      } catch (BackendException e) {
        calls.add(call(s, "submit", false, e.httpStatus(), t0, e.getMessage()));
        if (e.outcomeUnknown()) {
          return createUnknown(s, backend, e);
        }
        journalQuietly(journal, CreateJournal.NONE, null);
        return callFailed(s, backend, e);
      } catch (IOException e) {
        // The intent could not be recorded: nothing was created; try again later.
        calls.add(call(s, "submit", false, 0, t0, "create journal: " + e));
        return callFailed(
            s,
            backend,
            new BackendException(
                BackendException.Kind.RETRYABLE, 0, null, "create journal: " + e, e));
      } catch (RuntimeException e) {
        calls.add(call(s, "submit", false, 0, t0, e.toString()));
        return callFailed(
            s,
            backend,
            new BackendException(BackendException.Kind.PERMANENT, 0, null, e.toString(), e));
      }
    }

    /**
     * A create whose request was sent but whose answer was lost may have made a billed generation.
     * A backend that can list what it made looks for it before anything else is created ({@link
     * Phase#RECOVER}); one that cannot ends the attempt: at most one generation per attempt.
     */
    private ShotRenderState createUnknown(
        ShotRenderState s, VideoBackend backend, BackendException e) {
      if (e.providerFault()) {
        breaker.recordFailure(s.backend(), now, policy);
      }
      if (!backend.findsLostSubmits()) {
        return attemptFailed(
            s,
            "create outcome unknown ("
                + e.getMessage()
                + "); "
                + s.backend()
                + " has no idempotency key and no task list, so no second task is made in this"
                + " attempt (a task made by the lost call may still be billed)",
            0.0);
      }
      int retry = s.getRetries() + 1;
      wakeAt = now + policy.backoff(retry, e.retryAfterMillis());
      return s.toBuilder().phase(Phase.RECOVER).setRetries(retry).build();
    }

    /** Looks for the generation of a create whose answer was lost; adopts it, or creates again. */
    private ShotRenderState recover(ShotRenderState s) {
      VideoBackend backend = backends.apply(s.backend());
      boolean timedOut = now - s.getAttemptStartedMillis() > policy.attemptTimeoutMillis();
      long t0 = System.currentTimeMillis();
      String found;
      try {
        found = backend.findSubmitted(request(s), s.getAttemptStartedMillis());
      } catch (BackendException | RuntimeException e) {
        String msg = e.getMessage();
        calls.add(
            call(s, "find", false, e instanceof BackendException b ? b.httpStatus() : 0, t0, msg));
        if (e instanceof BackendException b && b.providerFault()) {
          breaker.recordFailure(s.backend(), now, policy);
        }
        int retry = s.getRetries() + 1;
        long delay = policy.backoff(retry, null);
        if (timedOut
            || retry > policy.maxRetries()
            || now + delay - s.getAttemptStartedMillis() > policy.attemptTimeoutMillis()) {
          return attemptFailed(
              s,
              "create outcome unknown and the task list could not be read ("
                  + msg
                  + "); no second task is made in this attempt",
              0.0);
        }
        wakeAt = now + delay;
        return s.toBuilder().setRetries(retry).build();
      }
      calls.add(
          call(s, "find", true, 0, t0, found == null ? "no task made by the lost create" : null));
      if (found != null && timedOut) {
        cancelQuietly(s, backend, found);
        return attemptFailed(
            s,
            "create outcome unknown; its task was found after the attempt timeout and cancelled",
            0.0);
      }
      if (found != null) {
        journalQuietly(journalOf(s, backend), CreateJournal.MADE, found);
        long delay = policy.nextPollDelay(0);
        wakeAt = now + delay;
        return s.toBuilder()
            .phase(Phase.POLL)
            .setOperation(found)
            .setRetries(0)
            .setPollDelayMillis(delay)
            .build();
      }
      if (timedOut || s.getRetries() > policy.maxRetries()) {
        return attemptFailed(
            s,
            "gave up after "
                + policy.maxRetries()
                + " retries: every create's outcome was unknown and none made a task",
            0.0);
      }
      // The lost create made nothing: creating again is safe.
      journalQuietly(journalOf(s, backend), CreateJournal.NONE, null);
      return s.toBuilder().phase(Phase.SUBMIT).build();
    }

    private @Nullable String journalOf(ShotRenderState s, VideoBackend backend) {
      return backend.completesOnSubmit()
          ? null
          : CreateJournal.uri(outputLocation, s.getTask(), s.getAttempt(), s.backend());
    }

    /**
     * What the journal knows of this attempt's create (a create made after the checkpoint this
     * state was restored from): its task is adopted, a create of unknown outcome is looked for (or
     * ends the attempt); null when no create of this attempt is recorded.
     */
    private @Nullable ShotRenderState fromJournal(
        ShotRenderState s, VideoBackend backend, String journal) {
      CreateJournal.Entry e;
      long t0 = System.currentTimeMillis();
      try {
        e = CreateJournal.read(journal);
      } catch (IOException | RuntimeException ex) {
        calls.add(call(s, "submit", false, 0, t0, "create journal unreadable: " + ex));
        int retry = s.getRetries() + 1;
        if (retry > policy.maxRetries()) {
          return attemptFailed(s, "the create journal could not be read: " + ex, 0.0);
        }
        wakeAt = now + policy.backoff(retry, null);
        return s.toBuilder().setRetries(retry).build();
      }
      if (e == null
          || e.status().equals(CreateJournal.NONE)
          || now - e.atMillis() > policy.attemptTimeoutMillis()) {
        return null;
      }
      if (e.status().equals(CreateJournal.MADE)) {
        calls.add(call(s, "adopt", true, 0, t0, null));
        long delay = policy.nextPollDelay(0);
        wakeAt = now + delay;
        return s.toBuilder()
            .phase(Phase.POLL)
            .setOperation(e.operation())
            .setAttemptStartedMillis(Math.min(s.getAttemptStartedMillis(), e.atMillis()))
            .setRetries(0)
            .setPollDelayMillis(delay)
            .build();
      }
      // An intent without an outcome: a create was sent and the worker was lost before its answer.
      ShotRenderState since =
          s.toBuilder()
              .setAttemptStartedMillis(Math.min(s.getAttemptStartedMillis(), e.atMillis()))
              .build();
      if (!backend.findsLostSubmits()) {
        return attemptFailed(
            since,
            "a create was sent before the worker was lost and its outcome is unknown; "
                + s.backend()
                + " has no idempotency key and no task list, so no second task is made in this"
                + " attempt (a task made by that create may still be billed)",
            0.0);
      }
      wakeAt = now;
      return since.toBuilder().phase(Phase.RECOVER).setRetries(s.getRetries() + 1).build();
    }

    private void journal(String uri, String status, @Nullable String operation) throws IOException {
      CreateJournal.write(uri, new CreateJournal.Entry(status, operation, now));
    }

    /** Best effort: a lost record only means a restored state looks for the task instead. */
    private void journalQuietly(@Nullable String uri, String status, @Nullable String operation) {
      if (uri == null) {
        return;
      }
      try {
        journal(uri, status, operation);
      } catch (IOException | RuntimeException e) {
        // the next submit of this attempt treats the create as of unknown outcome
      }
    }

    private void cancelQuietly(ShotRenderState s, VideoBackend backend, String operation) {
      long t0 = System.currentTimeMillis();
      try {
        backend.cancel(operation);
        calls.add(call(s, "cancel", true, 0, t0, null));
      } catch (RuntimeException e) {
        calls.add(call(s, "cancel", false, 0, t0, e.toString()));
      }
    }

    private ShotRenderState poll(ShotRenderState s) {
      VideoBackend backend = backends.apply(s.backend());
      if (now - s.getAttemptStartedMillis() > policy.attemptTimeoutMillis()) {
        breaker.recordFailure(s.backend(), now, policy);
        return attemptFailed(
            s,
            "no output after "
                + (now - s.getAttemptStartedMillis()) / 1000
                + " s and "
                + s.getPolls()
                + " polls (attempt timeout "
                + policy.attemptTimeoutMillis() / 1000
                + " s)",
            0.0);
      }
      long t0 = System.currentTimeMillis();
      PollResult r;
      try {
        r = backend.poll(s.getOperation(), request(s));
      } catch (BackendException e) {
        calls.add(
            call(
                s.toBuilder().setPolls(s.getPolls() + 1).build(),
                "poll",
                false,
                e.httpStatus(),
                t0,
                e.getMessage()));
        return callFailed(s.toBuilder().setPolls(s.getPolls() + 1).build(), backend, e);
      } catch (RuntimeException e) {
        calls.add(call(s, "poll", false, 0, t0, e.toString()));
        return callFailed(
            s,
            backend,
            new BackendException(BackendException.Kind.PERMANENT, 0, null, e.toString(), e));
      }
      ShotRenderState polled = s.toBuilder().setPolls(s.getPolls() + 1).setRetries(0).build();
      switch (r.status()) {
        case RUNNING:
          {
            long delay = policy.nextPollDelay(s.getPollDelayMillis());
            wakeAt = now + delay;
            return polled.toBuilder().setPollDelayMillis(delay).build();
          }
        case FAILED:
          calls.add(call(polled, "poll", true, 0, t0, null));
          if (!r.inputFault()) {
            breaker.recordFailure(s.backend(), now, policy);
          }
          // The generation has ended: nothing to cancel.
          return attemptFailed(
              polled.toBuilder().setOperation(null).build(),
              "the generation failed: " + r.error(),
              0.0);
        case SUCCEEDED:
        default:
          if (!backend.completesOnSubmit()) {
            calls.add(
                call(polled, "poll", true, 0, t0, null)); // a local encoder's poll is no API call
          }
          return polled.toBuilder()
              .phase(Phase.FETCH)
              .setOutputUri(r.outputUri())
              .setReportedCostUsd(r.reportedCostUsd())
              .build();
      }
    }

    private double generationCost(ShotRenderState s) {
      return s.getReportedCostUsd() != null
          ? s.getReportedCostUsd()
          : listCost(
              s.backend(), requestSeconds(s.backend(), s.getTask().getShot().getDurationSec()));
    }

    private ShotRenderState fetch(ShotRenderState s) {
      VideoBackend backend = backends.apply(s.backend());
      String uri = shotUri(outputLocation, s.getTask());
      PollResult succeeded = PollResult.succeeded(s.getOutputUri(), s.getReportedCostUsd());
      if (backend.completesOnSubmit()) {
        // A local render: its "fetch" is a copy of a file the worker already has.
        long t0 = System.currentTimeMillis();
        try {
          backend.fetch(succeeded, request(s), uri);
        } catch (BackendException e) {
          calls.add(call(s, "fetch", false, e.httpStatus(), t0, e.getMessage()));
          return callFailed(s, backend, e);
        } catch (RuntimeException e) {
          calls.add(call(s, "fetch", false, 0, t0, e.toString()));
          return callFailed(
              s,
              backend,
              new BackendException(BackendException.Kind.PERMANENT, 0, null, e.toString(), e));
        }
        results.add(result(s, "succeeded", null, generationCost(s), uri, null));
        return s.toBuilder().phase(Phase.DONE).build();
      }
      // A provider's output: downloaded beside the step, which waits a little and otherwise
      // yields the worker until the next check (the download stays bounded by its own limits).
      Downloads.Done done =
          downloads.await(
              downloadKey(s, uri),
              () -> backend.fetch(succeeded, request(s), uri),
              FETCH_WAIT_MILLIS);
      if (done == null) {
        wakeAt = now + FETCH_WAIT_MILLIS + FETCH_CHECK_MILLIS;
        return s;
      }
      long t0 = done.startedAtMillis();
      Exception failure = done.failure();
      if (failure instanceof BackendException e) {
        calls.add(call(s, "fetch", false, e.httpStatus(), t0, e.getMessage()));
        return callFailed(s, backend, e);
      } else if (failure != null) {
        calls.add(call(s, "fetch", false, 0, t0, failure.toString()));
        return callFailed(
            s,
            backend,
            new BackendException(
                BackendException.Kind.PERMANENT, 0, null, failure.toString(), failure));
      }
      calls.add(call(s, "fetch", true, 0, t0, null));
      results.add(result(s, "succeeded", null, generationCost(s), uri, null));
      return s.toBuilder().phase(Phase.DONE).build();
    }

    /** A call failed: refresh credentials, retry later, or end the attempt. */
    private ShotRenderState callFailed(
        ShotRenderState s, VideoBackend backend, BackendException e) {
      if (e.providerFault()) {
        breaker.recordFailure(s.backend(), now, policy);
      }
      double billed = s.phase() == Phase.FETCH ? generationCost(s) : 0.0;
      switch (e.kind()) {
        case AUTH:
          if (!s.getCredentialsRefreshed()) {
            backend.refreshCredentials();
            wakeAt = now;
            return s.toBuilder().setCredentialsRefreshed(true).build();
          }
          return attemptFailed(s, "credentials refused after a refresh: " + e.getMessage(), billed);
        case RETRYABLE:
          {
            int retry = s.getRetries() + 1;
            if (retry > policy.maxRetries()) {
              rateLimitedToTheEnd(s, e);
              return attemptFailed(
                  s,
                  "gave up after " + policy.maxRetries() + " retries: " + e.getMessage(),
                  billed);
            }
            long delay = policy.backoff(retry, e.retryAfterMillis());
            if (now + delay - s.getAttemptStartedMillis() > policy.attemptTimeoutMillis()) {
              rateLimitedToTheEnd(s, e);
              return attemptFailed(
                  s,
                  "retry in "
                      + delay / 1000
                      + " s would pass the attempt timeout: "
                      + e.getMessage(),
                  billed);
            }
            wakeAt = now + delay;
            return s.toBuilder().setRetries(retry).build();
          }
        case PERMANENT:
        default:
          return attemptFailed(s, e.getMessage(), billed);
      }
    }

    /** A 429 counts against the circuit only once its retries are exhausted (DESIGN §13). */
    private void rateLimitedToTheEnd(ShotRenderState s, BackendException e) {
      if (e.httpStatus() == 429) {
        breaker.recordFailure(s.backend(), now, policy);
      }
    }

    /** The attempt is over without an output: hand the shot to the next candidate, or fail it. */
    private ShotRenderState attemptFailed(ShotRenderState s, String why, double cost) {
      if (s.phase() == Phase.POLL && s.getOperation() != null) {
        // A generation we stop following is cancelled, never left running untracked.
        cancelQuietly(s, backends.apply(s.backend()), s.getOperation());
      }
      String next = s.getTask().candidate(s.getCandidate() + 1);
      results.add(result(s, "failed", why, cost, null, next));
      if (next == null) {
        return s.toBuilder().phase(Phase.DONE).build();
      }
      fallbacks.add(new Fallback(s.backend(), next, s.getAttempt(), why, now));
      wakeAt = now;
      return s.toBuilder()
          .setCandidate(s.getCandidate() + 1)
          .setAttempt(s.getAttempt() + 1)
          .phase(Phase.CHOOSE)
          .setOperation(null)
          .build();
    }

    /**
     * Ends the shot without an output ({@code status}: cancelled, deadline): a task in flight is
     * cancelled at the provider, never left running untracked.
     */
    ShotRenderState stop(ShotRenderState s, String status, String why) {
      if (s.phase() == Phase.DONE) {
        return s;
      }
      if (s.phase() == Phase.RECOVER) {
        // A lost create may have made a task: find it to cancel it.
        VideoBackend backend = backends.apply(s.backend());
        try {
          String found = backend.findSubmitted(request(s), s.getAttemptStartedMillis());
          if (found != null) {
            cancelQuietly(s, backend, found);
          }
        } catch (BackendException | RuntimeException e) {
          calls.add(call(s, "find", false, 0, System.currentTimeMillis(), e.getMessage()));
        }
      }
      if (s.getOperation() != null && (s.phase() == Phase.POLL || s.phase() == Phase.FETCH)) {
        long t0 = System.currentTimeMillis();
        try {
          backends.apply(s.backend()).cancel(s.getOperation());
          calls.add(call(s, "cancel", true, 0, t0, null));
        } catch (RuntimeException e) {
          calls.add(call(s, "cancel", false, 0, t0, e.toString()));
        }
      }
      if (s.phase() == Phase.FETCH) {
        downloads.abandon(downloadKey(s, shotUri(outputLocation, s.getTask())));
      }
      // A generation that succeeded but was not fetched was billed all the same.
      double billed = s.phase() == Phase.FETCH ? generationCost(s) : 0.0;
      results.add(result(s, status, why, billed, null, null));
      return s.toBuilder().phase(Phase.DONE).build();
    }

    private Call call(
        ShotRenderState s, String what, boolean ok, int status, long t0, @Nullable String error) {
      return new Call(
          s.backend(),
          what,
          s.getAttempt(),
          callBase + calls.size(),
          ok,
          status,
          System.currentTimeMillis() - t0,
          error,
          s.getPolls(),
          System.currentTimeMillis());
    }

    private ShotResult result(
        ShotRenderState s,
        String status,
        @Nullable String error,
        double cost,
        @Nullable String uri,
        @Nullable String fallbackTo) {
      ShotTask t = s.getTask();
      long started = s.getAttemptStartedMillis() == 0 ? now : s.getAttemptStartedMillis();
      long finished = Math.max(started, System.currentTimeMillis());
      return ShotResult.builder()
          .setTenant(t.getTenant())
          .setJobId(t.getJobId())
          .setShotIndex(t.getShot().getIndex())
          .setAttempt(s.getAttempt())
          .setBackend(s.backend())
          .setStatus(status)
          .setError(error)
          .setCostUsd(cost)
          .setLatencyMs(finished - started)
          .setStartedAtMillis(started)
          .setFinishedAtMillis(finished)
          .setUri(uri)
          .setFallbackTo(fallbackTo)
          .build();
    }
  }
}
