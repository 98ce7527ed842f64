package com.aiprod.pipeline.kernel;

import java.io.Serializable;
import java.util.Set;

/**
 * What routing knows of the render backends' health: the backends whose circuit is open on this
 * worker (DESIGN §5). Rendering keeps the circuits; pricing only reads them, through this
 * interface, so neither stage knows the other.
 */
public interface BackendHealth {
  /** The backend ids to skip at {@code nowMillis}. */
  Set<String> unavailable(long nowMillis);

  /**
   * Opens this worker's view of backend health: a serializable factory the graph hands to every
   * stage that reads or records it; what it opens lives as long as the worker.
   */
  interface Source extends Serializable {
    BackendHealth open();
  }

  /** Every backend healthy (routing without rendering: tests, estimates-only runs). */
  static Source allHealthy() {
    return () -> now -> Set.of();
  }
}
