# Buckets (names from ../resources.json): the raw archive, bulk-upload landing, Dataflow's temp and
# staging files, Composer's DAGs and logs, and the access logs of all four. Every bucket: uniform
# access, public access prevention enforced, CMEK when var.cmek, access logs.

resource "google_storage_bucket" "raw" {
  name                        = local.buckets.raw
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  labels                      = local.labels

  # Objects are written once (ifGenerationMatch=0) and the retention policy forbids deleting or
  # replacing them early; Cloud Storage does not allow versioning together with a retention policy.
  #checkov:skip=CKV_GCP_78:write-once archive under a retention policy, which excludes versioning
  dynamic "retention_policy" {
    for_each = var.archive_retention_days > 0 ? [var.archive_retention_days] : []
    content {
      retention_period = retention_policy.value * 86400
    }
  }

  dynamic "lifecycle_rule" {
    for_each = var.archive_lifecycle
    content {
      condition {
        age = lifecycle_rule.value.age_days
      }
      action {
        type          = "SetStorageClass"
        storage_class = lifecycle_rule.value.storage_class
      }
    }
  }

  dynamic "lifecycle_rule" {
    for_each = var.archive_delete_after_days > 0 ? [var.archive_delete_after_days] : []
    content {
      condition {
        age = lifecycle_rule.value
      }
      action {
        type = "Delete"
      }
    }
  }

  dynamic "encryption" {
    for_each = var.cmek ? [local.kms.storage] : []
    content {
      default_kms_key_name = encryption.value
    }
  }

  logging {
    log_bucket = google_storage_bucket.access_logs.name
  }

  depends_on = [google_kms_crypto_key_iam_member.grant]
}

resource "google_storage_bucket" "landing" {
  name                        = local.buckets.landing
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  labels                      = local.labels

  #checkov:skip=CKV_GCP_78:uploads are loaded within minutes and expire after landing_expire_days; the raw archive keeps what was accepted
  lifecycle_rule {
    condition {
      age = var.landing_expire_days
    }
    action {
      type = "Delete"
    }
  }

  dynamic "encryption" {
    for_each = var.cmek ? [local.kms.storage] : []
    content {
      default_kms_key_name = encryption.value
    }
  }

  logging {
    log_bucket = google_storage_bucket.access_logs.name
  }

  depends_on = [google_kms_crypto_key_iam_member.grant]
}

# Each finished bulk upload is announced on landing-notifications (the landing DAG and the pipeline read it).
resource "google_storage_notification" "landing" {
  bucket         = google_storage_bucket.landing.name
  topic          = google_pubsub_topic.topic["landing-notifications"].id
  payload_format = "JSON_API_V1"
  event_types    = ["OBJECT_FINALIZE"]
  depends_on     = [google_pubsub_topic_iam_member.grant]
}

resource "google_storage_bucket" "dataflow" {
  name                        = local.buckets.dataflow
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  labels                      = local.labels

  #checkov:skip=CKV_GCP_78:temporary and staging files that Dataflow rewrites on every launch; the template spec is rebuilt from the repository
  lifecycle_rule {
    condition {
      age            = 7
      matches_prefix = ["tmp/"]
    }
    action {
      type = "Delete"
    }
  }

  dynamic "encryption" {
    for_each = var.cmek ? [local.kms.storage] : []
    content {
      default_kms_key_name = encryption.value
    }
  }

  logging {
    log_bucket = google_storage_bucket.access_logs.name
  }

  depends_on = [google_kms_crypto_key_iam_member.grant]
}

# Composer 3 with this bucket (storage_config): DAGs, plugins, data and task logs. Versioned, so a
# bad DAG deploy can be rolled back to the previous objects (docs/deploy.md).
resource "google_storage_bucket" "composer" {
  name                        = local.buckets.composer
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  labels                      = local.labels

  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      days_since_noncurrent_time = 30
    }
    action {
      type = "Delete"
    }
  }

  dynamic "encryption" {
    for_each = var.cmek ? [local.kms.storage] : []
    content {
      default_kms_key_name = encryption.value
    }
  }

  logging {
    log_bucket = google_storage_bucket.access_logs.name
  }

  depends_on = [google_kms_crypto_key_iam_member.grant]
}

# Usage and storage logs of the buckets above; read by the project's auditors, written by Cloud Storage.
resource "google_storage_bucket" "access_logs" {
  name                        = "${var.project}-access-logs"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  labels                      = local.labels

  #checkov:skip=CKV_GCP_62:this is the access-log bucket; logging it into itself would loop
  #checkov:skip=CKV_GCP_78:log objects are written once by Cloud Storage and expire; versions would only keep deleted logs
  lifecycle_rule {
    condition {
      age = 400
    }
    action {
      type = "Delete"
    }
  }

  dynamic "encryption" {
    for_each = var.cmek ? [local.kms.storage] : []
    content {
      default_kms_key_name = encryption.value
    }
  }

  depends_on = [google_kms_crypto_key_iam_member.grant]
}
