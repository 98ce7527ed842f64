package com.aiprod.pipeline.plan;

import com.aiprod.pipeline.catalog.ShotGrid;
import com.aiprod.pipeline.model.JobRequest;
import com.aiprod.pipeline.model.ScriptText;
import com.aiprod.pipeline.model.ShotSpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.text.BreakIterator;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * The local planner of DESIGN §6 (production uses Gemini): splits the content into sentences and
 * distributes them over the shots of the route's clip grid.
 *
 * <p>Rules (decisions where DESIGN is silent):
 *
 * <ul>
 *   <li><b>Sentences.</b> The content is cut at line breaks, then each line with {@link
 *       BreakIterator#getSentenceInstance(Locale)} for the request's {@code lang}; sentences are
 *       trimmed and blank ones dropped. A line without a full stop is one sentence.
 *   <li><b>Shots.</b> Durations come from {@link ShotGrid#durations}: whole clips of {@code
 *       clipSeconds} for finals (they sum to the rendered seconds the router priced), {@value
 *       ShotGrid#PREVIEW_CLIP_SECONDS} s shots with a shortened last one for previews (they sum to
 *       {@code duration_sec}).
 *   <li><b>Coverage.</b> Sentences are distributed in order, every sentence in some shot: with S
 *       sentences and n shots, shot i takes sentences [⌊iS/n⌋, ⌊(i+1)S/n⌋) when S ≥ n (counts
 *       differ by at most one); when S &lt; n, shot i shows sentence ⌊iS/n⌋ and a sentence spread
 *       over k shots is marked "(part j of k)".
 *   <li><b>Prompt</b> = the shot's script slice, a line break, then the job's consistency markers
 *       (identical in every shot): style, color palette, mood, camera, lighting, character and
 *       aspect ratio, taken from {@code preferences} or stable defaults ({@link #DEFAULT_STYLE}
 *       ...). A prompt is at most {@value #MAX_PROMPT_CODE_POINTS} code points: the markers are
 *       kept whole (validated preferences keep them under ~1,000) and the slice is cut at a word
 *       boundary with "…" when it does not fit — a script far longer than its video then loses
 *       coverage, which the semantic QA reports rather than hides.
 *   <li><b>Seed</b> = the first 8 bytes (big-endian) of SHA-256(UTF-8 job_id, 0x00, index as 4
 *       bytes big-endian): stable across runs, JVMs and retries, and distinct per shot.
 * </ul>
 */
public final class LocalPlanner {
  /** The planner's name, recorded as the job's {@code planner}. */
  public static final String NAME = "local-sentence-planner";

  /** Longest prompt, in Unicode code points. */
  public static final int MAX_PROMPT_CODE_POINTS = 2000;

  public static final String DEFAULT_STYLE = "cinematic, photorealistic";
  public static final String DEFAULT_COLOR_PALETTE = "natural, balanced colors";
  public static final String DEFAULT_MOOD = "neutral";
  public static final String DEFAULT_CAMERA = "steady camera, medium shots";
  public static final String DEFAULT_LIGHTING = "soft natural light, consistent across shots";
  public static final String DEFAULT_CHARACTER =
      "the same characters, wardrobe and setting in every shot";

  private LocalPlanner() {}

  /**
   * Plans {@code req}'s shots on clips of {@code clipSeconds} (the route's clip length; for a
   * preview, {@link ShotGrid#PREVIEW_CLIP_SECONDS}).
   */
  public static List<ShotSpec> plan(String jobId, JobRequest req, double clipSeconds) {
    boolean preview = "preview".equals(req.getMode());
    List<Double> durations = ShotGrid.durations(req.getDurationSec(), clipSeconds, preview);
    List<String> sentences = sentences(req.getContent(), req.getLang());
    List<String> slices = distribute(sentences, durations.size());
    String markers = markers(req);
    List<ShotSpec> shots = new ArrayList<>(durations.size());
    for (int i = 0; i < durations.size(); i++) {
      shots.add(
          ShotSpec.create(i, durations.get(i), prompt(slices.get(i), markers), seed(jobId, i)));
    }
    return Collections.unmodifiableList(shots);
  }

  /** The script's sentences ({@link ScriptText#sentences}). */
  public static List<String> sentences(String content, String lang) {
    return ScriptText.sentences(content, lang);
  }

  /** Script slice of each of {@code shots} shots; every sentence lands in at least one. */
  static List<String> distribute(List<String> sentences, int shots) {
    List<String> out = new ArrayList<>(shots);
    int s = sentences.size();
    if (s == 0) {
      for (int i = 0; i < shots; i++) {
        out.add("");
      }
      return out;
    }
    if (s >= shots) {
      for (int i = 0; i < shots; i++) {
        int from = (int) ((long) i * s / shots);
        int to = (int) ((long) (i + 1) * s / shots);
        out.add(String.join(" ", sentences.subList(from, to)));
      }
      return out;
    }
    for (int i = 0; i < shots; i++) {
      int sentence = (int) ((long) i * s / shots);
      int first = firstShotOf(sentence, s, shots);
      int count = firstShotOf(sentence + 1, s, shots) - first;
      String text = sentences.get(sentence);
      out.add(count > 1 ? text + " (part " + (i - first + 1) + " of " + count + ")" : text);
    }
    return out;
  }

  /** The first shot i with ⌊iS/n⌋ ≥ sentence. */
  private static int firstShotOf(int sentence, int s, int shots) {
    return (int) (((long) sentence * shots + s - 1) / s);
  }

  /** The job's consistency markers, identical in every shot prompt. */
  public static String markers(JobRequest req) {
    return "Style: "
        + or(req.getStyle(), DEFAULT_STYLE)
        + ". Color palette: "
        + or(req.getColorPalette(), DEFAULT_COLOR_PALETTE)
        + ". Mood: "
        + or(req.getMood(), DEFAULT_MOOD)
        + ". Camera: "
        + or(req.getCameraStyle(), DEFAULT_CAMERA)
        + ". Lighting: "
        + DEFAULT_LIGHTING
        + ". Character: "
        + DEFAULT_CHARACTER
        + ". Aspect ratio "
        + req.getAspectRatio()
        + ".";
  }

  private static String or(String value, String fallback) {
    return value == null || value.isBlank() ? fallback : value;
  }

  static String prompt(String slice, String markers) {
    int markerLength = markers.codePointCount(0, markers.length());
    int room = MAX_PROMPT_CODE_POINTS - markerLength - 1;
    if (room < 100) {
      // Not reachable with validated preferences (≤ 200 code points each); keep the slice.
      return truncate(slice + "\n" + markers, MAX_PROMPT_CODE_POINTS);
    }
    String s = slice.isEmpty() ? "" : truncate(slice, room);
    return s.isEmpty() ? markers : s + "\n" + markers;
  }

  /** {@code text} cut to at most {@code max} code points, at a word boundary, with "…". */
  static String truncate(String text, int max) {
    if (text.codePointCount(0, text.length()) <= max) {
      return text;
    }
    int cut = text.offsetByCodePoints(0, max - 1);
    int space = text.lastIndexOf(' ', cut);
    if (space > cut / 2) {
      cut = space;
    }
    return text.substring(0, cut).strip() + "…";
  }

  /** hash(job_id, index): the first 8 bytes of SHA-256(job_id, 0x00, index). */
  public static long seed(String jobId, int index) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(jobId.getBytes(StandardCharsets.UTF_8));
      sha.update((byte) 0);
      sha.update(ByteBuffer.allocate(4).putInt(index).array());
      return ByteBuffer.wrap(sha.digest()).getLong();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every JVM", e);
    }
  }
}
