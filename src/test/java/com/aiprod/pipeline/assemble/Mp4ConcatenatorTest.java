package com.aiprod.pipeline.assemble;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.aiprod.pipeline.media.HostileMp4;
import com.aiprod.pipeline.media.Mp4Inspector;
import com.aiprod.pipeline.media.Mp4Reader;
import com.aiprod.pipeline.media.PreviewCard;
import com.aiprod.pipeline.media.PreviewEncoder;
import com.aiprod.pipeline.media.VideoInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Mp4ConcatenatorTest {
  private static final double[] DURATIONS = {5.0, 5.0, 2.5};

  @TempDir static Path shared;
  private static final List<Path> SHOTS = new ArrayList<>();

  @TempDir Path dir;

  @BeforeAll
  static void renderShots() throws IOException {
    for (int i = 0; i < DURATIONS.length; i++) {
      Path shot = shared.resolve("shot-" + i + ".mp4");
      PreviewEncoder.encode(
          shot,
          PreviewCard.of("Shot prompt number " + i, i, DURATIONS.length, "job-c", DURATIONS[i]));
      SHOTS.add(shot);
    }
  }

  @Test
  void concatenatesShotsIntoOneTrackWithTheSummedDuration() throws Exception {
    Path out = dir.resolve("final.mp4");
    Mp4Concatenator.concat(SHOTS, out);

    VideoInfo info = Mp4Inspector.inspect(out);
    assertThat(info.getCodec(), is("avc1"));
    assertThat(info.getDurationSec(), closeTo(12.5, 0.1));
    assertThat(info.getFrameCount(), is(150));
    assertThat(info.getFps(), closeTo(12.0, 0.01));
    assertThat(info.getWidth(), is(640));
    assertThat(info.getHeight(), is(360));

    Mp4Reader.Movie movie = Mp4Reader.read(out);
    assertThat(movie.tracks().size(), is(1));
    // Same encoder settings and size: one shared sample description (SPS/PPS).
    assertThat(movie.videoTrack().sampleEntries().size(), is(1));
    // Stream copy: the final carries exactly the shots' sample bytes.
    long samples = 0;
    for (Path shot : SHOTS) {
      Mp4Reader.Track track = Mp4Reader.read(shot).videoTrack();
      for (int s = 0; s < track.sampleCount(); s++) {
        samples += track.size(s);
      }
    }
    long copied = 0;
    for (int s = 0; s < movie.videoTrack().sampleCount(); s++) {
      copied += movie.videoTrack().size(s);
    }
    assertThat(copied, is(samples));
    assertThat(movie.videoTrack().isSync(0), is(true));
    assertThat(movie.videoTrack().isSync(60), is(true));
  }

  @Test
  void keepsEachShotsCodecConfigurationWhenTheyDiffer() throws Exception {
    Path small = dir.resolve("small.mp4");
    Path large = dir.resolve("large.mp4");
    PreviewEncoder.encode(small, PreviewCard.of("small", 0, 2, "job-m", 1.0));
    PreviewEncoder.encode(
        large,
        PreviewCard.builder()
            .setTitle("large")
            .setShotIndex(1)
            .setShotCount(2)
            .setJobId("job-m")
            .setDurationSec(0.5)
            .setWidth(320)
            .setHeight(176)
            .build());
    Path out = dir.resolve("mixed.mp4");
    Mp4Concatenator.concat(List.of(small, large, small), out);

    Mp4Reader.Track track = Mp4Reader.read(out).videoTrack();
    assertThat(track.sampleEntries().size(), is(2));
    assertThat(track.descriptionIndex(0), is(0));
    assertThat(track.descriptionIndex(12), is(1));
    assertThat(track.descriptionIndex(18), is(0));
    VideoInfo info = Mp4Inspector.inspect(out);
    assertThat(info.getFrameCount(), is(30));
    assertThat(info.getDurationSec(), closeTo(2.5, 1e-9));
  }

  @Test
  void replacesAnExistingOutput() throws Exception {
    Path out = dir.resolve("final.mp4");
    Files.writeString(out, "old");
    Mp4Concatenator.concat(SHOTS.subList(2, 3), out);
    assertThat(Mp4Inspector.inspect(out).getFrameCount(), is(30));
  }

  @Test
  void rejectsUnreadableInputsWithoutWritingTheOutput() throws Exception {
    Path garbage = dir.resolve("garbage.mp4");
    Files.writeString(garbage, "this is not a video at all, just some text");
    Path out = dir.resolve("final.mp4");
    IOException e =
        assertThrows(
            IOException.class, () -> Mp4Concatenator.concat(List.of(SHOTS.get(0), garbage), out));
    assertThat(e.getMessage(), containsString("not an MP4"));
    assertThat(Files.exists(out), is(false));
    assertThrows(IllegalArgumentException.class, () -> Mp4Concatenator.concat(List.of(), out));
  }

  @Test
  void refusesAShotWhoseSamplesOverlap() throws Exception {
    Path bomb =
        Files.write(dir.resolve("overlap.mp4"), HostileMp4.bombs().get("overlapping samples"));
    Path out = dir.resolve("final.mp4");
    IOException e =
        assertThrows(
            IOException.class, () -> Mp4Concatenator.concat(List.of(SHOTS.get(0), bomb), out));
    assertThat(e.getMessage(), containsString("cannot concatenate: shot 2: "));
    assertThat(e.getMessage(), containsString("sample byte ranges overlap"));
    assertThat(e.getMessage(), not(containsString(dir.toString())));
    assertThat(Files.exists(out), is(false));
  }

  @Test
  void theOutputIsNoLargerThanItsInputsPlusTheHeaderAllowance() throws Exception {
    Path out = dir.resolve("final.mp4");
    Mp4Concatenator.concat(SHOTS, out);
    long sum = 0;
    for (Path shot : SHOTS) {
      sum += Files.size(shot);
    }
    long inputs = sum;
    long samples = Mp4Reader.read(out).videoTrack().sampleCount();
    assertThat(Files.size(out) <= inputs + Mp4Concatenator.headerAllowance(samples), is(true));

    Mp4Concatenator.checkOutputSize(inputs + 100, inputs - 1000, inputs, samples);
    IOException tooLarge =
        assertThrows(
            IOException.class,
            () ->
                Mp4Concatenator.checkOutputSize(
                    inputs + Mp4Concatenator.headerAllowance(samples) + 1,
                    inputs,
                    inputs,
                    samples));
    assertThat(tooLarge.getMessage(), containsString("the output would have"));
    assertThrows(
        IOException.class,
        () -> Mp4Concatenator.checkOutputSize(inputs + 10, inputs + 1, inputs, samples));
  }
}
