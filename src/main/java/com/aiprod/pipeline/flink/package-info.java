/**
 * Flink runtime helpers for local runs: live counters read while an embedded job runs ({@link
 * com.aiprod.pipeline.flink.LiveCounters}), and a remote cluster's REST API for the job's counters
 * and stop with a savepoint ({@link com.aiprod.pipeline.flink.FlinkRest}).
 */
package com.aiprod.pipeline.flink;
