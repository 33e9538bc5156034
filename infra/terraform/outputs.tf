output "edge_service_account" {
  description = "Create its key for the Worker secret GCP_SA_KEY (docs/deploy.md)."
  value       = google_service_account.sa["edge"].email
}

output "pipeline_service_account" {
  value = google_service_account.sa["pipeline"].email
}

output "buckets" {
  value = local.buckets
}

output "datasets" {
  value = { for k, d in google_bigquery_dataset.dataset : k => d.dataset_id }
}

output "pipeline_image" {
  description = "Push the image built from pipeline/beam/flex/Dockerfile here."
  value       = local.pipeline_image
}

output "pipeline_template" {
  description = "Where `gcloud dataflow flex-template build` writes the template spec."
  value       = local.pipeline_template
}

output "composer_dag_prefix" {
  description = "Where the DAG files go (docs/deploy.md)."
  value       = google_composer_environment.tideline.config[0].dag_gcs_prefix
}
