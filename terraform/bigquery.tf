# The warehouse (DESIGN §8): the four tables with the schemas the pipeline itself reads
# (src/main/resources/schemas/<table>.json is a JSON array of BigQuery TableFieldSchema objects,
# which is what `schema` takes), day-partitioned and clustered; then the analyst views of sql/.

resource "google_bigquery_dataset" "warehouse" {
  dataset_id  = var.dataset_id
  location    = var.bigquery_location
  description = "AIPROD warehouse: job_results, shot_renders, audit_events, dead_letters and analyst views."
  labels      = local.labels

  # Keep time travel at its maximum for restores (docs/RUNBOOK.md).
  max_time_travel_hours = 168
}

resource "google_bigquery_table" "tables" {
  for_each = local.tables

  dataset_id = google_bigquery_dataset.warehouse.dataset_id
  table_id   = each.key
  schema     = file("${local.schema_dir}/${each.key}.json")
  labels     = local.labels

  time_partitioning {
    type  = "DAY"
    field = each.value.partition_field
    expiration_ms = (
      each.key == "audit_events" && var.audit_partition_expiration_days != null
      ? var.audit_partition_expiration_days * 86400000
      : null
    )
  }
  clustering = each.value.clustering

  # The pipeline appends with the Storage Write API; losing a table loses the audit trail.
  deletion_protection = true
}

# <table>_dedup: one row per key (Storage Write API at-least-once appends and replays can
# repeat rows). Every other view reads these, never the raw tables.
resource "google_bigquery_table" "dedup_views" {
  for_each = local.dedup_views

  dataset_id          = google_bigquery_dataset.warehouse.dataset_id
  table_id            = each.key
  labels              = local.labels
  deletion_protection = false

  view {
    query          = replace(file("${local.sql_dir}/views/${each.key}.sql"), local.dataset_placeholder, local.dataset_qualifier)
    use_legacy_sql = false
  }

  depends_on = [google_bigquery_table.tables]
}

resource "google_bigquery_table" "analyst_views" {
  for_each = local.analyst_views

  dataset_id          = google_bigquery_dataset.warehouse.dataset_id
  table_id            = each.key
  labels              = local.labels
  deletion_protection = false

  view {
    query          = replace(file("${local.sql_dir}/views/${each.key}.sql"), local.dataset_placeholder, local.dataset_qualifier)
    use_legacy_sql = false
  }

  depends_on = [google_bigquery_table.dedup_views]
}
