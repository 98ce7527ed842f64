# Names shared with the code, DESIGN.md and scripts/run-local (streaming). They are contracts:
# NamesCrossCheckTest fails when one of them drifts from the code or from DESIGN.
locals {
  # Pub/Sub (scripts/run-local --streaming creates the same names on the emulator).
  jobs_topic               = "aiprod-jobs"
  pipeline_subscription    = "aiprod-jobs-pipeline"
  dead_letter_topic        = "aiprod-dead-letters"
  dead_letter_subscription = "aiprod-dead-letters-inspect"
  # Messages Pub/Sub itself gives up on (dead-letter policy of the pipeline subscription). Kept
  # apart from the pipeline's dead letters: Pub/Sub forwards the original message, attributes
  # included, so these still carry the `authorization` token the pipeline would have redacted.
  undeliverable_topic        = "aiprod-jobs-undeliverable"
  undeliverable_subscription = "aiprod-jobs-undeliverable-hold"

  # Warehouse tables (DESIGN §8); each schema is src/main/resources/schemas/<table>.json, the
  # same file the pipeline reads (TableSchemas): one source of truth.
  schema_dir = "${path.module}/../src/main/resources/schemas"
  tables = {
    job_results = {
      partition_field = "finished_at"
      clustering      = ["tenant", "state"]
    }
    audit_events = {
      partition_field = "event_time"
      clustering      = ["event_type", "tenant"]
    }
    # One row per render attempt: analysts read it by day (cost, latency per backend) and per
    # job (a job's attempts, the dedup view's key tenant, job_id, shot_index, attempt).
    shot_renders = {
      partition_field = "finished_at"
      clustering      = ["tenant", "job_id"]
    }
    # Read by day and reason (dead_letters_by_reason, replaying after a fix by reason and time).
    dead_letters = {
      partition_field = "timestamp"
      clustering      = ["reason_code", "stage"]
    }
  }

  # Analyst views: sql/views/<name>.sql, written once for BigQuery and DuckDB; `${dataset}.` is
  # the dataset qualifier (replaced here by `project.dataset`., by nothing in DuckDB).
  sql_dir             = "${path.module}/../sql"
  dataset_placeholder = "$${dataset}."
  dataset_qualifier   = "`${var.project_id}.${var.dataset_id}`."
  # The dedup views read the tables; every other view reads only tables and dedup views.
  dedup_views = toset([for f in fileset("${local.sql_dir}/views", "*_dedup.sql") : trimsuffix(f, ".sql")])
  analyst_views = toset([
    for f in fileset("${local.sql_dir}/views", "*.sql") : trimsuffix(f, ".sql")
    if !endswith(f, "_dedup.sql")
  ])

  # Secret Manager secrets (containers only; values are added out of band, see docs/RUNBOOK.md).
  secrets = toset(["audit-hmac-key", "runway-api-key", "replicate-api-token"])

  bucket_name     = coalesce(var.bucket_name, "${var.project_id}-aiprod")
  output_location = "gs://${local.bucket_name}/outputs"
  template_path   = coalesce(var.template_spec_gcs_path, "gs://${local.bucket_name}/templates/aiprod-pipeline.json")

  # The worker calls Vertex AI (its own credentials) for Gemini and for the Veo backends.
  uses_vertex = var.gemini_model != "" || length(regexall("(^|,)\\s*veo", var.render_backends)) > 0

  labels = merge({ app = "aiprod", environment = var.environment }, var.labels)
}
