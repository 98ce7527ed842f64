package com.aiprod.pipeline.jobstore;

import com.aiprod.pipeline.model.Job;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.PCollection;

/**
 * How a stage learns what the job store knows of each job: every input job comes out exactly once
 * as a {@link JobLookup}, in its window. {@link ExistingJobLookup} reads Firestore; a stage takes
 * this type, so it can be tested against any implementation (tests use an in-memory one beside the
 * emulator ones).
 */
public abstract class JobLookups extends PTransform<PCollection<Job>, PCollection<JobLookup>> {}
