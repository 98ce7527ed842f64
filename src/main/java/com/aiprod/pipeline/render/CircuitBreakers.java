package com.aiprod.pipeline.render;

import com.aiprod.pipeline.kernel.BackendHealth;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The worker-lifetime {@link CircuitBreaker}s, made by a serializable factory: every DoFn of a run
 * that renders or routes opens the breaker of its {@link #name} and gets the same one on the same
 * worker (a breaker is per backend and per worker, DESIGN §5). The graph passes one instance to
 * RenderShots (which records failures) and, as a {@link BackendHealth.Source}, to PriceAndRoute
 * (which skips open backends). A new name is a new set of circuits (tests use one each).
 */
public final class CircuitBreakers implements BackendHealth.Source {
  private static final long serialVersionUID = 1L;

  /** Worker-lifetime breakers by name: a cache of per-worker state, no data between stages. */
  private static final Map<String, CircuitBreaker> WORKER = new ConcurrentHashMap<>();

  private final String name;

  private CircuitBreakers(String name) {
    this.name = name;
  }

  /** The breakers named {@code name} on each worker. */
  public static CircuitBreakers perWorker(String name) {
    return new CircuitBreakers(name);
  }

  public String name() {
    return name;
  }

  @Override
  public CircuitBreaker open() {
    return WORKER.computeIfAbsent(name, n -> new CircuitBreaker());
  }
}
