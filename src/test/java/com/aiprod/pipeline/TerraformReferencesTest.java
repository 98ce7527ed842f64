package com.aiprod.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.greaterThan;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What `terraform validate` would catch first, checked without providers (which cannot be
 * downloaded here): every resource, data source, variable and local a terraform file refers to is
 * declared, every variable is used, and no value looks like a secret.
 */
class TerraformReferencesTest {
  static String hcl;

  @BeforeAll
  static void read() throws IOException {
    StringBuilder all = new StringBuilder();
    try (Stream<Path> files = Files.list(Paths.get("terraform"))) {
      for (Path f : files.filter(p -> p.toString().endsWith(".tf")).sorted().toList()) {
        // Comments are not references.
        all.append(Files.readString(f, StandardCharsets.UTF_8).replaceAll("(?m)^\\s*#.*$", ""))
            .append('\n');
      }
    }
    hcl = all.toString();
  }

  static Set<String> all(String regex, String text) {
    Set<String> out = new TreeSet<>();
    Matcher m = Pattern.compile(regex).matcher(text);
    while (m.find()) {
      StringBuilder b = new StringBuilder(m.group(1));
      for (int g = 2; g <= m.groupCount(); g++) {
        b.append('.').append(m.group(g));
      }
      out.add(b.toString());
    }
    return out;
  }

  @Test
  void everyReferenceIsDeclared() {
    Set<String> resources = all("(?m)^resource \"(\\w+)\" \"(\\w+)\"", hcl);
    Set<String> data = all("(?m)^data \"(\\w+)\" \"(\\w+)\"", hcl);
    Set<String> variables = all("(?m)^variable \"(\\w+)\"", hcl);
    Set<String> locals = new TreeSet<>();
    Matcher block = Pattern.compile("(?ms)^locals \\{\\n(.*?)^\\}").matcher(hcl);
    while (block.find()) {
      locals.addAll(all("(?m)^  (\\w+)\\s*=", block.group(1)));
    }
    assertThat(resources.size(), greaterThan(30));
    List<String> undeclared = new ArrayList<>();
    for (String r : all("(?<![\\w.\"])(google_[a-z0-9_]+)\\.([a-z0-9_]+)\\b", hcl)) {
      if (!resources.contains(r)) {
        undeclared.add("resource " + r);
      }
    }
    for (String d : all("\\bdata\\.(google_[a-z0-9_]+)\\.([a-z0-9_]+)", hcl)) {
      if (!data.contains(d)) {
        undeclared.add("data " + d);
      }
    }
    for (String v : all("\\bvar\\.(\\w+)", hcl)) {
      if (!variables.contains(v)) {
        undeclared.add("variable " + v);
      }
    }
    for (String l : all("\\blocal\\.(\\w+)", hcl)) {
      if (!locals.contains(l)) {
        undeclared.add("local " + l);
      }
    }
    assertThat(undeclared, empty());
  }

  @Test
  void everyVariableIsUsedAndTheExampleSetsOnlyDeclaredOnes() throws IOException {
    Set<String> used = all("\\bvar\\.(\\w+)", hcl);
    List<String> unused = new ArrayList<>();
    for (String v : all("(?m)^variable \"(\\w+)\"", hcl)) {
      if (!used.contains(v)) {
        unused.add(v);
      }
    }
    assertThat("variables declared but never used", unused, empty());
    String example =
        Files.readString(Paths.get("terraform/terraform.tfvars.example"), StandardCharsets.UTF_8);
    Set<String> declared = all("(?m)^variable \"(\\w+)\"", hcl);
    List<String> unknown = new ArrayList<>();
    for (String v : all("(?m)^(\\w+)\\s*=", example)) {
      if (!declared.contains(v)) {
        unknown.add(v);
      }
    }
    assertThat("terraform.tfvars.example sets undeclared variables", unknown, empty());
  }

  @Test
  void noSecretValueAnywhere() throws IOException {
    List<String> suspicious = new ArrayList<>();
    Pattern secretish =
        Pattern.compile(
            "(?i)(secret_data|private_key|password|api_key|token)\\s*=\\s*\"[^\"$]+\"|-----BEGIN|eyJ[A-Za-z0-9_-]{10,}|AIza[0-9A-Za-z_-]{20,}");
    try (Stream<Path> files = Files.walk(Paths.get("terraform"))) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        Matcher m = secretish.matcher(Files.readString(f, StandardCharsets.UTF_8));
        while (m.find()) {
          suspicious.add(f + ": " + m.group());
        }
      }
    }
    assertThat(suspicious, empty());
    assertThat(
        "no secret version resource (values never go through terraform state)",
        all("(?m)^resource \"(google_secret_manager_secret_version)\" \"(\\w+)\"", hcl),
        empty());
  }
}
