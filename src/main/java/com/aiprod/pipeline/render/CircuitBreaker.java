package com.aiprod.pipeline.render;

import com.aiprod.pipeline.kernel.BackendHealth;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The circuit breaker of DESIGN §5: a backend failing {@code breakerFailures} times within {@code
 * breakerWindowMillis} is skipped for {@code breakerOpenMillis}. One per worker ({@link
 * CircuitBreakers}): every render DoFn and the router of that worker see the same circuits. Once
 * the circuit has been open for its time, the backend is tried again (half-open); the failures that
 * opened it are forgotten, so it takes another full count to open it again.
 *
 * <p>Decision: circuits are per worker, not global. A backend that fails for everyone fails on
 * every worker, and each worker learns it from its own calls within a few seconds; a global circuit
 * would need a shared store on the hot path of every call.
 */
public final class CircuitBreaker implements BackendHealth {
  private final Map<String, Deque<Long>> failures = new HashMap<>();
  private final Map<String, Long> openUntil = new HashMap<>();

  /**
   * Records a failed call of {@code backend} at {@code now}.
   *
   * @return true when this failure opened the circuit
   */
  public synchronized boolean recordFailure(String backend, long now, RenderPolicy policy) {
    Deque<Long> times = failures.computeIfAbsent(backend, b -> new ArrayDeque<>());
    times.addLast(now);
    while (!times.isEmpty() && times.peekFirst() <= now - policy.breakerWindowMillis()) {
      times.removeFirst();
    }
    if (times.size() >= policy.breakerFailures() && !isOpen(backend, now)) {
      openUntil.put(backend, now + policy.breakerOpenMillis());
      times.clear();
      return true;
    }
    return false;
  }

  /** Whether {@code backend} is skipped at {@code now}. */
  public synchronized boolean isOpen(String backend, long now) {
    Long until = openUntil.get(backend);
    return until != null && now < until;
  }

  /** When the circuit of {@code backend} closes again (0 when it is closed). */
  public synchronized long closesAt(String backend, long now) {
    return isOpen(backend, now) ? openUntil.get(backend) : 0;
  }

  /** The backends skipped at {@code now} (the router's "unhealthy" set). */
  public synchronized Set<String> openBackends(long now) {
    Set<String> open = new TreeSet<>();
    openUntil.forEach(
        (b, until) -> {
          if (now < until) {
            open.add(b);
          }
        });
    return open;
  }

  @Override
  public Set<String> unavailable(long nowMillis) {
    return openBackends(nowMillis);
  }
}
