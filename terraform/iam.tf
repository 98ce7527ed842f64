# The Dataflow worker (and Flex Template launcher) service account, with the least privilege the
# pipeline needs. Each grant says why; resource-level grants wherever the resource allows it.

resource "google_service_account" "worker" {
  account_id   = "aiprod-worker"
  display_name = "AIPROD pipeline Dataflow worker"
}

locals {
  worker = "serviceAccount:${google_service_account.worker.email}"
}

# Run Dataflow work items, report progress, metrics and logs (the minimum for a worker SA;
# project-level only).
resource "google_project_iam_member" "worker_dataflow" {
  project = var.project_id
  role    = "roles/dataflow.worker"
  member  = local.worker
}

# Read job requests: PubsubIO pulls and acknowledges on the pipeline subscription...
resource "google_pubsub_subscription_iam_member" "worker_subscriber" {
  subscription = google_pubsub_subscription.pipeline.id
  role         = "roles/pubsub.subscriber"
  member       = local.worker
}

# ...and Dataflow reads the subscription's metadata (pubsub.subscriptions.get) when it starts.
resource "google_pubsub_subscription_iam_member" "worker_subscription_viewer" {
  subscription = google_pubsub_subscription.pipeline.id
  role         = "roles/pubsub.viewer"
  member       = local.worker
}

# Publish dead letters (--deadLetterTopic); no other topic.
resource "google_pubsub_topic_iam_member" "worker_dead_letter_publisher" {
  topic  = google_pubsub_topic.dead_letters.id
  role   = "roles/pubsub.publisher"
  member = local.worker
}

# Append rows to the four tables (Storage Write API: bigquery.tables.updateData, tables.get);
# on the dataset only. No jobUser: the Storage Write API runs no BigQuery jobs.
resource "google_bigquery_dataset_iam_member" "worker_data_editor" {
  dataset_id = google_bigquery_dataset.warehouse.dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = local.worker
}

# Read and write job documents and the spend ledger. Firestore has no per-database IAM
# resource, so the grant is conditioned on this database.
resource "google_project_iam_member" "worker_firestore" {
  project = var.project_id
  role    = "roles/datastore.user"
  member  = local.worker

  condition {
    title       = "aiprod-firestore-database"
    description = "Only the AIPROD job store database."
    expression  = "resource.name.startsWith(\"projects/${var.project_id}/databases/${var.firestore_database}\")"
  }
}

# Temp and staging files (written and deleted by Dataflow) and outputs (shots, final.mp4,
# manifest.json); on the bucket only.
resource "google_storage_bucket_iam_member" "worker_objects" {
  bucket = google_storage_bucket.pipeline.name
  role   = "roles/storage.objectAdmin"
  member = local.worker
}

# The Flex Template launcher and the workers pull the pipeline image; on the repository only.
resource "google_artifact_registry_repository_iam_member" "worker_image_reader" {
  location   = google_artifact_registry_repository.images.location
  repository = google_artifact_registry_repository.images.name
  role       = "roles/artifactregistry.reader"
  member     = local.worker
}

# Veo render backends and the Gemini planner / semantic QA call Vertex AI with the worker's
# credentials (DESIGN §5, §6); only when one of them is configured.
resource "google_project_iam_member" "worker_vertex" {
  count   = local.uses_vertex ? 1 : 0
  project = var.project_id
  role    = "roles/aiplatform.user"
  member  = local.worker
}

# Secret access is granted per secret in secrets.tf (secretAccessor on the three secrets only).
