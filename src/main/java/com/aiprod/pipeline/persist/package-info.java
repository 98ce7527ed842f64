/**
 * Stage Deliver: terminal job documents and warehouse rows (DuckDB locally, BigQuery in
 * production), dead letters to their topic and table, and the outcome parts of what was committed.
 */
package com.aiprod.pipeline.persist;
