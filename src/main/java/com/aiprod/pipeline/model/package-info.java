/**
 * Values that travel through the graph (AutoValue with Beam schemas): requests, jobs, shots, audit
 * events, dead letters, and the pure rules on them (redaction, script text).
 */
package com.aiprod.pipeline.model;
