# Secret containers only: no value is ever in terraform (state would hold it). Versions are added
# by operators (`gcloud secrets versions add NAME --data-file=-`, docs/RUNBOOK.md). The pipeline
# reads them with --secretSource=secretmanager:projects/PROJECT and pins `latest` to a version.

resource "google_secret_manager_secret" "pipeline" {
  for_each  = local.secrets
  secret_id = each.key
  labels    = local.labels

  replication {
    auto {}
  }
}

# Only the worker may read the values.
resource "google_secret_manager_secret_iam_member" "worker_accessor" {
  for_each  = local.secrets
  secret_id = google_secret_manager_secret.pipeline[each.key].id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.worker.email}"
}
