# Alerts and a dashboard on what the pipeline really emits:
# - built-in metrics of Pub/Sub (subscription backlog) and Dataflow (system lag, data freshness);
# - Beam counters of namespace `aiprod` (src/main: Metrics.counter("aiprod", NAME)), which
#   Dataflow exports as dataflow.googleapis.com/job/user_counter (GAUGE, DOUBLE: the running
#   total, sampled every 60 s) with label metric_name = NAME. As a gauge of a running total, its
#   increase over a window is PromQL delta(), summed over the ptransform label;
# - per-tenant cost, which no counter can carry (a tenant label per counter is unbounded
#   cardinality): a BigQuery scheduled query over the cost_per_tenant_day view, whose failure
#   (ERROR() naming each tenant over the threshold) a log-match alert reports.
# NamesCrossCheckTest checks every metric_name used here exists in the code.

locals {
  user_counter = "dataflow_googleapis_com:job_user_counter{monitored_resource=\"dataflow_job\",job_name=\"${var.job_name}\""
}

resource "google_monitoring_alert_policy" "backlog_age" {
  display_name          = "AIPROD: job requests wait too long (subscription backlog age)"
  combiner              = "OR"
  notification_channels = var.notification_channels
  user_labels           = local.labels

  conditions {
    display_name = "oldest unacked message on ${local.pipeline_subscription}"
    condition_threshold {
      filter          = "resource.type = \"pubsub_subscription\" AND resource.labels.subscription_id = \"${google_pubsub_subscription.pipeline.name}\" AND metric.type = \"pubsub.googleapis.com/subscription/oldest_unacked_message_age\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.backlog_age_threshold_seconds
      duration        = "300s"
      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "The pipeline is not keeping up with, or not reading, ${local.pipeline_subscription}. See docs/RUNBOOK.md, alert `backlog age`."
  }
}

resource "google_monitoring_alert_policy" "system_lag" {
  display_name          = "AIPROD: Dataflow system lag"
  combiner              = "OR"
  notification_channels = var.notification_channels
  user_labels           = local.labels

  conditions {
    display_name = "system lag of ${var.job_name}"
    condition_threshold {
      filter          = "resource.type = \"dataflow_job\" AND resource.labels.job_name = \"${var.job_name}\" AND metric.type = \"dataflow.googleapis.com/job/system_lag\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.system_lag_threshold_seconds
      duration        = "300s"
      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "An element has waited too long inside the pipeline (a stuck render poll, a slow sink). See docs/RUNBOOK.md, alert `system lag`."
  }
}

resource "google_monitoring_alert_policy" "data_freshness" {
  display_name          = "AIPROD: Dataflow data freshness"
  combiner              = "OR"
  notification_channels = var.notification_channels
  user_labels           = local.labels

  conditions {
    display_name = "data watermark age of ${var.job_name}"
    condition_threshold {
      filter          = "resource.type = \"dataflow_job\" AND resource.labels.job_name = \"${var.job_name}\" AND metric.type = \"dataflow.googleapis.com/job/data_watermark_age\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.data_freshness_threshold_seconds
      duration        = "300s"
      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "The watermark is not advancing: input is old or a stage holds it back. See docs/RUNBOOK.md, alert `data freshness`."
  }
}

resource "google_monitoring_alert_policy" "dead_letter_rate" {
  display_name          = "AIPROD: dead-letter rate"
  combiner              = "OR"
  notification_channels = var.notification_channels
  user_labels           = local.labels

  conditions {
    display_name = "dead letters per 10 minutes"
    condition_prometheus_query_language {
      query               = "sum(delta(${local.user_counter},metric_name=\"dead_letters\"}[10m])) > ${var.dead_letters_per_10min_threshold}"
      duration            = "0s"
      evaluation_interval = "60s"
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Many inputs end as dead letters. Break them down with the dead_letters_by_reason view (or the dead_letters_<REASON> counters on the dashboard). See docs/RUNBOOK.md, alert `dead letters`."
  }
}

resource "google_monitoring_alert_policy" "auth_failure_rate" {
  display_name          = "AIPROD: authentication failures"
  combiner              = "OR"
  notification_channels = var.notification_channels
  user_labels           = local.labels

  conditions {
    display_name = "auth failures per 5 minutes"
    condition_prometheus_query_language {
      query               = "sum(delta(${local.user_counter},metric_name=\"auth_failure\"}[5m])) > ${var.auth_failures_per_5min_threshold}"
      duration            = "0s"
      evaluation_interval = "60s"
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Many requests fail authentication. The auth_failures_by_principal view names the claimed principals and sources. See docs/RUNBOOK.md, alert `auth failures`."
  }
}

resource "google_monitoring_alert_policy" "security_alerts" {
  display_name          = "AIPROD: SECURITY_ALERT audit events"
  combiner              = "OR"
  notification_channels = var.notification_channels
  user_labels           = local.labels
  severity              = "CRITICAL"

  conditions {
    display_name = "any SECURITY_ALERT in 5 minutes"
    condition_prometheus_query_language {
      query               = "sum(delta(${local.user_counter},metric_name=\"security_alerts\"}[5m])) > 0"
      duration            = "0s"
      evaluation_interval = "60s"
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "A forged token or a burst of authentication failures (DESIGN §9). Query audit_events_dedup WHERE event_type = 'SECURITY_ALERT'. See docs/RUNBOOK.md, alert `security alert`."
  }
}

resource "google_monitoring_alert_policy" "job_failure_rate" {
  display_name          = "AIPROD: job failure rate"
  combiner              = "OR"
  notification_channels = var.notification_channels
  user_labels           = local.labels

  conditions {
    # A counter never incremented has no series, and PromQL arithmetic with an empty side is
    # empty: each term of the denominator defaults to 0.
    display_name = "FAILED share of terminal jobs over 30 minutes"
    condition_prometheus_query_language {
      query               = "sum(delta(${local.user_counter},metric_name=\"jobs_failed\"}[30m])) / ((sum(delta(${local.user_counter},metric_name=\"jobs_delivered\"}[30m])) or vector(0)) + (sum(delta(${local.user_counter},metric_name=\"jobs_needs_review\"}[30m])) or vector(0)) + (sum(delta(${local.user_counter},metric_name=\"jobs_rejected\"}[30m])) or vector(0)) + (sum(delta(${local.user_counter},metric_name=\"jobs_failed\"}[30m])) or vector(0))) > ${var.job_failure_ratio_threshold}"
      duration            = "0s"
      evaluation_interval = "60s"
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Rendered jobs end FAILED (RENDER_FAILED, DEADLINE, INTERNAL_ERROR): a backend is down or too slow. The job_latency_vs_deadline view shows which presets miss their deadline. See docs/RUNBOOK.md, alert `job failures`."
  }
}

# --- Daily cost per tenant (BigQuery-based) -----------------------------------------------

resource "google_service_account" "cost_check" {
  account_id   = "aiprod-cost-check"
  display_name = "AIPROD per-tenant daily cost check (BigQuery scheduled query)"
}

# Runs the check query (a BigQuery job) ...
resource "google_project_iam_member" "cost_check_job_user" {
  project = var.project_id
  role    = "roles/bigquery.jobUser"
  member  = "serviceAccount:${google_service_account.cost_check.email}"
}

# ... reading the views and writing its one-row result table in the warehouse dataset.
resource "google_bigquery_dataset_iam_member" "cost_check_data_editor" {
  dataset_id = google_bigquery_dataset.warehouse.dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = "serviceAccount:${google_service_account.cost_check.email}"
}

# The BigQuery Data Transfer service agent runs the scheduled query as that account.
resource "google_service_account_iam_member" "cost_check_dts_token" {
  service_account_id = google_service_account.cost_check.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-bigquerydatatransfer.iam.gserviceaccount.com"
}

resource "google_bigquery_data_transfer_config" "tenant_daily_cost" {
  display_name           = "aiprod-tenant-daily-cost-check"
  location               = var.bigquery_location
  data_source_id         = "scheduled_query"
  schedule               = var.cost_check_schedule
  destination_dataset_id = google_bigquery_dataset.warehouse.dataset_id
  service_account_name   = google_service_account.cost_check.email

  params = {
    destination_table_name_template = "tenant_daily_cost_check"
    write_disposition               = "WRITE_TRUNCATE"
    # Fails (and so logs an ERROR the alert below matches) naming every tenant whose delivered
    # cost today (UTC) is over the threshold; otherwise writes one 'ok' row.
    query = <<-SQL
      SELECT IF(COUNT(*) > 0,
        ERROR(CONCAT('AIPROD_TENANT_DAILY_COST over ${var.tenant_daily_cost_threshold_usd} USD: ',
          STRING_AGG(CONCAT(tenant, '=', FORMAT('%.2f', cost_usd)), ', ' ORDER BY cost_usd DESC))),
        'ok') AS status,
        CURRENT_TIMESTAMP() AS checked_at
      FROM ${local.dataset_qualifier}cost_per_tenant_day
      WHERE day = CURRENT_DATE() AND cost_usd > ${var.tenant_daily_cost_threshold_usd}
    SQL
  }

  depends_on = [
    google_bigquery_table.analyst_views,
    google_service_account_iam_member.cost_check_dts_token,
  ]
}

resource "google_monitoring_alert_policy" "tenant_daily_cost" {
  display_name          = "AIPROD: tenant daily cost over threshold"
  combiner              = "OR"
  notification_channels = var.notification_channels
  user_labels           = local.labels

  conditions {
    display_name = "per-tenant daily cost check failed"
    condition_matched_log {
      filter = "resource.type=\"bigquery_dts_config\" AND resource.labels.config_id=\"${element(split("/", google_bigquery_data_transfer_config.tenant_daily_cost.name), 5)}\" AND severity>=ERROR"
    }
  }

  alert_strategy {
    notification_rate_limit {
      period = "3600s"
    }
    auto_close = "86400s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "A tenant's delivered cost today is over ${var.tenant_daily_cost_threshold_usd} USD (the log entry names each tenant), or the check itself failed. Query cost_per_tenant_day. See docs/RUNBOOK.md, alert `tenant cost`."
  }
}

# --- Dashboard ----------------------------------------------------------------------------

resource "google_monitoring_dashboard" "pipeline" {
  dashboard_json = templatefile("${path.module}/dashboard.json.tftpl", {
    job_name     = var.job_name
    subscription = google_pubsub_subscription.pipeline.name
  })
}
