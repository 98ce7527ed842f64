package com.aiprod.pipeline.plan;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.endsWith;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.startsWith;

import com.aiprod.pipeline.catalog.ShotGrid;
import com.aiprod.pipeline.model.JobRequest;
import com.aiprod.pipeline.model.ShotSpec;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class LocalPlannerTest {
  private static final String SCRIPT =
      "A red kite rises over green hills. The child runs after"
          + " it, laughing! Clouds gather at dusk. Rain begins to fall? The kite lands softly.\n"
          + "Closing title: Acme kites";

  private static JobRequest req(String mode, int duration, String content) {
    return JobRequest.builder()
        .setContent(content)
        .setPreset("quick_social")
        .setMode(mode)
        .setPriority("low")
        .setDurationSec(duration)
        .setBudgetUsd(10)
        .build();
  }

  private static double total(List<ShotSpec> shots) {
    return shots.stream().mapToDouble(ShotSpec::getDurationSec).sum();
  }

  /** Index of the first shot whose prompt contains {@code sentence}, or -1. */
  private static int shotOf(List<ShotSpec> shots, String sentence) {
    for (ShotSpec s : shots) {
      if (s.getPrompt().contains(sentence)) {
        return s.getIndex();
      }
    }
    return -1;
  }

  @Test
  void splitsSentencesAndLines() {
    assertThat(
        LocalPlanner.sentences(SCRIPT, "en"),
        contains(
            "A red kite rises over green hills.",
            "The child runs after it, laughing!",
            "Clouds gather at dusk.",
            "Rain begins to fall?",
            "The kite lands softly.",
            "Closing title: Acme kites"));
    assertThat(
        LocalPlanner.sentences("今日は晴れです。明日は雨でしょう。", "ja"), contains("今日は晴れです。", "明日は雨でしょう。"));
    assertThat(LocalPlanner.sentences("\n\n  \n", "en"), hasSize(0));
  }

  @Test
  void everySentenceLandsInAShotInOrderWhenThereAreMoreSentencesThanShots() {
    List<ShotSpec> shots = LocalPlanner.plan("job-12345678", req("final", 20, SCRIPT), 10);
    assertThat(shots, hasSize(2));
    int previous = 0;
    for (String sentence : LocalPlanner.sentences(SCRIPT, "en")) {
      int at = shotOf(shots, sentence);
      assertThat(sentence, at, greaterThanOrEqualTo(previous));
      previous = at;
    }
    // 6 sentences over 2 shots: 3 each.
    assertThat(
        shots.get(0).getPrompt(),
        startsWith(
            "A red kite rises over green hills. The child"
                + " runs after it, laughing! Clouds gather at dusk.\n"));
    assertThat(shots.get(1).getPrompt(), startsWith("Rain begins to fall?"));
  }

  @Test
  void sentencesSpreadOverShotsWhenThereAreFewerSentences() {
    List<ShotSpec> shots =
        LocalPlanner.plan(
            "job-12345678", req("final", 40, "A lighthouse at night. Waves crash below."), 8);
    assertThat(shots, hasSize(5));
    List<String> firstLines =
        shots.stream().map(s -> s.getPrompt().split("\n")[0]).collect(Collectors.toList());
    assertThat(
        firstLines,
        contains(
            "A lighthouse at night. (part 1 of 3)",
            "A lighthouse at night. (part 2 of 3)",
            "A lighthouse at night. (part 3 of 3)",
            "Waves crash below. (part 1 of 2)",
            "Waves crash below. (part 2 of 2)"));
  }

  @Test
  void finalDurationsAreWholeClipsSummingToRenderedSeconds() {
    List<ShotSpec> shots = LocalPlanner.plan("job-12345678", req("final", 30, SCRIPT), 8);
    assertThat(shots, hasSize(4));
    assertThat(total(shots), equalTo(32.0));
    assertThat(total(shots), equalTo(ShotGrid.renderedSeconds(30, 8)));
    assertThat(
        shots.stream().map(ShotSpec::getIndex).collect(Collectors.toList()), contains(0, 1, 2, 3));
    assertThat(LocalPlanner.plan("j-12345678", req("final", 30, SCRIPT), 10), hasSize(3));
  }

  @Test
  void previewShotsAreFiveSecondsAndSumToTheDuration() {
    List<ShotSpec> shots =
        LocalPlanner.plan(
            "job-12345678", req("preview", 12, SCRIPT), ShotGrid.PREVIEW_CLIP_SECONDS);
    assertThat(
        shots.stream().map(ShotSpec::getDurationSec).collect(Collectors.toList()),
        contains(5.0, 5.0, 2.0));
    assertThat(total(shots), equalTo(12.0));
  }

  @Test
  void seedsAreStableAndDistinct() {
    // Pinned: a changed seed would re-render every cached shot differently.
    assertThat(LocalPlanner.seed("job-12345678", 0), equalTo(-7205574041766967104L));
    assertThat(LocalPlanner.seed("job-12345678", 1), equalTo(8210099832908538974L));
    List<ShotSpec> a = LocalPlanner.plan("job-12345678", req("final", 300, SCRIPT), 5);
    List<ShotSpec> b = LocalPlanner.plan("job-12345678", req("final", 300, SCRIPT), 5);
    assertThat(a, equalTo(b));
    Set<Long> seeds = a.stream().map(ShotSpec::getSeed).collect(Collectors.toSet());
    assertThat(seeds, hasSize(60));
    Set<Long> other =
        LocalPlanner.plan("job-87654321", req("final", 300, SCRIPT), 5).stream()
            .map(ShotSpec::getSeed)
            .collect(Collectors.toCollection(HashSet::new));
    other.retainAll(seeds);
    assertThat(other, hasSize(0));
    for (int i = 0; i < a.size(); i++) {
      assertThat(a.get(i).getSeed(), equalTo(LocalPlanner.seed("job-12345678", i)));
    }
    assertThat(LocalPlanner.seed("ab", 1), not(equalTo(LocalPlanner.seed("a", 1))));
  }

  @Test
  void seedIsTheFirstEightBytesOfSha256() throws Exception {
    java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
    sha.update("job-1".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    sha.update(new byte[] {0, 0, 0, 0, 7});
    long expected = java.nio.ByteBuffer.wrap(sha.digest()).getLong();
    assertThat(LocalPlanner.seed("job-1", 7), equalTo(expected));
  }

  @Test
  void consistencyMarkersComeFromPreferencesOrDefaults() {
    List<ShotSpec> plain = LocalPlanner.plan("job-12345678", req("final", 20, SCRIPT), 10);
    for (ShotSpec s : plain) {
      assertThat(s.getPrompt(), containsString("Style: " + LocalPlanner.DEFAULT_STYLE));
      assertThat(
          s.getPrompt(), containsString("Color palette: " + LocalPlanner.DEFAULT_COLOR_PALETTE));
      assertThat(s.getPrompt(), containsString("Mood: " + LocalPlanner.DEFAULT_MOOD));
      assertThat(s.getPrompt(), containsString("Camera: " + LocalPlanner.DEFAULT_CAMERA));
      assertThat(s.getPrompt(), containsString("Lighting: " + LocalPlanner.DEFAULT_LIGHTING));
      assertThat(s.getPrompt(), containsString("Character: " + LocalPlanner.DEFAULT_CHARACTER));
      assertThat(s.getPrompt(), endsWith("Aspect ratio 16:9."));
    }
    JobRequest styled =
        req("final", 20, SCRIPT).toBuilder()
            .setStyle("anime")
            .setColorPalette("pastel")
            .setMood("joyful")
            .setCameraStyle("handheld")
            .setAspectRatio("9:16")
            .build();
    List<ShotSpec> shots = LocalPlanner.plan("job-12345678", styled, 10);
    String markers = LocalPlanner.markers(styled);
    for (ShotSpec s : shots) {
      assertThat(s.getPrompt(), endsWith("\n" + markers));
    }
    assertThat(
        markers,
        equalTo(
            "Style: anime. Color palette: pastel. Mood: joyful."
                + " Camera: handheld. Lighting: "
                + LocalPlanner.DEFAULT_LIGHTING
                + ". Character: "
                + LocalPlanner.DEFAULT_CHARACTER
                + ". Aspect ratio 9:16."));
  }

  @Test
  void promptsAreCappedAtAWordBoundary() {
    String longScript =
        IntStream.range(0, 400)
            .mapToObj(i -> "Sentence number " + i + " here.")
            .collect(Collectors.joining(" "));
    JobRequest r =
        req("final", 5, longScript).toBuilder()
            .setStyle("s".repeat(200))
            .setMood("m".repeat(200))
            .setCameraStyle("c".repeat(200))
            .setColorPalette("p".repeat(200))
            .build();
    List<ShotSpec> shots = LocalPlanner.plan("job-12345678", r, 5);
    assertThat(shots, hasSize(1));
    String prompt = shots.get(0).getPrompt();
    assertThat(
        prompt.codePointCount(0, prompt.length()),
        lessThanOrEqualTo(LocalPlanner.MAX_PROMPT_CODE_POINTS));
    String slice = prompt.substring(0, prompt.indexOf('\n'));
    assertThat(slice, endsWith("…"));
    assertThat(slice.endsWith(" …"), is(false));
    assertThat(prompt, endsWith(LocalPlanner.markers(r)));
  }

  @Test
  void truncateKeepsShortTextAndCutsLongTextToTheLimit() {
    assertThat(LocalPlanner.truncate("short text", 20), equalTo("short text"));
    String cut = LocalPlanner.truncate("alpha beta gamma delta", 12);
    assertThat(cut, equalTo("alpha beta…"));
    String emoji = LocalPlanner.truncate("😀".repeat(30), 10);
    assertThat(emoji.codePointCount(0, emoji.length()), equalTo(10));
  }
}
