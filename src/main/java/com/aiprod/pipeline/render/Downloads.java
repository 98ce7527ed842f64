package com.aiprod.pipeline.render;

import com.aiprod.pipeline.render.backends.BackendException;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import javax.annotation.Nullable;

/**
 * The provider-output downloads in flight on this worker, so that a fetch yields the worker between
 * steps as polling does: a step starts the download (or finds it running), waits for it a short
 * while, and otherwise returns to be resumed later. The download itself stays bounded by the
 * backend's stall timeout and its total time and size caps, so every one ends.
 *
 * <p>Worker-lifetime state, like the clients: keyed by the shot's destination, attempt and provider
 * operation, so two steps of one attempt (on any DoFn instance of this worker) share one download.
 * A step on another worker starts its own; both write through {@code Mp4Sink}, which renames a
 * checked temporary file into place, so either may win. Finished downloads nobody came back for
 * (the shot hit its deadline, the worker moved on) are forgotten after {@link
 * #FORGET_AFTER_MILLIS}.
 */
final class Downloads {
  /** Threads downloading at once on a worker; more downloads queue. */
  static final int THREADS = 8;

  static final long FORGET_AFTER_MILLIS = 10 * 60_000L;

  private static final Downloads WORKER = new Downloads();

  /** What a fetch returns: the bytes written. */
  interface Fetch {
    long run() throws BackendException;
  }

  /** A finished download: its bytes, or the failure a synchronous fetch would have thrown. */
  record Done(long startedAtMillis, long bytes, @Nullable Exception failure) {}

  private record Entry(long startedAtMillis, Future<Long> future) {}

  private final Map<String, Entry> inFlight = new ConcurrentHashMap<>();
  private final Map<String, Long> finishedAt = new ConcurrentHashMap<>();
  private final ThreadPoolExecutor pool;

  private Downloads() {
    AtomicInteger n = new AtomicInteger();
    pool =
        new ThreadPoolExecutor(
            THREADS,
            THREADS,
            30,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            r -> {
              Thread t = new Thread(r, "aiprod-download-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    pool.allowCoreThreadTimeOut(true);
  }

  /** This worker's downloads. */
  static Downloads perWorker() {
    return WORKER;
  }

  /**
   * Starts {@code fetch} under {@code key} unless it is already running, and waits up to {@code
   * waitMillis} for it. Returns the finished download (and forgets it), or null while it runs.
   */
  @Nullable
  Done await(String key, Fetch fetch, long waitMillis) {
    forgetAbandoned();
    Entry entry =
        inFlight.computeIfAbsent(
            key,
            k ->
                new Entry(
                    System.currentTimeMillis(),
                    pool.submit(
                        () -> {
                          try {
                            return fetch.run();
                          } finally {
                            finishedAt.put(k, System.currentTimeMillis());
                          }
                        })));
    try {
      long bytes = entry.future().get(waitMillis, TimeUnit.MILLISECONDS);
      forget(key);
      return new Done(entry.startedAtMillis(), bytes, null);
    } catch (TimeoutException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    } catch (CancellationException e) {
      forget(key);
      return new Done(entry.startedAtMillis(), 0, e);
    } catch (ExecutionException e) {
      forget(key);
      Throwable cause = e.getCause();
      if (cause instanceof Error error) {
        throw error;
      }
      return new Done(
          entry.startedAtMillis(),
          0,
          cause instanceof Exception ex ? ex : new RuntimeException(String.valueOf(cause)));
    }
  }

  /** Stops waiting for {@code key}'s download: the shot gave up (deadline, cancel). */
  void abandon(String key) {
    Entry entry = inFlight.remove(key);
    finishedAt.remove(key);
    if (entry != null) {
      entry.future().cancel(true);
    }
  }

  /** Downloads running or finished and not yet collected (for tests and metrics). */
  int size() {
    return inFlight.size();
  }

  private void forget(String key) {
    inFlight.remove(key);
    finishedAt.remove(key);
  }

  private void forgetAbandoned() {
    long now = System.currentTimeMillis();
    finishedAt.forEach(
        (key, at) -> {
          if (now - at > FORGET_AFTER_MILLIS) {
            forget(key);
          }
        });
  }
}
