package com.aiprod.pipeline.media;

import java.io.IOException;
import java.nio.file.Path;
import org.mp4parser.boxes.sampleentry.AbstractSampleEntry;
import org.mp4parser.boxes.sampleentry.VisualSampleEntry;

/**
 * Reads what Technical QA needs (DESIGN §6) out of a real MP4 file through the bounded {@link
 * Mp4Reader}: the video track's sample-entry type, duration, size, frame count and frame rate.
 * Error messages name the check that failed, never the file's path.
 *
 * <p>Duration is the sum of the video samples' durations ({@code stts}) over the media timescale,
 * falling back to {@code mdhd}'s duration if the samples carry none; width and height come from the
 * visual sample entry, or the track header if the entry has none; the frame rate is frames /
 * duration. Edit lists are not applied.
 */
public final class Mp4Inspector {
  private Mp4Inspector() {}

  /**
   * Inspects the MP4 at {@code mp4}.
   *
   * @throws IOException if the file cannot be read, is not an MP4, is truncated or corrupt, or has
   *     no video track with at least one frame
   */
  public static VideoInfo inspect(Path mp4) throws IOException {
    return describe(Mp4Reader.read(mp4));
  }

  /** Inspects an MP4 held in memory; see {@link #inspect(Path)}. */
  public static VideoInfo inspect(byte[] bytes) throws IOException {
    return describe(Mp4Reader.read(bytes));
  }

  private static VideoInfo describe(Mp4Reader.Movie movie) throws IOException {
    try {
      return describeVideo(movie);
    } catch (RuntimeException e) {
      throw new IOException("corrupt MP4: the video track could not be read: " + e, e);
    }
  }

  private static VideoInfo describeVideo(Mp4Reader.Movie movie) throws IOException {
    Mp4Reader.Track video = movie.videoTrack();
    if (video == null) {
      throw new IOException("no video track in the MP4");
    }
    int frames = video.sampleCount();
    if (frames == 0) {
      throw new IOException("the video track has no frames");
    }
    long units = video.sampleDurationSum();
    if (units <= 0) {
      units = video.mediaDuration();
    }
    if (units <= 0) {
      throw new IOException("the video track has zero duration");
    }
    double durationSec = (double) units / video.timescale();
    AbstractSampleEntry entry = video.sampleEntries().get(0);
    int width = 0;
    int height = 0;
    if (entry instanceof VisualSampleEntry) {
      width = ((VisualSampleEntry) entry).getWidth();
      height = ((VisualSampleEntry) entry).getHeight();
    }
    if (width <= 0 || height <= 0) {
      width = (int) Math.round(video.header().getWidth());
      height = (int) Math.round(video.header().getHeight());
    }
    return VideoInfo.create(
        entry.getType(), durationSec, width, height, frames / durationSec, frames);
  }
}
