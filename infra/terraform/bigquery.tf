# Datasets raw, core, ops (the pipeline's, tables from contracts/generated/bigquery) and the Dataform
# model datasets of ../resources.json (staging, marts, features, assertions; Dataform creates their
# tables). Who reads which dataset is in iam.tf: analysts the marts only, ML the features only.

resource "google_bigquery_dataset" "dataset" {
  for_each                   = local.datasets
  dataset_id                 = "${var.dataset_prefix}${each.key}"
  description                = each.value
  location                   = var.region
  labels                     = local.labels
  delete_contents_on_destroy = false

  dynamic "default_encryption_configuration" {
    for_each = var.cmek ? [local.kms.bigquery] : []
    content {
      kms_key_name = default_encryption_configuration.value
    }
  }

  depends_on = [google_kms_crypto_key_iam_member.grant]
}

resource "google_bigquery_table" "table" {
  for_each            = local.tables
  dataset_id          = google_bigquery_dataset.dataset[each.value.tableReference.datasetId].dataset_id
  table_id            = each.value.tableReference.tableId
  description         = each.value.description
  schema              = jsonencode(each.value.schema.fields)
  clustering          = try(each.value.clustering.fields, null)
  labels              = local.labels
  deletion_protection = true

  # Large raw tables refuse queries without a partition filter (contracts/tables.ts says which).
  require_partition_filter = try(each.value.timePartitioning.requirePartitionFilter, false)

  # Partition expiry per table from var.partition_expiration_days; unlisted tables keep everything.
  dynamic "time_partitioning" {
    for_each = can(each.value.timePartitioning) ? [each.value.timePartitioning] : []
    content {
      type          = time_partitioning.value.type
      field         = time_partitioning.value.field
      expiration_ms = contains(keys(var.partition_expiration_days), each.key) ? var.partition_expiration_days[each.key] * 86400000 : null
    }
  }

  dynamic "encryption_configuration" {
    for_each = var.cmek ? [local.kms.bigquery] : []
    content {
      kms_key_name = encryption_configuration.value
    }
  }
}
