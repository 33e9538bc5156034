# The pipeline image (pipeline/beam/flex/Dockerfile): Flex Template launcher and worker SDK container.
resource "google_artifact_registry_repository" "tideline" {
  repository_id = "tideline"
  location      = var.region
  format        = "DOCKER"
  description   = "tideline pipeline images (Dataflow Flex Template launcher and workers)"
  kms_key_name  = local.kms.artifacts
  labels        = local.labels

  docker_config {
    immutable_tags = false
  }

  depends_on = [google_kms_crypto_key_iam_member.grant, google_project_service.api]
}

# The Dataform repository of warehouse/dataform; its workflows run as the dataform service account.
resource "google_dataform_repository" "tideline" {
  provider        = google-beta
  name            = "tideline"
  region          = var.region
  service_account = google_service_account.sa["dataform"].email
  labels          = local.labels

  dynamic "git_remote_settings" {
    for_each = var.dataform_git_url == "" ? [] : [var.dataform_git_url]
    content {
      url                                 = git_remote_settings.value
      default_branch                      = "main"
      authentication_token_secret_version = var.dataform_git_token_secret
    }
  }

  workspace_compilation_overrides {
    default_database = var.project
    schema_suffix    = ""
    table_prefix     = var.dataset_prefix
  }

  depends_on = [google_service_account_iam_member.grant]
}
