/**
 * The local tools around the pipeline, one picocli CLI ({@link com.aiprod.pipeline.tools.Cli}):
 * tokens, samples, publishing, queries, views, run summaries, job export, audit verification and
 * dead-letter replay. Options are kebab-case; bad usage exits 2 before anything is done.
 */
package com.aiprod.pipeline.tools;
