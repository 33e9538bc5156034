# Composer 3 runs the DAGs of dags/ (docs/orchestration.md) on the private network, with its own
# bucket (DAG files: docs/deploy.md) and the Airflow Variables the DAGs read as environment
# variables (AIRFLOW_VAR_<NAME>), so nothing is set by hand after an apply.

locals {
  airflow_variables = {
    tideline_project                  = var.project
    tideline_region                   = var.region
    tideline_dataform_repository      = google_dataform_repository.tideline.name
    tideline_flex_template_path       = local.pipeline_template
    tideline_dataflow_temp_location   = "gs://${local.buckets.dataflow}/tmp"
    tideline_dataflow_service_account = google_service_account.sa["pipeline"].email
    tideline_dataset_prefix           = var.dataset_prefix
    tideline_raw_bucket               = local.buckets.raw
    tideline_landing_bucket           = local.buckets.landing
  }
}

resource "google_composer_environment" "tideline" {
  name   = "tideline"
  region = var.region
  labels = local.labels

  storage_config {
    bucket = google_storage_bucket.composer.name
  }

  config {
    environment_size           = var.composer_environment_size
    enable_private_environment = true

    software_config {
      image_version = var.composer_image_version
      env_variables = { for k, v in local.airflow_variables : "AIRFLOW_VAR_${upper(k)}" => v }
      airflow_config_overrides = {
        "webserver-expose_config"          = "False"
        "core-dags_are_paused_at_creation" = "True"
      }
    }

    node_config {
      network                           = google_compute_network.tideline.id
      subnetwork                        = google_compute_subnetwork.private.id
      service_account                   = google_service_account.sa["composer"].email
      composer_internal_ipv4_cidr_block = var.composer_internal_cidr
    }

    dynamic "encryption_config" {
      for_each = var.cmek ? [local.kms.composer] : []
      content {
        kms_key_name = encryption_config.value
      }
    }
  }

  depends_on = [
    google_project_iam_member.grant,
    google_service_account_iam_member.grant,
    google_storage_bucket_iam_member.grant,
    google_kms_crypto_key_iam_member.grant,
  ]
}
