package com.aiprod.pipeline.testing;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Pattern;

/**
 * Run in a JVM whose class path is a jar (plus this class): loads, links and initializes every
 * {@code com.aiprod.pipeline} class of the jar except those matching the pattern given, and prints
 * each one that fails with a missing class ({@code FAIL <class>: <error>}), then {@code checked N
 * classes}; exits 1 if any failed. {@code DataflowArtifactIT} runs it on the Dataflow jar.
 */
public final class ClassLoadCheck {
  private ClassLoadCheck() {}

  public static void main(String[] args) throws IOException {
    Pattern skip = Pattern.compile(args[1]);
    List<String> names = new ArrayList<>();
    try (JarFile jar = new JarFile(args[0])) {
      jar.stream()
          .map(JarEntry::getName)
          .filter(n -> n.startsWith("com/aiprod/pipeline/") && n.endsWith(".class"))
          .map(n -> n.substring(0, n.length() - ".class".length()).replace('/', '.'))
          .filter(n -> !skip.matcher(n).matches())
          .forEach(names::add);
    }
    int failed = 0;
    ClassLoader loader = ClassLoadCheck.class.getClassLoader();
    for (String name : names) {
      try {
        Class.forName(name, true, loader);
      } catch (LinkageError | ClassNotFoundException e) {
        failed++;
        System.out.println("FAIL " + name + ": " + e);
      }
    }
    System.out.println("checked " + names.size() + " classes");
    System.exit(failed == 0 ? 0 : 1);
  }
}
