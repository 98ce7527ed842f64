package com.aiprod.pipeline.tools;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The run report's charts as inline SVG, drawn here (no library, nothing fetched when the page is
 * opened). Every drawn value is an element of class {@code mark} with a {@code <title>} giving its
 * exact number (shown on hover); a chart with no rows says so and has no marks.
 */
final class ReportCharts {
  private ReportCharts() {}

  static final String[] PALETTE = {
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac"
  };

  /** Fixed colours of the job states, so that a state looks the same in every chart. */
  static final Map<String, String> STATE_COLOURS =
      Map.of(
          "DELIVERED", "#59a14f",
          "NEEDS_REVIEW", "#edc948",
          "REJECTED", "#e15759",
          "FAILED", "#b03a2e",
          "CANCELLED", "#9c9c9c",
          "ESTIMATED", "#76b7b2",
          "succeeded", "#59a14f",
          "failed", "#e15759",
          "deadline", "#b03a2e",
          "cancelled", "#9c9c9c");

  static String colour(String series, int i) {
    return STATE_COLOURS.getOrDefault(series, PALETTE[i % PALETTE.length]);
  }

  /** Values by category (x) and series, categories and series in first-seen order. */
  static final class Table {
    final Set<String> categories = new LinkedHashSet<>();
    final Set<String> series = new LinkedHashSet<>();
    final Map<String, Double> values = new LinkedHashMap<>();

    void add(String category, String s, double v) {
      categories.add(category);
      series.add(s);
      values.merge(category + "\u0000" + s, v, Double::sum);
    }

    boolean has(String category, String s) {
      return values.containsKey(category + "\u0000" + s);
    }

    double get(String category, String s) {
      return values.getOrDefault(category + "\u0000" + s, 0.0);
    }
  }

  private static final int W = 860;
  private static final int LEFT = 70;
  private static final int RIGHT = 20;
  private static final int TOP = 30;

  /** Category labels under bars: rotated 35°, at most this many characters. */
  private static final int TICK_CHARS = 22;

  private static final int TICK_OFFSET = 14;

  /** A generous width of one 11 px sans-serif character, and sin 35°. */
  private static final double TICK_CHAR_PX = 7;

  private static final double TICK_SIN = Math.sin(Math.toRadians(35));

  /** The legend's row at the bottom of a chart. */
  private static final int LEGEND_ROW = 24;

  /** Vertical bars, the series of a category stacked (or side by side when not stacked). */
  static String bars(String id, Table t, String yLabel, boolean stacked, String unit) {
    if (t.categories.isEmpty()) {
      return empty(id);
    }
    int plotH = 260;
    int longest = 0;
    for (String c : t.categories) {
      longest = Math.max(longest, shorten(c, TICK_CHARS).length());
    }
    // Room under the plot for the longest rotated tick label, then the legend's row.
    int bottom = TICK_OFFSET + (int) Math.ceil(longest * TICK_CHAR_PX * TICK_SIN) + 8 + LEGEND_ROW;
    int h = TOP + plotH + bottom;
    double max = 0;
    for (String c : t.categories) {
      double sum = 0;
      for (String s : t.series) {
        double v = t.get(c, s);
        sum = stacked ? sum + v : Math.max(sum, v);
      }
      max = Math.max(max, sum);
    }
    double top = niceMax(max);
    StringBuilder b = open(id, h);
    axisY(b, top, plotH, yLabel, unit);
    int n = t.categories.size();
    double slot = (W - LEFT - RIGHT) / (double) n;
    List<String> series = new ArrayList<>(t.series);
    int ci = 0;
    for (String c : t.categories) {
      double x0 = LEFT + ci * slot + slot * 0.1;
      double bw = slot * 0.8;
      double y = TOP + plotH;
      for (int si = 0; si < series.size(); si++) {
        String s = series.get(si);
        double v = t.get(c, s);
        if (!t.has(c, s) || v < 0 || (stacked && v == 0)) {
          continue;
        }
        // A zero value is a value: a 2-pixel bar on the baseline (the cost of free preview jobs).
        double bh = Math.max(2, v / top * plotH);
        double x = stacked ? x0 : x0 + si * bw / series.size();
        double w = stacked ? bw : bw / series.size();
        double yy = stacked ? y - bh : TOP + plotH - bh;
        b.append(
            String.format(
                Locale.ROOT,
                "<rect class=\"mark\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\""
                    + " fill=\"%s\"><title>%s \u00b7 %s: %s</title></rect>",
                x,
                yy,
                Math.max(1, w - 1),
                Math.max(0.5, bh),
                colour(s, si),
                esc(c),
                esc(s),
                num(v, unit)));
        if (stacked) {
          y -= bh;
        }
      }
      if (n <= 40 || ci % (n / 20 + 1) == 0) {
        double cx = LEFT + ci * slot + slot / 2;
        b.append(
            String.format(
                Locale.ROOT,
                "<text class=\"tick\" x=\"%.1f\" y=\"%d\" transform=\"rotate(-35 %.1f %d)\""
                    + " text-anchor=\"end\">%s</text>",
                cx,
                TOP + plotH + TICK_OFFSET,
                cx,
                TOP + plotH + TICK_OFFSET,
                esc(shorten(c, TICK_CHARS))));
      }
      ci++;
    }
    legend(b, series, h);
    if (max == 0) {
      b.append(
          String.format(
              Locale.ROOT,
              "<text class=\"axis\" x=\"%d\" y=\"%d\">every value is 0 in this period</text>",
              LEFT + 10,
              TOP + plotH / 2));
    }
    return b.append("</svg>").toString();
  }

  /** Horizontal bars, one per category, the series of a category stacked. */
  static String hbars(String id, Table t, String xLabel, String unit) {
    if (t.categories.isEmpty()) {
      return empty(id);
    }
    int row = 24;
    int labelW = 220;
    int h = TOP + t.categories.size() * row + 60;
    double max = 0;
    for (String c : t.categories) {
      double sum = 0;
      for (String s : t.series) {
        sum += t.get(c, s);
      }
      max = Math.max(max, sum);
    }
    double top = niceMax(max);
    int plotW = W - labelW - RIGHT - 60;
    StringBuilder b = open(id, h);
    List<String> series = new ArrayList<>(t.series);
    int ri = 0;
    for (String c : t.categories) {
      double y = TOP + ri * row;
      double x = labelW;
      double sum = 0;
      b.append(
          String.format(
              Locale.ROOT,
              "<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
              labelW - 6,
              y + row * 0.65,
              esc(shorten(c, 32))));
      for (int si = 0; si < series.size(); si++) {
        String s = series.get(si);
        double v = t.get(c, s);
        if (v <= 0) {
          continue;
        }
        double w = v / top * plotW;
        b.append(
            String.format(
                Locale.ROOT,
                "<rect class=\"mark\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\""
                    + " fill=\"%s\"><title>%s \u00b7 %s: %s</title></rect>",
                x,
                y + 3,
                Math.max(0.5, w),
                row - 6,
                colour(s, si),
                esc(c),
                esc(s),
                num(v, unit)));
        x += w;
        sum += v;
      }
      b.append(
          String.format(
              Locale.ROOT,
              "<text class=\"value\" x=\"%.1f\" y=\"%.1f\">%s</text>",
              x + 4,
              y + row * 0.65,
              num(sum, unit)));
      ri++;
    }
    b.append(
        String.format(
            Locale.ROOT,
            "<text class=\"axis\" x=\"%d\" y=\"%d\">%s (0 to %s)</text>",
            labelW,
            TOP + t.categories.size() * row + 18,
            esc(xLabel),
            num(top, unit)));
    if (series.size() > 1) {
      legend(b, series, h);
    }
    return b.append("</svg>").toString();
  }

  /** One point of the latency chart. */
  record Point(String category, double y, boolean good, String title) {}

  /**
   * Points per category (jittered across the category's slot), with a horizontal line per category
   * at its limit (the preset's deadline); points over it are drawn red.
   */
  static String strip(String id, List<Point> points, Map<String, Double> limits, String yLabel) {
    if (points.isEmpty()) {
      return empty(id);
    }
    int plotH = 260;
    int h = TOP + plotH + 60;
    double max = 0;
    for (Point p : points) {
      max = Math.max(max, p.y());
    }
    for (double l : limits.values()) {
      max = Math.max(max, l);
    }
    double top = niceMax(max);
    List<String> cats = new ArrayList<>(limits.keySet());
    for (Point p : points) {
      if (!cats.contains(p.category())) {
        cats.add(p.category());
      }
    }
    StringBuilder b = open(id, h);
    axisY(b, top, plotH, yLabel, "s");
    double slot = (W - LEFT - RIGHT) / (double) cats.size();
    for (int ci = 0; ci < cats.size(); ci++) {
      String c = cats.get(ci);
      double x0 = LEFT + ci * slot;
      Double limit = limits.get(c);
      if (limit != null) {
        double y = TOP + plotH - limit / top * plotH;
        b.append(
            String.format(
                Locale.ROOT,
                "<line class=\"limit\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
                    + "<text class=\"axis\" x=\"%.1f\" y=\"%.1f\">deadline %s</text>",
                x0 + slot * 0.05,
                x0 + slot * 0.95,
                y,
                y,
                x0 + slot * 0.05,
                y - 4,
                num(limit, "s")));
      }
      b.append(
          String.format(
              Locale.ROOT,
              "<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>",
              x0 + slot / 2,
              TOP + plotH + 18,
              esc(c)));
      int k = 0;
      List<Point> mine = points.stream().filter(p -> p.category().equals(c)).toList();
      for (Point p : mine) {
        // Deterministic jitter: the i-th point of n spread across the middle of the slot.
        double x = x0 + slot * (0.2 + 0.6 * (mine.size() == 1 ? 0.5 : k / (mine.size() - 1.0)));
        double y = TOP + plotH - p.y() / top * plotH;
        b.append(
            String.format(
                Locale.ROOT,
                "<circle class=\"mark\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\">"
                    + "<title>%s</title></circle>",
                x,
                y,
                p.good() ? "#4e79a7" : "#e15759",
                esc(p.title())));
        k++;
      }
    }
    legend(b, List.of("within deadline", "over deadline"), h, "#4e79a7", "#e15759");
    return b.append("</svg>").toString();
  }

  private static StringBuilder open(String id, int h) {
    return new StringBuilder()
        .append(
            String.format(
                Locale.ROOT,
                "<svg class=\"chart\" id=\"%s\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0"
                    + " %d %d\" width=\"%d\" height=\"%d\" role=\"img\">",
                id,
                W,
                h,
                W,
                h));
  }

  private static String empty(String id) {
    return open(id, 60)
        .append("<text class=\"axis\" x=\"20\" y=\"35\">no rows in this period</text></svg>")
        .toString();
  }

  private static void axisY(StringBuilder b, double top, int plotH, String label, String unit) {
    for (int i = 0; i <= 4; i++) {
      double v = top * i / 4;
      double y = TOP + plotH - plotH * i / 4.0;
      b.append(
          String.format(
              Locale.ROOT,
              "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>"
                  + "<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
              LEFT,
              W - RIGHT,
              y,
              y,
              LEFT - 6,
              y + 4,
              num(v, unit)));
    }
    b.append(
        String.format(
            Locale.ROOT,
            "<text class=\"axis\" x=\"%d\" y=\"%d\">%s</text>",
            LEFT,
            TOP - 12,
            esc(label)));
  }

  private static void legend(StringBuilder b, List<String> series, int h, String... colours) {
    int x = LEFT;
    for (int i = 0; i < series.size(); i++) {
      String fill = colours.length > i ? colours[i] : colour(series.get(i), i);
      b.append(
          String.format(
              Locale.ROOT,
              "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>"
                  + "<text class=\"legend\" x=\"%d\" y=\"%d\">%s</text>",
              x,
              h - 16,
              fill,
              x + 14,
              h - 7,
              esc(series.get(i))));
      x += 24 + 7 * series.get(i).length();
    }
  }

  /** A round axis maximum at or above {@code max} (1, 2, 5 × 10^n). */
  static double niceMax(double max) {
    if (max <= 0) {
      return 1;
    }
    double p = Math.pow(10, Math.floor(Math.log10(max)));
    for (double m : new double[] {1, 2, 5, 10}) {
      if (m * p >= max) {
        return m * p;
      }
    }
    return 10 * p;
  }

  static String num(double v, String unit) {
    if ("$".equals(unit)) {
      return String.format(Locale.ROOT, "$%.2f", v);
    }
    String n =
        v == Math.rint(v) && Math.abs(v) < 1e15
            ? String.format(Locale.ROOT, "%d", (long) v)
            : String.format(Locale.ROOT, "%.1f", v);
    return unit.isEmpty() ? n : n + " " + unit;
  }

  static String shorten(String s, int n) {
    return s.length() <= n ? s : s.substring(0, n - 1) + "\u2026";
  }

  static String esc(String s) {
    if (s == null) {
      return "";
    }
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;");
  }
}
