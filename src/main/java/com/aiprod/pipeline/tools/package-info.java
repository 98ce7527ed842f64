/**
 * Command-line tools around the pipeline (tokens, publishing, queries, audit verification, replay).
 */
package com.aiprod.pipeline.tools;
