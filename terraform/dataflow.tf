# The streaming pipeline as a Flex Template job. Parameter names are the pipeline options of
# DESIGN §11 (AiprodOptions and Beam's own); NamesCrossCheckTest checks each one exists.
# `terraform destroy` (or a replacement) drains the job: in-flight messages are finished, none
# is lost.

resource "google_dataflow_flex_template_job" "pipeline" {
  count    = var.deploy_pipeline ? 1 : 0
  provider = google-beta

  name                    = var.job_name
  region                  = var.region
  container_spec_gcs_path = local.template_path
  on_delete               = "drain"

  service_account_email   = google_service_account.worker.email
  temp_location           = "gs://${local.bucket_name}/tmp"
  staging_location        = "gs://${local.bucket_name}/staging"
  enable_streaming_engine = true
  max_workers             = var.max_workers
  machine_type            = var.machine_type
  labels                  = local.labels

  parameters = merge(
    {
      inputSubscription = google_pubsub_subscription.pipeline.id
      firebaseProject   = coalesce(var.firebase_project, var.project_id)
      warehouse         = "bigquery:${var.project_id}.${google_bigquery_dataset.warehouse.dataset_id}"
      secretSource      = "secretmanager:projects/${var.project_id}"
      renderBackends    = var.render_backends
      outputLocation    = local.output_location
      deadLetterTopic   = google_pubsub_topic.dead_letters.id
      environment       = var.environment
      firestoreDb       = google_firestore_database.jobs.name
      # An option added after DESIGN §11 (AiprodOptions): where Veo and Gemini run.
      vertexLocation = coalesce(var.vertex_location, var.region)
    },
    var.pricing_file == null ? {} : { pricingFile = var.pricing_file },
    # Also added after DESIGN §11: Gemini planning and semantic QA (absent: local planner).
    var.gemini_model == "" ? {} : { geminiModel = var.gemini_model },
  )

  depends_on = [
    google_project_iam_member.worker_dataflow,
    google_pubsub_subscription_iam_member.worker_subscriber,
    google_pubsub_subscription_iam_member.worker_subscription_viewer,
    google_pubsub_topic_iam_member.worker_dead_letter_publisher,
    google_bigquery_dataset_iam_member.worker_data_editor,
    google_project_iam_member.worker_firestore,
    google_project_iam_member.worker_vertex,
    google_storage_bucket_iam_member.worker_objects,
    google_artifact_registry_repository_iam_member.worker_image_reader,
    google_secret_manager_secret_iam_member.worker_accessor,
    google_bigquery_table.tables,
    google_firestore_field.jobs_state,
  ]
}
