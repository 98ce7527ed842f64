package com.aiprod.pipeline.tools;

import com.aiprod.pipeline.auth.AuthConfig;
import com.aiprod.pipeline.auth.DevAuthKeys;
import com.aiprod.pipeline.auth.DevTokens;
import com.aiprod.pipeline.auth.TokenVerifier;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code bench-verify-floor}: the token-verification floor of {@code scripts/bench}: thread CPU per
 * full verification (RS256 signature, firebase-admin, our checks) of distinct dev tokens, never
 * seen before by the verifier, after a warm-up round. Prints {@code verify_us=X per_s=Y}.
 */
@Command(
    name = "bench-verify-floor",
    sortOptions = false,
    description = {"Measures CPU per full token verification (distinct tokens): prints verify_us."})
public final class BenchVerifyFloor extends Tool {
  @Option(
      names = "--tokens",
      defaultValue = "3000",
      paramLabel = "N",
      description = "Tokens per round (default ${DEFAULT-VALUE}).")
  int count;

  @Mixin DevAuthOptions devAuth;

  @Override
  public Integer call() throws Exception {
    if (count < 1) {
      throw usage("--tokens must be positive");
    }
    String project = devAuth.project;
    DevTokens tokens = new DevTokens(DevAuthKeys.loadOrCreate(devAuth.dir), project);
    ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
    double best = Double.MAX_VALUE;
    try (TokenVerifier verifier =
        TokenVerifier.create(AuthConfig.dev(project, devAuth.dir.toString()))) {
      for (int round = 0; round < 3; round++) {
        List<String> bearers = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
          bearers.add(
              "Bearer "
                  + tokens.mint(
                      "floor" + round + "-" + i, "t", "user", "pro", Duration.ofHours(1)));
        }
        long t0 = cpu.getCurrentThreadCpuTime();
        for (String b : bearers) {
          if (!verifier.verify(b).isOk()) {
            err().println("a fresh dev token did not verify");
            return 1;
          }
        }
        double us = (cpu.getCurrentThreadCpuTime() - t0) / 1e3 / count;
        if (round > 0) {
          best = Math.min(best, us);
        }
      }
    }
    out().printf("verify_us=%.1f per_s=%.0f%n", best, 1e6 / best);
    return 0;
  }
}
