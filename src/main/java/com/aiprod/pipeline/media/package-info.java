/**
 * MP4 reading and inspection, frame sampling, output file locations and the preview encoder: media
 * code with no knowledge of stages.
 */
package com.aiprod.pipeline.media;
