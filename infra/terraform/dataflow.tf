# The streaming pipeline as a Dataflow Flex Template job (pipeline/beam/flex): the same launch that
# `npx tideline deploy pipeline --dry-run` prints (a test compares the two). Off until the template
# spec and image exist (var.deploy_pipeline; docs/deploy.md).

locals {
  pipeline_image    = "${var.region}-docker.pkg.dev/${var.project}/${google_artifact_registry_repository.tideline.repository_id}/pipeline:${var.pipeline_image_tag}"
  pipeline_template = "gs://${local.buckets.dataflow}/templates/tideline-pipeline.json"
  pipeline_parameters = merge(
    { source = "pubsub", warehouse = "bigquery", bigquery_project = var.project },
    var.dataset_prefix == "" ? {} : { dataset_prefix = var.dataset_prefix },
  )
}

resource "google_dataflow_flex_template_job" "pipeline" {
  provider                = google-beta
  count                   = var.deploy_pipeline ? 1 : 0
  name                    = "tideline-pipeline"
  region                  = var.region
  container_spec_gcs_path = local.pipeline_template
  parameters              = local.pipeline_parameters
  on_delete               = "drain"

  service_account_email   = google_service_account.sa["pipeline"].email
  subnetwork              = google_compute_subnetwork.private.self_link
  ip_configuration        = "WORKER_IP_PRIVATE"
  kms_key_name            = local.kms.dataflow
  temp_location           = "gs://${local.buckets.dataflow}/tmp"
  staging_location        = "gs://${local.buckets.dataflow}/staging"
  sdk_container_image     = local.pipeline_image
  num_workers             = var.pipeline_min_workers
  max_workers             = var.pipeline_max_workers
  machine_type            = var.pipeline_machine_type
  autoscaling_algorithm   = "AUTOSCALING_ALGORITHM_BASIC"
  enable_streaming_engine = true
  additional_experiments  = ["use_runner_v2"]
  labels                  = local.labels

  depends_on = [
    google_project_iam_member.grant,
    google_pubsub_subscription_iam_member.grant,
    google_bigquery_dataset_iam_member.grant,
    google_storage_bucket_iam_member.grant,
    google_artifact_registry_repository_iam_member.grant,
  ]
}
