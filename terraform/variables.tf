variable "project_id" {
  description = "GCP project that hosts the pipeline (Pub/Sub, BigQuery, Firestore, Dataflow, secrets)."
  type        = string
}

variable "region" {
  description = "Region of Dataflow, the bucket, Artifact Registry and Secret Manager replicas."
  type        = string
  default     = "us-central1"
}

variable "environment" {
  description = "Deployment environment, passed to the pipeline as --environment (DESIGN §11)."
  type        = string
  default     = "prod"
  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be one of dev, staging, prod (DESIGN §11)."
  }
}

variable "labels" {
  description = "Extra labels on every labelled resource."
  type        = map(string)
  default     = {}
}

# --- BigQuery -----------------------------------------------------------------------------

variable "dataset_id" {
  description = "BigQuery dataset of the warehouse tables and views (--warehouse=bigquery:PROJECT.DATASET)."
  type        = string
  default     = "aiprod"
}

variable "bigquery_location" {
  description = "BigQuery dataset location."
  type        = string
  default     = "US"
}

variable "audit_partition_expiration_days" {
  description = "Days an audit_events partition is kept; null keeps the audit trail forever."
  type        = number
  default     = null
}

# --- Firestore ----------------------------------------------------------------------------

variable "firestore_database" {
  description = "Firestore database id of the job store and spend ledger (--firestoreDb)."
  type        = string
  default     = "(default)"
}

variable "firestore_location" {
  description = "Firestore location (a multi-region such as nam5, or a region)."
  type        = string
  default     = "nam5"
}

# --- Storage and images -------------------------------------------------------------------

variable "bucket_name" {
  description = "Bucket for Dataflow temp/staging files, the Flex Template spec and outputs; default <project>-aiprod."
  type        = string
  default     = null
}

variable "temp_retention_days" {
  description = "Days before objects under tmp/ and staging/ are deleted."
  type        = number
  default     = 7
}

variable "output_nearline_after_days" {
  description = "Days before rendered outputs move to NEARLINE storage."
  type        = number
  default     = 30
}

variable "output_retention_days" {
  description = "Days rendered outputs are kept; null keeps them."
  type        = number
  default     = 365
}

variable "artifact_repository_id" {
  description = "Artifact Registry Docker repository of the Flex Template image."
  type        = string
  default     = "aiprod"
}

# --- Pub/Sub ------------------------------------------------------------------------------

variable "subscription_ack_deadline_seconds" {
  description = "Ack deadline of the pipeline subscription (Dataflow extends it while it works on a message)."
  type        = number
  default     = 60
}

variable "message_retention" {
  description = "How long the topic and subscriptions keep messages: time to drain, fix and redeploy."
  type        = string
  default     = "604800s"
}

variable "max_delivery_attempts" {
  description = "Deliveries before Pub/Sub forwards a message to the undeliverable topic (5-100)."
  type        = number
  default     = 10
}

# --- Dataflow -----------------------------------------------------------------------------

variable "deploy_pipeline" {
  description = "Launch the streaming Flex Template job (needs the template built first: scripts/build-template)."
  type        = bool
  default     = true
}

variable "template_spec_gcs_path" {
  description = "gs:// path of the Flex Template spec file; default gs://<bucket>/templates/aiprod-pipeline.json."
  type        = string
  default     = null
}

variable "job_name" {
  description = "Dataflow job name (also the dataflow_job resource label the alerts filter on)."
  type        = string
  default     = "aiprod-pipeline"
}

variable "firebase_project" {
  description = "Firebase project whose ID tokens are accepted (--firebaseProject); default: project_id."
  type        = string
  default     = null
}

variable "render_backends" {
  description = "--renderBackends: backend ids (DESIGN §5), comma separated."
  type        = string
  default     = "preview"
}

variable "pricing_file" {
  description = "--pricingFile (gs:// URI) overriding the bundled pricing.json; null uses the bundled one."
  type        = string
  default     = null
}

variable "gemini_model" {
  description = "--geminiModel: Gemini on Vertex AI writes the plan and scores semantic QA (DESIGN §6); empty uses the local planner and heuristic."
  type        = string
  default     = "gemini-2.5-flash"
}

variable "vertex_location" {
  description = "--vertexLocation of Veo and Gemini; default: region."
  type        = string
  default     = null
}

variable "max_workers" {
  description = "Dataflow autoscaling ceiling."
  type        = number
  default     = 10
}

variable "machine_type" {
  description = "Dataflow worker machine type."
  type        = string
  default     = "n2-standard-4"
}

# --- Monitoring ---------------------------------------------------------------------------

variable "notification_channels" {
  description = "Cloud Monitoring notification channel ids (projects/P/notificationChannels/N) the alerts notify."
  type        = list(string)
  default     = []
}

variable "backlog_age_threshold_seconds" {
  description = "Alert when the oldest unacked message of the pipeline subscription is older than this."
  type        = number
  default     = 600
}

variable "system_lag_threshold_seconds" {
  description = "Alert when Dataflow system lag stays above this."
  type        = number
  default     = 300
}

variable "data_freshness_threshold_seconds" {
  description = "Alert when the Dataflow data watermark age stays above this."
  type        = number
  default     = 600
}

variable "dead_letters_per_10min_threshold" {
  description = "Alert when more dead letters than this are written in 10 minutes."
  type        = number
  default     = 50
}

variable "auth_failures_per_5min_threshold" {
  description = "Alert when more authentication failures than this happen in 5 minutes."
  type        = number
  default     = 100
}

variable "job_failure_ratio_threshold" {
  description = "Alert when FAILED jobs exceed this share of terminal jobs over 30 minutes (0-1)."
  type        = number
  default     = 0.2
}

variable "tenant_daily_cost_threshold_usd" {
  description = "Alert when a tenant's delivered cost for the current UTC day exceeds this (USD)."
  type        = number
  default     = 1000
}

variable "cost_check_schedule" {
  description = "BigQuery scheduled query schedule of the per-tenant daily cost check."
  type        = string
  default     = "every 1 hours"
}
