package com.aiprod.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.spi.ToolProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The package structure of docs/ARCHITECTURE.md, read from the compiled classes with the JDK's
 * jdeps: no package cycles among {@code com.aiprod.pipeline.*}, and stage packages that import only
 * the shared packages (model, kernel and the libraries), never each other.
 */
class PackageStructureTest {
  private static final String ROOT = "com.aiprod.pipeline";

  /** Stages of the graph: each may use the shared packages, none another stage. */
  static final Set<String> STAGES =
      Set.of(
          "ingest",
          "auth",
          "validate",
          "admit",
          "price",
          "plan",
          "render",
          "assemble",
          "qa",
          "decide",
          "persist",
          "audit");

  /** What stages share: values, the kernel, and libraries that know no stage. */
  static final Set<String> SHARED =
      Set.of("model", "kernel", "catalog", "media", "jobstore", "secrets", "vertex");

  private static Map<String, Set<String>> edges;

  @BeforeAll
  static void readDependencies() {
    Path classes = Path.of("target/classes");
    assertThat(
        "compiled classes at " + classes.toAbsolutePath(), Files.isDirectory(classes), is(true));
    ToolProvider jdeps = ToolProvider.findFirst("jdeps").orElseThrow();
    StringWriter out = new StringWriter();
    int rc =
        jdeps.run(
            new PrintWriter(out),
            new PrintWriter(new StringWriter()),
            "-verbose:package",
            "-e",
            "com\\.aiprod\\.pipeline(\\..*)?",
            classes.toString());
    assertThat("jdeps exit code", rc, is(0));
    edges = new TreeMap<>();
    for (String line : out.toString().split("\n")) {
      String[] f = line.trim().split("\\s+");
      if (f.length >= 3 && f[1].equals("->") && f[0].startsWith(ROOT) && f[2].startsWith(ROOT)) {
        if (!f[0].equals(f[2])) {
          edges.computeIfAbsent(f[0], k -> new TreeSet<>()).add(f[2]);
        }
      }
    }
    assertThat("jdeps found our packages", edges.keySet(), is(not(empty())));
  }

  @Test
  void thereAreNoPackageCycles() {
    assertThat(cycles(edges), is(empty()));
  }

  @Test
  void stagePackagesUseOnlySharedPackages() {
    List<String> bad = new ArrayList<>();
    edges.forEach(
        (from, tos) -> {
          String stage = top(from);
          if (!STAGES.contains(stage)) {
            return;
          }
          for (String to : tos) {
            String t = top(to);
            if (!t.equals(stage) && !SHARED.contains(t)) {
              bad.add(from + " -> " + to);
            }
          }
        });
    assertThat(bad, is(empty()));
  }

  @Test
  void sharedPackagesKnowNoStage() {
    List<String> bad = new ArrayList<>();
    edges.forEach(
        (from, tos) -> {
          if (!SHARED.contains(top(from))) {
            return;
          }
          for (String to : tos) {
            String t = top(to);
            if (STAGES.contains(t) || t.isEmpty()) {
              bad.add(from + " -> " + to);
            }
          }
        });
    assertThat(bad, is(empty()));
  }

  /** The first package name below the root ({@code render} for {@code ….render.backends}). */
  private static String top(String pkg) {
    if (pkg.equals(ROOT)) {
      return "";
    }
    String rest = pkg.substring(ROOT.length() + 1);
    int dot = rest.indexOf('.');
    return dot < 0 ? rest : rest.substring(0, dot);
  }

  /** Strongly connected components of more than one package (Tarjan). */
  static List<Set<String>> cycles(Map<String, Set<String>> g) {
    Map<String, Integer> index = new HashMap<>();
    Map<String, Integer> low = new HashMap<>();
    List<String> stack = new ArrayList<>();
    Set<String> onStack = new TreeSet<>();
    List<Set<String>> out = new ArrayList<>();
    Set<String> nodes = new TreeSet<>(g.keySet());
    g.values().forEach(nodes::addAll);
    int[] counter = {0};
    for (String v : nodes) {
      if (!index.containsKey(v)) {
        visit(v, g, index, low, stack, onStack, out, counter);
      }
    }
    return out;
  }

  private static void visit(
      String v,
      Map<String, Set<String>> g,
      Map<String, Integer> index,
      Map<String, Integer> low,
      List<String> stack,
      Set<String> onStack,
      List<Set<String>> out,
      int[] counter) {
    index.put(v, counter[0]);
    low.put(v, counter[0]);
    counter[0]++;
    stack.add(v);
    onStack.add(v);
    for (String w : g.getOrDefault(v, Set.of())) {
      if (!index.containsKey(w)) {
        visit(w, g, index, low, stack, onStack, out, counter);
        low.put(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.contains(w)) {
        low.put(v, Math.min(low.get(v), index.get(w)));
      }
    }
    if (low.get(v).equals(index.get(v))) {
      Set<String> component = new TreeSet<>();
      String w;
      do {
        w = stack.remove(stack.size() - 1);
        onStack.remove(w);
        component.add(w);
      } while (!w.equals(v));
      if (component.size() > 1) {
        out.add(component);
      }
    }
  }

  @Test
  void theCycleFinderFindsACycle() {
    Map<String, Set<String>> g = new TreeMap<>();
    g.put("a", Set.of("b"));
    g.put("b", Set.of("c"));
    g.put("c", Set.of("a"));
    g.put("d", Set.of("a"));
    assertThat(cycles(g).size(), is(1));
    assertThat(cycles(g).get(0), is(Set.of("a", "b", "c")));
  }
}
