# What every file here shares: the resource list (../resources.json, the one the local launcher and
# the pipeline read), the warehouse tables generated from the contracts, the principals and the
# least-privilege grants (iam.tf), and whether CMEK is on.

data "google_project" "this" {
  project_id = var.project
}

locals {
  resources = jsondecode(file("${path.module}/../resources.json"))
  topics    = { for t in local.resources.topics : t.name => t }
  subs      = { for s in local.resources.subscriptions : s.name => s }
  buckets   = { for k, v in local.resources.buckets : k => replace(v, "{project}", var.project) }

  # contracts/generated/bigquery/<dataset>.<table>.json: written by `npm run generate` from contracts/tables.ts.
  contracts_dir = "${path.module}/../../contracts/generated/bigquery"
  tables = {
    for f in fileset(local.contracts_dir, "*.json") : trimsuffix(f, ".json") => jsondecode(file("${local.contracts_dir}/${f}"))
  }
  ingest_datasets = toset([for t in local.tables : t.tableReference.datasetId])
  datasets = merge(
    { for d in local.ingest_datasets : d => "tideline ${d}: written by the pipeline (tables from contracts/generated/bigquery)" },
    local.resources.modelDatasets,
  )

  number = data.google_project.this.number
  labels = merge(var.labels, { app = "tideline", environment = var.environment })

  # One key per kind of store, so a key's grants name only the service agent that uses it.
  kms_keys = toset(["storage", "bigquery", "pubsub", "dataflow", "composer", "artifacts"])
  kms      = var.cmek ? { for k in local.kms_keys : k => google_kms_crypto_key.key[k].id } : { for k in local.kms_keys : k => null }

  required_apis = toset([
    "accesscontextmanager.googleapis.com",
    "artifactregistry.googleapis.com",
    "bigquery.googleapis.com",
    "bigquerystorage.googleapis.com",
    "cloudkms.googleapis.com",
    "composer.googleapis.com",
    "compute.googleapis.com",
    "dataflow.googleapis.com",
    "dataform.googleapis.com",
    "dns.googleapis.com",
    "iam.googleapis.com",
    "pubsub.googleapis.com",
    "storage.googleapis.com",
  ])
}

resource "google_project_service" "api" {
  for_each           = local.required_apis
  service            = each.key
  disable_on_destroy = false
}
