/**
 * Stage AssembleJobs: per job, its shots collected (state and deadline timer in streaming),
 * concatenated into {@code final.mp4} with a manifest.
 */
package com.aiprod.pipeline.assemble;
