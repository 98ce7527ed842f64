package com.aiprod.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code terraform fmt -check -recursive terraform} as part of the test run: the terraform files
 * must be formatted as terraform itself formats them. Needs the {@code terraform} binary on the
 * PATH (no providers, no network): a machine without it fails this test, it never skips it.
 */
class TerraformFmtTest {

  static Path terraformBinary() {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path candidate = Paths.get(dir, "terraform");
      if (!dir.isEmpty() && Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    throw new AssertionError(
        "the `terraform` binary is not on the PATH; install Terraform >= 1.5 (only `terraform fmt` is run,"
            + " offline) so the terraform/ formatting check can run");
  }

  @Test
  void terraformFilesAreFormatted() throws Exception {
    Path terraform = terraformBinary();
    assertThat("terraform/ directory", Files.isDirectory(Paths.get("terraform")), is(true));
    Process p =
        new ProcessBuilder(
                terraform.toString(),
                "fmt",
                "-check",
                "-recursive",
                "-diff",
                "-no-color",
                "terraform")
            .redirectErrorStream(true)
            .start();
    String output;
    try (var in = p.getInputStream()) {
      // fmt never reads stdin and ends once it has read the files; its output is read to the end
      // first so a long diff cannot block it on a full pipe.
      output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("terraform fmt did not end within 120 s");
    }
    assertThat(
        "terraform fmt -check -recursive terraform (run `terraform fmt -recursive terraform` to fix):\n"
            + output,
        p.exitValue(),
        equalTo(0));
  }
}
