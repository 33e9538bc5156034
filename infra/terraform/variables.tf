# Inputs. envs/staging.tfvars and envs/production.tfvars set the ones without a default, matching
# wrangler.toml's [env.staging] and [env.production] (a test holds them together).

variable "environment" {
  type        = string
  description = "staging or production: the wrangler.toml environment this project serves."
  validation {
    condition     = contains(["staging", "production"], var.environment)
    error_message = "environment must be staging or production (the environments of wrangler.toml)."
  }
}

variable "project" {
  type        = string
  description = "Google Cloud project id (wrangler.toml's GCP_PROJECT of the same environment)."
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project))
    error_message = "project must be a Google Cloud project id: 6-30 lowercase letters, digits or hyphens."
  }
}

variable "region" {
  type        = string
  description = "Region of every regional resource: buckets, datasets, the KMS key ring, Pub/Sub message storage, Dataflow, Composer."
}

variable "analysts_group" {
  type        = string
  description = "Google group of the analysts (Looker Studio, BigQuery): they read the marts dataset only."
  validation {
    condition     = can(regex("^[^@\\s]+@[^@\\s]+$", var.analysts_group))
    error_message = "analysts_group must be a group's email address."
  }
}

variable "ml_group" {
  type        = string
  description = "Google group of the ML team: it reads the features dataset only."
  validation {
    condition     = can(regex("^[^@\\s]+@[^@\\s]+$", var.ml_group))
    error_message = "ml_group must be a group's email address."
  }
}

variable "access_policy" {
  type        = string
  description = "Numeric id of the organization's Access Context Manager policy that holds the VPC Service Controls perimeter (gcloud access-context-manager policies list)."
  validation {
    condition     = can(regex("^[0-9]+$", var.access_policy))
    error_message = "access_policy must be the numeric id of an access policy."
  }
}

variable "edge_egress_cidrs" {
  type        = list(string)
  description = "Where the edge Worker's calls to Pub/Sub and Cloud Storage come from: Cloudflare's published IP ranges (2026-11; refresh from Cloudflare's list before a deploy). The perimeter's access level for the edge."
  default = [
    "173.245.48.0/20", "103.21.244.0/22", "103.22.200.0/22", "103.31.4.0/22", "141.101.64.0/18",
    "108.162.192.0/18", "190.93.240.0/20", "188.114.96.0/20", "197.234.240.0/22", "198.41.128.0/17",
    "162.158.0.0/15", "104.16.0.0/13", "104.24.0.0/14", "172.64.0.0/13", "131.0.72.0/22",
    "2400:cb00::/32", "2606:4700::/32", "2803:f800::/32", "2405:b500::/32", "2405:8100::/32",
    "2a06:98c0::/29", "2c0f:f248::/32",
  ]
}

variable "operator_members" {
  type        = list(string)
  description = "Identities that run `tofu apply` and deploys from outside the perimeter (user:…, group:…, serviceAccount:…); they get an ingress rule, no IAM."
  default     = []
}

variable "perimeter_dry_run" {
  type        = bool
  default     = false
  description = "Put the perimeter in dry-run (violations are logged, not blocked): for the first rollout, then false."
}

variable "cmek" {
  type        = bool
  default     = true
  description = "Customer-managed encryption keys (Cloud KMS, rotated) for buckets, BigQuery, Pub/Sub, Dataflow, Composer and Artifact Registry. false: Google-managed keys."
}

variable "kms_rotation_period" {
  type        = string
  default     = "7776000s"
  description = "Rotation period of the CMEK keys in seconds (7776000s = 90 days, the longest the policy checks allow)."
  validation {
    condition     = can(regex("^[0-9]+s$", var.kms_rotation_period)) && tonumber(trimsuffix(var.kms_rotation_period, "s")) <= 7776000
    error_message = "kms_rotation_period must be seconds with an s suffix, at most 7776000s (90 days)."
  }
}

variable "archive_lifecycle" {
  type = list(object({
    age_days      = number
    storage_class = string
  }))
  default = [
    { age_days = 30, storage_class = "NEARLINE" },
    { age_days = 90, storage_class = "COLDLINE" },
    { age_days = 365, storage_class = "ARCHIVE" },
  ]
  description = "Storage class transitions of the raw archive (Standard before the first)."
  validation {
    condition     = alltrue([for r in var.archive_lifecycle : contains(["NEARLINE", "COLDLINE", "ARCHIVE"], r.storage_class) && r.age_days > 0])
    error_message = "archive_lifecycle: each step needs age_days > 0 and a storage_class of NEARLINE, COLDLINE or ARCHIVE."
  }
}

variable "archive_retention_days" {
  type        = number
  default     = 30
  description = "Retention policy of the raw archive: objects cannot be deleted or replaced before this age (0: none)."
}

variable "archive_delete_after_days" {
  type        = number
  default     = 0
  description = "Delete raw archive objects after this many days (0 keeps them)."
  validation {
    condition     = var.archive_delete_after_days == 0 || var.archive_delete_after_days >= var.archive_retention_days
    error_message = "archive_delete_after_days must be 0 or at least archive_retention_days."
  }
}

variable "landing_expire_days" {
  type        = number
  default     = 7
  description = "Bulk uploads are loaded within minutes; what is left in the landing bucket after this is deleted."
}

variable "partition_expiration_days" {
  type        = map(number)
  description = "Partition expiry per table (dataset.table); tables not listed keep every partition. The same policy as dags/schedule.json's maintenance.partitionExpiryDays."
  default = {
    "raw.events"             = 730
    "raw.webhooks"           = 730
    "ops.dead_letters"       = 90
    "ops.partitions_touched" = 400
    "ops.realtime_metrics"   = 30
  }
}

variable "dataset_prefix" {
  type        = string
  default     = ""
  description = "Prefix of every dataset name (the pipeline's dataset_prefix), for sharing one project between environments."
}

variable "subnet_cidr" {
  type        = string
  default     = "10.40.0.0/20"
  description = "Private subnet of the Dataflow workers and Composer's network attachment."
}

variable "composer_internal_cidr" {
  type        = string
  default     = "100.64.128.0/20"
  description = "Composer 3's internal range (must not overlap the subnet)."
}

variable "deploy_pipeline" {
  type        = bool
  default     = false
  description = "Start the streaming Dataflow job. Needs the Flex Template spec and image built first (docs/deploy.md), so the first apply leaves it off."
}

variable "pipeline_image_tag" {
  type        = string
  default     = "latest"
  description = "Tag of the pipeline image in Artifact Registry (pipeline/beam/flex/Dockerfile)."
}

variable "pipeline_min_workers" {
  type    = number
  default = 1
}

variable "pipeline_max_workers" {
  type    = number
  default = 5
  validation {
    condition     = var.pipeline_max_workers >= var.pipeline_min_workers
    error_message = "pipeline_max_workers must be at least pipeline_min_workers."
  }
}

variable "pipeline_machine_type" {
  type    = string
  default = "n2-standard-2"
}

variable "composer_image_version" {
  type        = string
  default     = "composer-3-airflow-2.10.5-build.10"
  description = "The Composer 3 image whose package list dags/requirements.lock pins."
}

variable "composer_environment_size" {
  type    = string
  default = "ENVIRONMENT_SIZE_SMALL"
}

variable "dataform_git_url" {
  type        = string
  default     = ""
  description = "HTTPS URL of the git repository holding warehouse/dataform ('' leaves the Dataform repository without a remote)."
}

variable "dataform_git_token_secret" {
  type        = string
  default     = ""
  description = "Secret Manager secret version holding the git token (projects/…/secrets/…/versions/…), when dataform_git_url is set."
}

variable "labels" {
  type        = map(string)
  default     = {}
  description = "Extra labels on every resource that takes labels."
}
