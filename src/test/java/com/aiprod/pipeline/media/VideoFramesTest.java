package com.aiprod.pipeline.media;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.anyOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.aiprod.pipeline.media.HostileMp4.BitWriter;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.jcodec.common.model.Picture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VideoFramesTest {
  @TempDir Path dir;

  @Test
  void decodesTheFirstAndLastFramesOfARealClip() throws IOException {
    Path clip = dir.resolve("clip.mp4");
    PreviewEncoder.encode(clip, PreviewCard.of("decode me", 0, 1, "job-v", 1.0));
    try (FileChannel ch = FileChannel.open(clip, StandardOpenOption.READ)) {
      VideoFrames frames = VideoFrames.of(ch);
      frames.decodeFirstAndLast();
      long t0 = System.nanoTime();
      VideoFrames.of(ch).decodeFirstAndLast();
      System.out.printf(
          "video-frames 640x360 %d-frame clip: first and last decoded in %d us%n",
          frames.frameCount(), (System.nanoTime() - t0) / 1000);
      Picture last = frames.decode(frames.frameCount() - 1);
      assertThat(last.getCroppedWidth(), is(640));
      assertThat(last.getCroppedHeight(), is(360));
    }
  }

  @Test
  void randomBytesAsSlicesAreRefused() throws IOException {
    byte[] entry = HostileMp4.avc1(64, 64, HostileMp4.sps(3, 3), HostileMp4.pps());
    Random random = new Random(11);
    for (int trial = 0; trial < 20; trial++) {
      byte[] slice = new byte[300];
      random.nextBytes(slice);
      slice[0] = 0x65; // an IDR slice NAL header, then garbage
      byte[] sample = HostileMp4.sample(slice);
      byte[] mp4 =
          new HostileMp4.Movie()
              .sampleEntry(entry)
              .sizes(sample.length)
              .mdatPayload(sample)
              .build();
      IOException e = assertThrows(IOException.class, () -> decodeFirstAndLast(mp4));
      assertThat(e.getMessage(), anyOf(containsString("H.264"), containsString("frame 1")));
    }
  }

  @Test
  void wholeSamplesOfRandomBytesAreRefused() {
    byte[] entry = HostileMp4.avc1(64, 64, HostileMp4.sps(3, 3), HostileMp4.pps());
    byte[] mp4 = new HostileMp4.Movie().sampleEntry(entry).sizes(500, 500, 500).build();
    IOException e = assertThrows(IOException.class, () -> decodeFirstAndLast(mp4));
    assertThat(e.getMessage(), containsString("frame 1"));
  }

  @Test
  void anOversizedPictureInTheSpsIsRefusedBeforeDecoding() {
    byte[] entry = HostileMp4.avc1(64, 64, HostileMp4.sps(5000, 5000), HostileMp4.pps());
    byte[] mp4 = new HostileMp4.Movie().sampleEntry(entry).build();
    IOException e = assertThrows(IOException.class, () -> decodeFirstAndLast(mp4));
    assertThat(e.getMessage(), containsString("pic_width_in_mbs_minus1 is 5000"));
  }

  @Test
  void aSliceClaimingAMillionReferencesIsRefusedBeforeDecoding() {
    byte[] entry = HostileMp4.avc1(64, 64, HostileMp4.sps(3, 3), HostileMp4.pps());
    byte[] slice =
        new BitWriter()
            .ue(0) // first_mb_in_slice
            .ue(0) // P slice
            .ue(0) // pps
            .u(4, 1) // frame_num
            .u(4, 2) // pic_order_cnt_lsb
            .u(1, 1) // num_ref_idx_active_override_flag
            .ue(1_000_000)
            .u(32, 0)
            .nal(0x41);
    byte[] sample = HostileMp4.sample(slice);
    byte[] mp4 =
        new HostileMp4.Movie().sampleEntry(entry).sizes(sample.length).mdatPayload(sample).build();
    IOException e = assertThrows(IOException.class, () -> decodeFirstAndLast(mp4));
    assertThat(e.getMessage(), containsString("num_ref_idx_l0_active_minus1 is 1000000"));
  }

  @Test
  void everyBombIsRefusedBeforeAnyDecoding() {
    for (byte[] bomb : HostileMp4.bombs().values()) {
      assertThrows(IOException.class, () -> decodeFirstAndLast(bomb));
    }
  }

  private void decodeFirstAndLast(byte[] mp4) throws IOException {
    Path file = Files.write(dir.resolve("f.mp4"), mp4);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      VideoFrames.of(ch).decodeFirstAndLast();
    }
  }
}
