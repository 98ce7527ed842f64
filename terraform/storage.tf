# One bucket: tmp/ (--tempLocation), staging/ (Dataflow staging), templates/ (the Flex Template
# spec written by scripts/build-template) and outputs/ (--outputLocation).

resource "google_storage_bucket" "pipeline" {
  name     = local.bucket_name
  location = var.region
  labels   = local.labels

  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  # Temp and staging files are only needed while a job runs or is updated.
  lifecycle_rule {
    condition {
      age            = var.temp_retention_days
      matches_prefix = ["tmp/", "staging/"]
    }
    action {
      type = "Delete"
    }
  }

  # Outputs are read soon after delivery, rarely later.
  lifecycle_rule {
    condition {
      age            = var.output_nearline_after_days
      matches_prefix = ["outputs/"]
    }
    action {
      type          = "SetStorageClass"
      storage_class = "NEARLINE"
    }
  }

  dynamic "lifecycle_rule" {
    for_each = var.output_retention_days == null ? [] : [var.output_retention_days]
    content {
      condition {
        age            = lifecycle_rule.value
        matches_prefix = ["outputs/"]
      }
      action {
        type = "Delete"
      }
    }
  }

  # Uploads interrupted by a worker restart.
  lifecycle_rule {
    condition {
      age = 1
    }
    action {
      type = "AbortIncompleteMultipartUpload"
    }
  }
}
