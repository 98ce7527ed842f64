# Job requests arrive on the jobs topic; the pipeline reads the pipeline subscription
# (--inputSubscription) and publishes each dead letter to the dead-letter topic
# (--deadLetterTopic; data = payload, attributes reason_code, stage, message_id, error_message,
# never the authorization token).

locals {
  pubsub_service_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

resource "google_pubsub_topic" "jobs" {
  name                       = local.jobs_topic
  message_retention_duration = var.message_retention
  labels                     = local.labels
}

resource "google_pubsub_subscription" "pipeline" {
  name  = local.pipeline_subscription
  topic = google_pubsub_topic.jobs.id

  # Dataflow extends the deadline of messages it is working on and acknowledges them once they
  # are durably committed, so this only bounds redelivery after a worker is lost.
  ack_deadline_seconds = var.subscription_ack_deadline_seconds
  # Unacknowledged messages survive a drain, a failed update or an outage this long.
  message_retention_duration = var.message_retention
  retain_acked_messages      = false

  # Never expire the subscription while the pipeline is stopped.
  expiration_policy {
    ttl = ""
  }

  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  # Messages Pub/Sub could not get acknowledged after max_delivery_attempts deliveries (a
  # pipeline that keeps failing on them). The pipeline's own dead letters go to
  # aiprod-dead-letters; these go to a separate topic because Pub/Sub forwards them unchanged,
  # authorization attribute included.
  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.undeliverable.id
    max_delivery_attempts = var.max_delivery_attempts
  }

  labels = local.labels
}

resource "google_pubsub_topic" "dead_letters" {
  name                       = local.dead_letter_topic
  message_retention_duration = var.message_retention
  labels                     = local.labels
}

# Operators inspect (and scripts/replay-dead-letters reads from the warehouse, not from here).
resource "google_pubsub_subscription" "dead_letters" {
  name                       = local.dead_letter_subscription
  topic                      = google_pubsub_topic.dead_letters.id
  ack_deadline_seconds       = 60
  message_retention_duration = var.message_retention
  expiration_policy {
    ttl = ""
  }
  labels = local.labels
}

resource "google_pubsub_topic" "undeliverable" {
  name                       = local.undeliverable_topic
  message_retention_duration = var.message_retention
  labels                     = local.labels
}

# Holds what Pub/Sub dead-lettered until an operator republishes it to the jobs topic or lets it
# expire (it may contain bearer tokens: no one but operators reads it).
resource "google_pubsub_subscription" "undeliverable" {
  name                       = local.undeliverable_subscription
  topic                      = google_pubsub_topic.undeliverable.id
  ack_deadline_seconds       = 60
  message_retention_duration = var.message_retention
  expiration_policy {
    ttl = ""
  }
  labels = local.labels
}

# The Pub/Sub service agent forwards dead-lettered messages: it must publish to the
# undeliverable topic and acknowledge them on the source subscription.
resource "google_pubsub_topic_iam_member" "undeliverable_publisher" {
  topic  = google_pubsub_topic.undeliverable.id
  role   = "roles/pubsub.publisher"
  member = local.pubsub_service_agent
}

resource "google_pubsub_subscription_iam_member" "pipeline_dead_letter_ack" {
  subscription = google_pubsub_subscription.pipeline.id
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}
