# Docker repository of the Flex Template image (templates/Dockerfile, scripts/build-template).

resource "google_artifact_registry_repository" "images" {
  location      = var.region
  repository_id = var.artifact_repository_id
  format        = "DOCKER"
  description   = "AIPROD pipeline Flex Template images."
  labels        = local.labels

  # Keep the 10 most recent images (rollback targets); delete older ones after 30 days.
  cleanup_policy_dry_run = false
  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = 10
    }
  }
  cleanup_policies {
    id     = "delete-old"
    action = "DELETE"
    condition {
      older_than = "2592000s"
    }
  }
}
