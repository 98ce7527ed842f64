# The job store (tenants/{tenant}/jobs/{job_id}) and the spend ledger
# (tenants/{tenant}/spend/{yyyy-MM-dd}) live in one native-mode database.

resource "google_firestore_database" "jobs" {
  name        = var.firestore_database
  location_id = var.firestore_location
  type        = "FIRESTORE_NATIVE"

  # Restore any minute of the last 7 days (docs/RUNBOOK.md).
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
  delete_protection_state           = "DELETE_PROTECTION_ENABLED"
  # `terraform destroy` leaves the database (and its documents) in place.
  deletion_policy = "ABANDON"
}

# ResumeUnfinishedJobs (streaming start) runs a collection-group query over every `jobs`
# collection: `state IN [RECEIVED, PLANNED, RENDERING, QA]`. Single-field indexes exist for
# collection scope by default only; a collection-group query needs the COLLECTION_GROUP one.
# (tools.ExportJobs queries the same group without a filter: no index needed.)
resource "google_firestore_field" "jobs_state" {
  database   = google_firestore_database.jobs.name
  collection = "jobs"
  field      = "state"

  index_config {
    indexes {
      order       = "ASCENDING"
      query_scope = "COLLECTION"
    }
    indexes {
      order       = "ASCENDING"
      query_scope = "COLLECTION_GROUP"
    }
  }
}

# Nothing queries a job's history; indexing each entry only costs writes and index entries.
resource "google_firestore_field" "jobs_history" {
  database   = google_firestore_database.jobs.name
  collection = "jobs"
  field      = "history"

  index_config {}
}

# The ledger's `charges` map (job_id -> estimate) grows with a tenant's admitted finals of the
# day; indexed, every key would be an index entry (a document may have at most 40,000). Nothing
# queries it, so it is exempt.
resource "google_firestore_field" "spend_charges" {
  database   = google_firestore_database.jobs.name
  collection = "spend"
  field      = "charges"

  index_config {}
}
