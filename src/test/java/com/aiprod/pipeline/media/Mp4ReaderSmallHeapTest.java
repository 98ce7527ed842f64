package com.aiprod.pipeline.media;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Every bomb of {@link HostileMp4} is refused by a JVM with a 64 MiB heap: the refusals allocate by
 * what the files hold, not by what they claim (the "huge sample count" file alone once needed ~7
 * GiB).
 */
class Mp4ReaderSmallHeapTest {
  @Test
  void aSixtyFourMegabyteHeapRefusesEveryBomb() throws Exception {
    String classpath = System.getProperty("surefire.test.class.path");
    if (classpath == null || classpath.isEmpty()) {
      classpath = System.getProperty("java.class.path");
    }
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process child =
        new ProcessBuilder(
                List.of(
                    java.toString(),
                    "-Xmx64m",
                    "-XX:+ExitOnOutOfMemoryError",
                    "-cp",
                    classpath,
                    HostileMp4.class.getName()))
            .redirectErrorStream(true)
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .start();
    String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(output, child.waitFor(120, TimeUnit.SECONDS), is(true));
    assertThat(output, child.exitValue(), is(0));
    for (String bomb : HostileMp4.bombs().keySet()) {
      assertThat(output, containsString("refused " + bomb + ": "));
    }
    assertThat(output, not(containsString("ACCEPTED")));
    assertThat(output, not(containsString("OutOfMemoryError")));
  }
}
