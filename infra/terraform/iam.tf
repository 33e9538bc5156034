# Least privilege: one service account per component, and every grant in local.grants, which
# docs/security.md ("Google Cloud: least privilege") lists row for row; iam.test.ts holds the two
# equal both ways. A grant is on the resource it serves; the few project grants are roles that exist
# only at project level (running jobs, being a Dataflow or Composer worker).

locals {
  service_accounts = {
    edge     = "tideline edge Worker: publishes to Pub/Sub and writes archive and landing objects (key in the Worker secret GCP_SA_KEY)"
    pipeline = "tideline pipeline: Dataflow workers of the Beam pipeline"
    composer = "tideline Composer 3 environment: runs the DAGs"
    dataform = "tideline Dataform: builds the staging, marts, features and assertions datasets"
  }

  members = {
    edge     = "serviceAccount:${google_service_account.sa["edge"].email}"
    pipeline = "serviceAccount:${google_service_account.sa["pipeline"].email}"
    composer = "serviceAccount:${google_service_account.sa["composer"].email}"
    dataform = "serviceAccount:${google_service_account.sa["dataform"].email}"
    analysts = "group:${var.analysts_group}"
    ml       = "group:${var.ml_group}"
    # Google-managed service agents of this project.
    storage-agent     = "serviceAccount:service-${local.number}@gs-project-accounts.iam.gserviceaccount.com"
    bigquery-agent    = "serviceAccount:bq-${local.number}@bigquery-encryption.iam.gserviceaccount.com"
    pubsub-agent      = "serviceAccount:service-${local.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
    dataflow-agent    = "serviceAccount:service-${local.number}@dataflow-service-producer-prod.iam.gserviceaccount.com"
    compute-agent     = "serviceAccount:service-${local.number}@compute-system.iam.gserviceaccount.com"
    composer-agent    = "serviceAccount:service-${local.number}@cloudcomposer-accounts.iam.gserviceaccount.com"
    dataform-agent    = "serviceAccount:service-${local.number}@gcp-sa-dataform.iam.gserviceaccount.com"
    artifacts-agent   = "serviceAccount:service-${local.number}@gcp-sa-artifactregistry.iam.gserviceaccount.com"
    gke-agent         = "serviceAccount:service-${local.number}@container-engine-robot.iam.gserviceaccount.com"
    storage-analytics = "group:cloud-storage-analytics@google.com"
  }

  # who, role, on: kind:name (project; topic, subscription, bucket, dataset, service_account,
  # kms_key, artifact_repository, dataform_repository by their names here).
  grants = [
    { who = "edge", role = "roles/pubsub.publisher", on = ["topic:events", "topic:webhooks", "topic:cdc", "topic:dead-letters"] },
    { who = "edge", role = "roles/storage.objectCreator", on = ["bucket:raw", "bucket:landing"] },

    { who = "pipeline", role = "roles/dataflow.worker", on = ["project"] },
    { who = "pipeline", role = "roles/bigquery.jobUser", on = ["project"] },
    { who = "pipeline", role = "roles/pubsub.subscriber", on = ["subscription:pipeline-events", "subscription:pipeline-webhooks", "subscription:pipeline-cdc", "subscription:pipeline-dead-letters", "subscription:pipeline-landing"] },
    { who = "pipeline", role = "roles/storage.objectViewer", on = ["bucket:raw", "bucket:landing"] },
    { who = "pipeline", role = "roles/storage.objectAdmin", on = ["bucket:dataflow"] },
    { who = "pipeline", role = "roles/bigquery.dataEditor", on = ["dataset:raw", "dataset:core", "dataset:ops"] },
    { who = "pipeline", role = "roles/artifactregistry.reader", on = ["artifact_repository:tideline"] },

    { who = "composer", role = "roles/composer.worker", on = ["project"] },
    { who = "composer", role = "roles/dataflow.developer", on = ["project"] },
    { who = "composer", role = "roles/bigquery.jobUser", on = ["project"] },
    { who = "composer", role = "roles/iam.serviceAccountUser", on = ["service_account:pipeline"] },
    { who = "composer", role = "roles/dataform.editor", on = ["dataform_repository:tideline"] },
    { who = "composer", role = "roles/pubsub.subscriber", on = ["subscription:airflow-landing"] },
    { who = "composer", role = "roles/storage.objectAdmin", on = ["bucket:composer"] },
    { who = "composer", role = "roles/storage.objectViewer", on = ["bucket:dataflow", "bucket:raw", "bucket:landing"] },
    { who = "composer", role = "roles/bigquery.dataViewer", on = ["dataset:core", "dataset:marts"] },
    { who = "composer", role = "roles/bigquery.dataEditor", on = ["dataset:raw", "dataset:ops"] },

    { who = "dataform", role = "roles/bigquery.jobUser", on = ["project"] },
    { who = "dataform", role = "roles/bigquery.dataViewer", on = ["dataset:raw", "dataset:core"] },
    { who = "dataform", role = "roles/bigquery.dataEditor", on = ["dataset:staging", "dataset:marts", "dataset:features", "dataset:assertions", "dataset:ops"] },

    { who = "analysts", role = "roles/bigquery.jobUser", on = ["project"] },
    { who = "analysts", role = "roles/bigquery.dataViewer", on = ["dataset:marts"] },
    { who = "ml", role = "roles/bigquery.jobUser", on = ["project"] },
    { who = "ml", role = "roles/bigquery.dataViewer", on = ["dataset:features"] },

    { who = "storage-agent", role = "roles/pubsub.publisher", on = ["topic:landing-notifications"] },
    { who = "pubsub-agent", role = "roles/pubsub.publisher", on = ["topic:undeliverable"] },
    { who = "pubsub-agent", role = "roles/pubsub.subscriber", on = ["subscription:pipeline-events", "subscription:pipeline-webhooks", "subscription:pipeline-cdc", "subscription:pipeline-dead-letters", "subscription:pipeline-landing", "subscription:airflow-landing"] },
    { who = "composer-agent", role = "roles/composer.ServiceAgentV2Ext", on = ["service_account:composer"] },
    { who = "dataform-agent", role = "roles/iam.serviceAccountTokenCreator", on = ["service_account:dataform"] },
    { who = "storage-analytics", role = "roles/storage.objectCreator", on = ["bucket:access_logs"] },

    { who = "storage-agent", role = "roles/cloudkms.cryptoKeyEncrypterDecrypter", on = ["kms_key:storage", "kms_key:composer"] },
    { who = "bigquery-agent", role = "roles/cloudkms.cryptoKeyEncrypterDecrypter", on = ["kms_key:bigquery"] },
    { who = "pubsub-agent", role = "roles/cloudkms.cryptoKeyEncrypterDecrypter", on = ["kms_key:pubsub", "kms_key:composer"] },
    { who = "dataflow-agent", role = "roles/cloudkms.cryptoKeyEncrypterDecrypter", on = ["kms_key:dataflow"] },
    { who = "compute-agent", role = "roles/cloudkms.cryptoKeyEncrypterDecrypter", on = ["kms_key:dataflow", "kms_key:composer"] },
    { who = "composer-agent", role = "roles/cloudkms.cryptoKeyEncrypterDecrypter", on = ["kms_key:composer"] },
    { who = "gke-agent", role = "roles/cloudkms.cryptoKeyEncrypterDecrypter", on = ["kms_key:composer"] },
    { who = "artifacts-agent", role = "roles/cloudkms.cryptoKeyEncrypterDecrypter", on = ["kms_key:artifacts", "kms_key:composer"] },
  ]

  grant_rows = flatten([
    for g in local.grants : [
      for o in g.on : {
        key  = "${g.who} ${g.role} ${o}"
        who  = g.who
        role = g.role
        kind = split(":", o)[0]
        name = length(split(":", o)) > 1 ? split(":", o)[1] : ""
      }
    ]
  ])
  # Without CMEK there are no keys to grant on.
  grants_of = { for kind in distinct([for r in local.grant_rows : r.kind]) : kind => {
    for r in local.grant_rows : r.key => r if r.kind == kind && (kind != "kms_key" || var.cmek)
  } }
  bucket_names = {
    raw         = google_storage_bucket.raw.name
    landing     = google_storage_bucket.landing.name
    dataflow    = google_storage_bucket.dataflow.name
    composer    = google_storage_bucket.composer.name
    access_logs = google_storage_bucket.access_logs.name
  }
}

resource "google_service_account" "sa" {
  for_each     = local.service_accounts
  account_id   = "tideline-${each.key}"
  display_name = "tideline ${each.key}"
  description  = each.value
}

resource "google_project_iam_member" "grant" {
  for_each = local.grants_of["project"]
  project  = var.project
  role     = each.value.role
  member   = local.members[each.value.who]
}

resource "google_pubsub_topic_iam_member" "grant" {
  for_each = local.grants_of["topic"]
  topic    = google_pubsub_topic.topic[each.value.name].id
  role     = each.value.role
  member   = local.members[each.value.who]
}

resource "google_pubsub_subscription_iam_member" "grant" {
  for_each     = local.grants_of["subscription"]
  subscription = google_pubsub_subscription.subscription[each.value.name].id
  role         = each.value.role
  member       = local.members[each.value.who]
}

resource "google_storage_bucket_iam_member" "grant" {
  for_each = local.grants_of["bucket"]
  bucket   = local.bucket_names[each.value.name]
  role     = each.value.role
  member   = local.members[each.value.who]
}

resource "google_bigquery_dataset_iam_member" "grant" {
  for_each   = local.grants_of["dataset"]
  dataset_id = google_bigquery_dataset.dataset[each.value.name].dataset_id
  role       = each.value.role
  member     = local.members[each.value.who]
}

resource "google_service_account_iam_member" "grant" {
  for_each           = local.grants_of["service_account"]
  service_account_id = google_service_account.sa[each.value.name].name
  role               = each.value.role
  member             = local.members[each.value.who]
}

resource "google_kms_crypto_key_iam_member" "grant" {
  for_each      = try(local.grants_of["kms_key"], {})
  crypto_key_id = google_kms_crypto_key.key[each.value.name].id
  role          = each.value.role
  member        = local.members[each.value.who]
}

resource "google_artifact_registry_repository_iam_member" "grant" {
  for_each   = local.grants_of["artifact_repository"]
  location   = google_artifact_registry_repository.tideline.location
  repository = google_artifact_registry_repository.tideline.name
  role       = each.value.role
  member     = local.members[each.value.who]
}

resource "google_dataform_repository_iam_member" "grant" {
  provider   = google-beta
  for_each   = local.grants_of["dataform_repository"]
  region     = var.region
  repository = google_dataform_repository.tideline.name
  role       = each.value.role
  member     = local.members[each.value.who]
}
