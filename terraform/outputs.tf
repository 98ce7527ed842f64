output "jobs_topic" {
  description = "Topic clients publish job requests to (scripts/publish --topic)."
  value       = google_pubsub_topic.jobs.id
}

output "pipeline_subscription" {
  description = "--inputSubscription of the pipeline."
  value       = google_pubsub_subscription.pipeline.id
}

output "dead_letter_topic" {
  description = "--deadLetterTopic of the pipeline."
  value       = google_pubsub_topic.dead_letters.id
}

output "dead_letter_subscription" {
  description = "Subscription operators read dead letters from."
  value       = google_pubsub_subscription.dead_letters.id
}

output "undeliverable_subscription" {
  description = "Messages Pub/Sub dead-lettered after max_delivery_attempts (original attributes included)."
  value       = google_pubsub_subscription.undeliverable.id
}

output "warehouse" {
  description = "--warehouse of the pipeline."
  value       = "bigquery:${var.project_id}.${google_bigquery_dataset.warehouse.dataset_id}"
}

output "analyst_views" {
  description = "Views created from sql/views (query them as `PROJECT.DATASET`.NAME)."
  value       = sort(concat([for v in google_bigquery_table.dedup_views : v.table_id], [for v in google_bigquery_table.analyst_views : v.table_id]))
}

output "firestore_database" {
  description = "--firestoreDb of the pipeline."
  value       = google_firestore_database.jobs.name
}

output "secret_ids" {
  description = "Secret containers; add versions with gcloud secrets versions add."
  value       = sort([for s in google_secret_manager_secret.pipeline : s.secret_id])
}

output "worker_service_account" {
  description = "Dataflow worker service account (--serviceAccount of scripts/launch-template)."
  value       = google_service_account.worker.email
}

output "bucket" {
  description = "Bucket for temp, staging, templates and outputs."
  value       = google_storage_bucket.pipeline.name
}

output "output_location" {
  description = "--outputLocation of the pipeline."
  value       = local.output_location
}

output "template_spec_gcs_path" {
  description = "Where scripts/build-template must write the Flex Template spec."
  value       = local.template_path
}

output "image_repository" {
  description = "Docker repository of the Flex Template image."
  value       = "${google_artifact_registry_repository.images.location}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.images.repository_id}"
}

output "dataflow_job_id" {
  description = "Id of the streaming Dataflow job (null when deploy_pipeline = false)."
  value       = var.deploy_pipeline ? google_dataflow_flex_template_job.pipeline[0].job_id : null
}
