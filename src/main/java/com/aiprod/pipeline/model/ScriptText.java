package com.aiprod.pipeline.model;

import java.text.BreakIterator;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * How a request's script ({@code content}) splits into sentences in its language: one rule for the
 * planner that cuts shots and for the semantic heuristic that checks their coverage.
 */
public final class ScriptText {
  private ScriptText() {}

  /** The sentences of {@code content} in {@code lang}, line by line, stripped, none empty. */
  public static List<String> sentences(String content, String lang) {
    List<String> out = new ArrayList<>();
    if (content == null) {
      return out;
    }
    BreakIterator it = BreakIterator.getSentenceInstance(locale(lang));
    for (String line : content.split("\n")) {
      it.setText(line);
      int start = it.first();
      for (int end = it.next(); end != BreakIterator.DONE; start = end, end = it.next()) {
        String s = line.substring(start, end).strip();
        if (!s.isEmpty()) {
          out.add(s);
        }
      }
    }
    return out;
  }

  /** The locale of a request {@code lang} ({@code en}, {@code ja}, ...); ROOT when unknown. */
  public static Locale locale(String lang) {
    if (lang == null || lang.isBlank()) {
      return Locale.ROOT;
    }
    return Locale.forLanguageTag(lang);
  }
}
