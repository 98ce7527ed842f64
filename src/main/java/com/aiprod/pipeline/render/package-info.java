/**
 * Stage RenderShots: one task per shot, rendered asynchronously by the ShotRenderer state machine
 * with fallback along the router's candidates and a per-worker circuit breaker.
 */
package com.aiprod.pipeline.render;
