package com.aiprod.pipeline.qa;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;

import com.aiprod.pipeline.decide.DecisionRules;
import com.aiprod.pipeline.model.JobRequest;
import com.aiprod.pipeline.model.JobState;
import com.aiprod.pipeline.model.ShotSpec;
import com.aiprod.pipeline.plan.LocalPlanner;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class CoverageHeuristicTest {
  private static final List<String> TEN =
      IntStream.range(0, 10)
          .mapToObj(i -> "Scene " + i + " shows a lighthouse keeper number " + i + ".")
          .collect(Collectors.toList());
  private static final String TEN_SENTENCES = String.join(" ", TEN);

  private static JobRequest req(String content, String lang) {
    return JobRequest.builder()
        .setContent(content)
        .setPreset("quick_social")
        .setMode("final")
        .setPriority("low")
        .setLang(lang)
        .setDurationSec(30)
        .setBudgetUsd(1.5)
        .build();
  }

  @Test
  void hasItsName() {
    assertThat(CoverageHeuristic.NAME, equalTo("local-coverage-heuristic"));
  }

  @Test
  void aLocalPlanCoversEverySentence() {
    String content =
        "A red kite rises over green hills. The child runs after it, laughing!"
            + " Clouds gather at dusk.\nClosing title: Acme kites";
    List<ShotSpec> shots = LocalPlanner.plan("job-12345678", req(content, "en"), 8);
    assertThat(CoverageHeuristic.score(content, "en", shots), equalTo(1.0));
  }

  @Test
  void aCjkPlanCoversEverySentence() {
    String content = "今日は晴れです。子供が公園で凧をあげています。明日は雨でしょう。";
    List<ShotSpec> shots = LocalPlanner.plan("job-12345678", req(content, "ja"), 10);
    assertThat(CoverageHeuristic.score(content, "ja", shots), equalTo(1.0));
    assertThat(
        CoverageHeuristic.evaluate(content, "ja", List.of("今日は晴れです。")).score(),
        closeTo(1.0 / 3, 1e-12));
  }

  @Test
  void robustToCasePunctuationAndWidth() {
    String content = "The Café opens at 9! Fresh bread, warm coffee.";
    List<String> prompts = List.of("the CAFÉ opens at ９ fresh BREAD warm coffee");
    CoverageHeuristic.Coverage c = CoverageHeuristic.evaluate(content, "en", prompts);
    assertThat(c.score(), equalTo(1.0));
    assertThat(c.coveredSentences(), equalTo(2));
    assertThat(c.scoredSentences(), equalTo(2));
  }

  @Test
  void scoreIsTheShareOfCoveredSentencesAtTheDecisionThresholds() {
    List<String> seven = new ArrayList<>(TEN.subList(0, 7));
    CoverageHeuristic.Coverage c = CoverageHeuristic.evaluate(TEN_SENTENCES, "en", seven);
    assertThat(c.score(), equalTo(0.7));
    assertThat(c.uncovered(), contains(TEN.get(7), TEN.get(8), TEN.get(9)));
    assertThat(DecisionRules.decide(1, c.score(), 1, 1).state(), equalTo(JobState.DELIVERED));

    double sixOfTen = CoverageHeuristic.evaluate(TEN_SENTENCES, "en", TEN.subList(0, 6)).score();
    assertThat(sixOfTen, equalTo(0.6));
    assertThat(DecisionRules.decide(1, sixOfTen, 1, 1).state(), equalTo(JobState.NEEDS_REVIEW));

    double four = CoverageHeuristic.evaluate(TEN_SENTENCES, "en", TEN.subList(0, 4)).score();
    assertThat(four, equalTo(0.4));
    assertThat(DecisionRules.decide(1, four, 1, 1).state(), equalTo(JobState.NEEDS_REVIEW));
    double three = CoverageHeuristic.evaluate(TEN_SENTENCES, "en", TEN.subList(0, 3)).score();
    assertThat(DecisionRules.decide(1, three, 1, 1).state(), equalTo(JobState.REJECTED));
  }

  @Test
  void aSentenceMustBeCarriedByOnePrompt() {
    String content = "Golden retriever chases seagulls.";
    assertThat(
        CoverageHeuristic.evaluate(content, "en", List.of("Golden retriever", "chases seagulls"))
            .score(),
        equalTo(0.0));
    // A truncated word does not count.
    assertThat(
        CoverageHeuristic.evaluate(content, "en", List.of("Golden retriever chases seag…")).score(),
        equalTo(0.0));
  }

  @Test
  void stopWordsAndShortWordsAreNotSignificant() {
    assertThat(
        CoverageHeuristic.significantWords("The cat and a dog is on the mat with 3 owls", "en"),
        containsInAnyOrder("cat", "dog", "mat", "3", "owls"));
    assertThat(
        CoverageHeuristic.evaluate("A cat, the dog.", "en", List.of("cat dog")).score(),
        equalTo(1.0));
  }

  @Test
  void edgeCases() {
    assertThat(CoverageHeuristic.evaluate(TEN_SENTENCES, "en", List.of()).score(), equalTo(0.0));
    CoverageHeuristic.Coverage nothing =
        CoverageHeuristic.evaluate("It is. Is it? Oh!", "en", List.of("anything"));
    assertThat(nothing.score(), equalTo(1.0));
    assertThat(nothing.scoredSentences(), equalTo(0));
    assertThat(nothing.uncovered(), empty());
  }
}
