package com.aiprod.pipeline.model;

/** A job as an audit event's resource: {@code tenants/{tenant}/jobs/{job_id}}. */
public record JobResource(String tenant, String jobId) {
  public static JobResource of(Job job) {
    return new JobResource(job.getTenant(), job.getJobId());
  }

  /** The resource path of the job's document. */
  public String path() {
    return "tenants/" + tenant + "/jobs/" + jobId;
  }
}
