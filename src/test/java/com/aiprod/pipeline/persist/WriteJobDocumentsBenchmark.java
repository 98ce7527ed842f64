package com.aiprod.pipeline.persist;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import com.aiprod.pipeline.jobstore.JobDocuments;
import com.aiprod.pipeline.jobstore.JobStore;
import com.aiprod.pipeline.jobstore.WriteJobDocuments;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.testing.FirestoreEmulator;
import com.google.firestore.v1.Precondition;
import com.google.firestore.v1.Write;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.extensions.protobuf.ProtoCoder;
import org.apache.beam.sdk.io.gcp.firestore.FirestoreIO;
import org.apache.beam.sdk.transforms.Create;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Write rate of {@link WriteJobDocuments} against the Firestore emulator (docs/PERFORMANCE.md). A
 * benchmark, not a test: it prints rates and asserts only that every document was written. Excluded
 * from {@code mvn test}; run it with
 *
 * <pre>
 * mvn -o test -Dtest=WriteJobDocumentsBenchmark -DexcludedGroups=none -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 *
 * <p>Each case runs {@value #RUNS} times in the same JVM (the first run pays class loading and
 * JIT): plain FirestoreIO batchWrite of the same documents with {@code exists=false} preconditions
 * as the reference, then WriteJobDocuments (read, merge, preconditioned write).
 */
@Tag("benchmark")
class WriteJobDocumentsBenchmark {
  static final int DOCUMENTS = 1000;
  static final int RUNS = 3;

  @RegisterExtension static final FirestoreEmulator EMULATOR = new FirestoreEmulator();

  @TempDir Path dir;

  @Test
  void newDocuments() throws Exception {
    JobStore store = EmulatorPipelines.store(EMULATOR);
    List<Job> jobs = new ArrayList<>();
    List<Write> writes = new ArrayList<>();
    for (int i = 0; i < DOCUMENTS; i++) {
      Job job = TestData.delivered("rate", String.format("job-%08d", i));
      jobs.add(job);
      writes.add(
          Write.newBuilder()
              .setUpdate(JobDocuments.toDocument(job, store.documentName("rate", job.getJobId())))
              .setCurrentDocument(Precondition.newBuilder().setExists(false))
              .build());
    }
    for (int run = 1; run <= RUNS; run++) {
      EMULATOR.clear(EmulatorPipelines.PROJECT);
      Pipeline plain = EmulatorPipelines.pipeline(EMULATOR);
      plain
          .apply(Create.of(writes).withCoder(ProtoCoder.of(Write.class)))
          .apply(
              FirestoreIO.v1()
                  .write()
                  .batchWrite()
                  .withDeadLetterQueue()
                  .withRpcQosOptions(store.rpcQosOptions())
                  .build());
      measure(
          "plain FirestoreIO batchWrite (exists=false)", run, () -> plain.run().waitUntilFinish());
      assertThat(
          EmulatorPipelines.export(EMULATOR, dir.resolve("plain.json")).size(), equalTo(DOCUMENTS));

      EMULATOR.clear(EmulatorPipelines.PROJECT);
      Pipeline p = EmulatorPipelines.pipeline(EMULATOR);
      p.apply(Create.of(jobs)).apply(WriteJobDocuments.to(store));
      measure("WriteJobDocuments", run, () -> p.run().waitUntilFinish());
      assertThat(
          EmulatorPipelines.export(EMULATOR, dir.resolve("jobs.json")).size(), equalTo(DOCUMENTS));
    }
  }

  private static void measure(String what, int run, Runnable r) {
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    long cpu = os.getProcessCpuTime();
    long start = System.nanoTime();
    r.run();
    double seconds = (System.nanoTime() - start) / 1e9;
    System.out.printf(
        "BENCHMARK %s, run %d: %d new documents in %.2f s = %.0f docs/s (JVM CPU %.1f s)%n",
        what, run, DOCUMENTS, seconds, DOCUMENTS / seconds, (os.getProcessCpuTime() - cpu) / 1e9);
  }
}
