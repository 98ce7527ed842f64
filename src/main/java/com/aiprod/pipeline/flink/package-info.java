/** Flink runtime helpers for local runs: live counters read while an embedded job runs. */
package com.aiprod.pipeline.flink;
