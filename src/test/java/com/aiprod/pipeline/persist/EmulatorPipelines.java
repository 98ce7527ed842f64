package com.aiprod.pipeline.persist;

import com.aiprod.pipeline.jobstore.JobStore;
import com.aiprod.pipeline.testing.FirestoreEmulator;
import com.aiprod.pipeline.tools.ExportJobs;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;

/** Pipelines and exports against a test's Firestore emulator. */
final class EmulatorPipelines {
  static final String PROJECT = "demo-aiprod";

  private EmulatorPipelines() {}

  static PipelineOptions options(FirestoreEmulator emulator) {
    return PipelineOptionsFactory.fromArgs(
            "--runner=DirectRunner",
            "--targetParallelism=2",
            "--emulatorHost=" + emulator.hostPort(),
            "--project=" + PROJECT,
            "--credentialFactoryClass=org.apache.beam.sdk.extensions.gcp.auth.NoopCredentialFactory")
        .create();
  }

  static Pipeline pipeline(FirestoreEmulator emulator) {
    return Pipeline.create(options(emulator));
  }

  static JobStore store(FirestoreEmulator emulator) {
    return JobStore.fromOptions(options(emulator));
  }

  /** Exports all job documents with {@link ExportJobs} and parses the file. */
  static JsonNode export(FirestoreEmulator emulator, Path file) throws Exception {
    ExportJobs.run(
        "--emulatorHost=" + emulator.hostPort(), "--project=" + PROJECT, "--output=" + file);
    return new ObjectMapper().readTree(file.toFile());
  }
}
