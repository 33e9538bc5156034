# Google Cloud resources for tideline's ingestion path. Topics, subscriptions and bucket names come
# from ../resources.json, the same list the local launcher (infra/local) creates in the emulator.

terraform {
  required_version = ">= 1.6"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.0"
    }
  }
}

variable "project" {
  type        = string
  description = "Google Cloud project id."
}

variable "region" {
  type        = string
  default     = "europe-west1"
  description = "Region of buckets and regional Pub/Sub endpoints."
}

variable "raw_delete_after_days" {
  type        = number
  default     = 0
  description = "Delete raw archive objects after this many days (0 keeps them)."
}

provider "google" {
  project = var.project
  region  = var.region
}

locals {
  resources = jsondecode(file("${path.module}/../resources.json"))
  topics    = { for t in local.resources.topics : t.name => t }
  subs      = { for s in local.resources.subscriptions : s.name => s }
  buckets = {
    raw     = replace(local.resources.buckets.raw, "{project}", var.project)
    landing = replace(local.resources.buckets.landing, "{project}", var.project)
  }
}

resource "google_pubsub_topic" "topic" {
  for_each = local.topics
  name     = each.key
  labels   = { app = "tideline" }
}

resource "google_pubsub_subscription" "subscription" {
  for_each                   = local.subs
  name                       = each.key
  topic                      = google_pubsub_topic.topic[each.value.topic].id
  ack_deadline_seconds       = each.value.ackDeadlineSeconds
  message_retention_duration = "${each.value.retentionSeconds}s"
  enable_message_ordering    = try(each.value.enableMessageOrdering, false)
  labels                     = { app = "tideline" }
}

resource "google_storage_bucket" "raw" {
  name                        = local.buckets.raw
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  lifecycle_rule {
    condition { age = 30 }
    action {
      type          = "SetStorageClass"
      storage_class = "NEARLINE"
    }
  }
  lifecycle_rule {
    condition { age = 90 }
    action {
      type          = "SetStorageClass"
      storage_class = "COLDLINE"
    }
  }
  lifecycle_rule {
    condition { age = 365 }
    action {
      type          = "SetStorageClass"
      storage_class = "ARCHIVE"
    }
  }
  dynamic "lifecycle_rule" {
    for_each = var.raw_delete_after_days > 0 ? [var.raw_delete_after_days] : []
    content {
      condition { age = lifecycle_rule.value }
      action { type = "Delete" }
    }
  }
}

resource "google_storage_bucket" "landing" {
  name                        = local.buckets.landing
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  # Bulk uploads are loaded within minutes; what is left after a week is stale.
  lifecycle_rule {
    condition { age = 7 }
    action { type = "Delete" }
  }
}

# The edge Worker publishes and archives with this account's key (Worker secret GCP_SA_KEY).
resource "google_service_account" "edge" {
  account_id   = "tideline-edge"
  display_name = "tideline edge Worker (publish + archive writes)"
}

resource "google_pubsub_topic_iam_member" "edge_publish" {
  for_each = toset(["events", "webhooks", "cdc", "dead-letters", "landing-notifications"])
  topic    = google_pubsub_topic.topic[each.key].id
  role     = "roles/pubsub.publisher"
  member   = "serviceAccount:${google_service_account.edge.email}"
}

# Object creation only: the edge never reads, overwrites or deletes archive objects.
resource "google_storage_bucket_iam_member" "edge_raw_create" {
  bucket = google_storage_bucket.raw.name
  role   = "roles/storage.objectCreator"
  member = "serviceAccount:${google_service_account.edge.email}"
}

resource "google_storage_bucket_iam_member" "edge_landing_create" {
  bucket = google_storage_bucket.landing.name
  role   = "roles/storage.objectCreator"
  member = "serviceAccount:${google_service_account.edge.email}"
}
