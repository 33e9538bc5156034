# tideline on Google Cloud. OpenTofu ≥ 1.8 or Terraform ≥ 1.6; `tofu fmt -check` and the policy
# tests run in `npm test` (infra/terraform/*.test.ts).

terraform {
  required_version = ">= 1.6"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.40"
    }
    # The Dataflow Flex Template job and the Dataform repository exist only in the beta provider.
    google-beta = {
      source  = "hashicorp/google-beta"
      version = "~> 6.40"
    }
  }
  # State per environment: `tofu init -backend-config=envs/<env>.gcs.tfbackend` (docs/deploy.md).
  backend "gcs" {}
}

provider "google" {
  project = var.project
  region  = var.region
}

provider "google-beta" {
  project = var.project
  region  = var.region
}
