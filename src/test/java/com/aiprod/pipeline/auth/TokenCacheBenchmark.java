package com.aiprod.pipeline.auth;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CPU per verification of a token this worker has not seen (firebase-admin and our checks) against
 * one it verified before (hash and lookup). Prints the figures for docs/PERFORMANCE.md; asserts
 * only that every token verified. {@code mvn -o test -Dtest=TokenCacheBenchmark
 * -DexcludedGroups=none}.
 */
@Tag("benchmark")
class TokenCacheBenchmark {
  @TempDir Path keyDir;

  @Test
  void cachedVerificationAgainstAFullOne() throws Exception {
    DevTokens tokens =
        new DevTokens(DevAuthKeys.loadOrCreate(keyDir), AuthConfig.DEV_DEFAULT_PROJECT);
    ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
    try (TokenVerifier verifier =
        TokenVerifier.create(AuthConfig.dev(AuthConfig.DEV_DEFAULT_PROJECT, keyDir.toString()))) {
      for (int round = 0; round < 3; round++) {
        List<String> bearers = new ArrayList<>();
        for (int i = 0; i < 5_000; i++) {
          bearers.add(
              "Bearer "
                  + tokens.mint(
                      "user" + round + "-" + i, "acme", "user", "pro", Duration.ofMinutes(30)));
        }
        long t0 = cpu.getCurrentThreadCpuTime();
        for (String b : bearers) {
          assertThat(verifier.verify(b).isOk(), is(true));
        }
        long full = cpu.getCurrentThreadCpuTime() - t0;
        int passes = 10;
        long t1 = cpu.getCurrentThreadCpuTime();
        for (int p = 0; p < passes; p++) {
          for (String b : bearers) {
            assertThat(verifier.verify(b).isOk(), is(true));
          }
        }
        long cached = (cpu.getCurrentThreadCpuTime() - t1) / passes;
        System.out.printf(
            "round %d: full %.1f µs/token, cached %.2f µs/token, ratio %.1f %%%n",
            round,
            full / 1e3 / bearers.size(),
            cached / 1e3 / bearers.size(),
            100.0 * cached / full);
      }
    }
  }
}
