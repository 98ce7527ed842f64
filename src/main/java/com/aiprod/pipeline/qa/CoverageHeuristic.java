package com.aiprod.pipeline.qa;

import com.aiprod.pipeline.model.ScriptText;
import com.aiprod.pipeline.model.ShotSpec;
import java.io.Serializable;
import java.text.BreakIterator;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The local semantic QA scorer, named {@value #NAME} in job documents and results (production uses
 * Gemini). It measures how much of the content the shot prompts carry, not how good the video is.
 *
 * <p>Definition:
 *
 * <ol>
 *   <li>The content is split into sentences exactly as the planner does ({@link
 *       ScriptText#sentences}).
 *   <li>Words: text is NFKC-normalised and lower-cased (locale-independent), then cut with {@link
 *       BreakIterator#getWordInstance(Locale)} for the request's {@code lang}; tokens without a
 *       letter or digit (punctuation, spaces) are dropped. Case, punctuation and full-width forms
 *       therefore do not matter.
 *   <li>A word is significant when it is not a stop word (a short list of English, French, Spanish,
 *       German, Italian and Portuguese function words) and it has ≥ 3 code points, or contains a
 *       digit, or contains a Han, Hiragana, Katakana or Hangul character (CJK words are short).
 *   <li>A sentence is covered when one single shot prompt contains all of its significant words (so
 *       a sentence cut off by prompt truncation is not covered, even if its words appear scattered
 *       over other prompts).
 *   <li>Score = covered sentences / sentences that have at least one significant word, in [0, 1].
 *       No prompts → 0; content without any significant word (nothing to cover) → 1.
 * </ol>
 */
public final class CoverageHeuristic {
  /** The scorer's name, recorded as {@code qaSemanticScorer}. */
  public static final String NAME = "local-coverage-heuristic";

  static final Set<String> STOP_WORDS =
      Set.of(
          // English
          "the",
          "and",
          "for",
          "with",
          "that",
          "this",
          "from",
          "are",
          "was",
          "were",
          "but",
          "not",
          "you",
          "your",
          "our",
          "their",
          "its",
          "into",
          "onto",
          "than",
          "then",
          "them",
          "they",
          "has",
          "have",
          "had",
          "will",
          "would",
          "can",
          "could",
          "should",
          "been",
          "being",
          "there",
          "here",
          "which",
          "who",
          "whom",
          "what",
          "when",
          "where",
          "while",
          "all",
          "any",
          "each",
          "some",
          "such",
          "also",
          "very",
          "just",
          "over",
          "under",
          // French
          "les",
          "des",
          "une",
          "est",
          "dans",
          "pour",
          "par",
          "sur",
          "avec",
          "qui",
          "que",
          "pas",
          "son",
          "ses",
          "aux",
          "mais",
          "ces",
          "cette",
          // Spanish / Portuguese / Italian
          "los",
          "las",
          "del",
          "por",
          "con",
          "una",
          "uno",
          "para",
          "como",
          "más",
          "mas",
          "sus",
          "nos",
          "dos",
          "não",
          "são",
          "com",
          "uma",
          "gli",
          "della",
          "delle",
          "dei",
          "nel",
          "nella",
          "che",
          "non",
          "per",
          "sono",
          // German
          "der",
          "die",
          "das",
          "und",
          "ein",
          "eine",
          "einen",
          "dem",
          "den",
          "mit",
          "von",
          "ist",
          "nicht",
          "auf",
          "für",
          "sich",
          "auch",
          "ich",
          "sie",
          "wir");

  private CoverageHeuristic() {}

  /**
   * Result of one evaluation.
   *
   * @param score covered / scored, in [0, 1]
   * @param coveredSentences sentences fully carried by one prompt
   * @param scoredSentences sentences with at least one significant word
   * @param uncovered the sentences not covered, in order
   */
  public record Coverage(
      double score, int coveredSentences, int scoredSentences, List<String> uncovered)
      implements Serializable {
    public Coverage {
      uncovered = List.copyOf(uncovered);
    }
  }

  /** The semantic score of a plan: coverage of {@code content} by the shots' prompts. */
  public static double score(String content, String lang, List<ShotSpec> shots) {
    return evaluate(
            content, lang, shots.stream().map(ShotSpec::getPrompt).collect(Collectors.toList()))
        .score();
  }

  /** Coverage of {@code content}'s sentences by {@code prompts}, with the details. */
  public static Coverage evaluate(String content, String lang, List<String> prompts) {
    List<String> sentences = ScriptText.sentences(content, lang);
    List<Set<String>> promptWords = new ArrayList<>();
    for (String p : prompts) {
      promptWords.add(words(p, lang));
    }
    int scored = 0;
    int covered = 0;
    List<String> uncovered = new ArrayList<>();
    for (String sentence : sentences) {
      Set<String> significant = significantWords(sentence, lang);
      if (significant.isEmpty()) {
        continue;
      }
      scored++;
      boolean ok = promptWords.stream().anyMatch(w -> w.containsAll(significant));
      if (ok) {
        covered++;
      } else {
        uncovered.add(sentence);
      }
    }
    double score;
    if (prompts.isEmpty()) {
      score = 0.0;
    } else if (scored == 0) {
      score = 1.0;
    } else {
      score = (double) covered / scored;
    }
    return new Coverage(score, covered, scored, uncovered);
  }

  /** The significant words of {@code text} (see the class comment), normalised. */
  public static Set<String> significantWords(String text, String lang) {
    Set<String> out = new LinkedHashSet<>();
    for (String w : words(text, lang)) {
      if (isSignificant(w)) {
        out.add(w);
      }
    }
    return out;
  }

  /** Every word of {@code text}: NFKC, lower case, tokens with a letter or digit. */
  static Set<String> words(String text, String lang) {
    Set<String> out = new LinkedHashSet<>();
    if (text == null || text.isEmpty()) {
      return out;
    }
    String norm = Normalizer.normalize(text, Normalizer.Form.NFKC).toLowerCase(Locale.ROOT);
    BreakIterator it = BreakIterator.getWordInstance(ScriptText.locale(lang));
    it.setText(norm);
    int start = it.first();
    for (int end = it.next(); end != BreakIterator.DONE; start = end, end = it.next()) {
      String token = norm.substring(start, end);
      if (token.codePoints().anyMatch(Character::isLetterOrDigit)) {
        out.add(token);
      }
    }
    return out;
  }

  private static boolean isSignificant(String word) {
    if (STOP_WORDS.contains(word)) {
      return false;
    }
    if (word.codePoints().anyMatch(cp -> Character.isDigit(cp) || isCjk(cp))) {
      return true;
    }
    return word.codePointCount(0, word.length()) >= 3;
  }

  private static boolean isCjk(int cp) {
    Character.UnicodeScript s = Character.UnicodeScript.of(cp);
    return s == Character.UnicodeScript.HAN
        || s == Character.UnicodeScript.HIRAGANA
        || s == Character.UnicodeScript.KATAKANA
        || s == Character.UnicodeScript.HANGUL;
  }
}
