package com.aiprod.pipeline.ingest;

import com.aiprod.pipeline.auth.AuthConfig;
import com.aiprod.pipeline.auth.AuthResult;
import com.aiprod.pipeline.auth.ClaimedSubject;
import com.aiprod.pipeline.auth.DevAuthKeys;
import com.aiprod.pipeline.auth.DevTokens;
import com.aiprod.pipeline.auth.TokenVerifier;
import com.aiprod.pipeline.catalog.PricingTable;
import com.aiprod.pipeline.kernel.DeadLetters;
import com.aiprod.pipeline.model.ReasonCode;
import com.aiprod.pipeline.model.RequestMessage;
import com.aiprod.pipeline.validate.RequestValidator;
import com.aiprod.pipeline.validate.Validate;
import com.aiprod.pipeline.validate.ValidationResult;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.function.Supplier;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CPU time of each {@link HostileInputs} message in each stage it crosses, measured with {@link
 * ThreadMXBean} (median and worst of 9 runs after 20 warm-up runs): the table of
 * docs/PERFORMANCE.md "Worst single messages". Run with {@code -DexcludedGroups=none
 * -Dtest=HostileInputBenchmark}.
 */
@Tag("benchmark")
class HostileInputBenchmark {
  private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();

  @TempDir Path keyDir;

  @Test
  void cpuTimePerStage() throws Exception {
    DevAuthKeys keys = DevAuthKeys.loadOrCreate(keyDir);
    String token =
        new DevTokens(keys, "demo-aiprod")
            .mint("alice", "acme", "user", "pro", Duration.ofHours(1));
    StringBuilder table = new StringBuilder();
    table.append(
        "| message | line bytes | outcome | ReadRequests | Authenticate | Validate | dead letter |\n");
    table.append("|---|---|---|---|---|---|---|\n");
    try (TokenVerifier verifier =
        TokenVerifier.create(AuthConfig.dev("demo-aiprod", keyDir.toString()))) {
      int lineNo = 0;
      for (HostileInputs.Case c : HostileInputs.all(token)) {
        lineNo++;
        int n = lineNo;
        RequestMessage[] message = new RequestMessage[1];
        double[] read =
            cpuMillis(
                () ->
                    message[0] =
                        ReadRequests.ReadLinesFn.toMessage(
                            "/in/hostile.jsonl",
                            n,
                            new ReadRequests.LineReader.Line(c.line(), false),
                            System.currentTimeMillis()));
        RequestMessage m = message[0];
        String header = m.getAttributes().get("authorization");
        AuthResult[] auth = new AuthResult[1];
        double[] authenticate =
            cpuMillis(
                () -> {
                  auth[0] = verifier.verify(header);
                  return auth[0].isOk() ? null : ClaimedSubject.of(header);
                });
        String outcome;
        String validate = "–";
        if (m.getReadErrorCode() != null) {
          outcome = m.getReadErrorCode();
        } else if (!auth[0].isOk()) {
          outcome = auth[0].reasonCode();
        } else {
          ValidationResult[] r = new ValidationResult[1];
          double[] ms =
              cpuMillis(
                  () -> {
                    String jobId = m.getAttributes().get("job_id");
                    boolean jobIdOk = jobId == null || Validate.JOB_ID.matcher(jobId).matches();
                    r[0] = RequestValidator.validate(m.getPayload(), PricingTable.builtIn());
                    return jobIdOk + r[0].message();
                  });
          validate = format(ms);
          outcome = r[0].isValid() ? "valid" : "REJECTED";
        }
        double[] deadLetter =
            cpuMillis(
                () ->
                    DeadLetters.of(
                        m,
                        ReasonCode.MALFORMED_JSON,
                        m.getReadErrorMessage() == null ? "x" : m.getReadErrorMessage(),
                        "ReadRequests",
                        null));
        table.append(
            String.format(
                Locale.ROOT,
                "| %s | %,d | %s | %s | %s | %s | %s |%n",
                c.name(),
                c.line().length,
                outcome,
                format(read),
                format(authenticate),
                validate,
                format(deadLetter)));
      }
    }
    System.out.println(table);
  }

  private static String format(double[] ms) {
    return String.format(Locale.ROOT, "%.2f (%.2f)", ms[0], ms[1]);
  }

  /**
   * Median and worst CPU milliseconds of 9 runs of {@code work} after 20 warm-up runs (the JIT has
   * compiled it), on this thread.
   */
  static double[] cpuMillis(Supplier<?> work) {
    for (int i = 0; i < 20; i++) {
      work.get();
    }
    long[] ns = new long[9];
    for (int i = 0; i < ns.length; i++) {
      long start = CPU.getCurrentThreadCpuTime();
      work.get();
      ns[i] = CPU.getCurrentThreadCpuTime() - start;
    }
    Arrays.sort(ns);
    return new double[] {ns[ns.length / 2] / 1e6, ns[ns.length - 1] / 1e6};
  }
}
