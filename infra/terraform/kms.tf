# CMEK behind one variable (var.cmek): a key ring in the region, one rotated key per kind of store.
# The service agents that encrypt with a key are granted on that key only (iam.tf, kind kms_key).

resource "google_kms_key_ring" "tideline" {
  count    = var.cmek ? 1 : 0
  name     = "tideline"
  location = var.region
}

resource "google_kms_crypto_key" "key" {
  for_each        = var.cmek ? local.kms_keys : toset([])
  name            = each.key
  key_ring        = google_kms_key_ring.tideline[0].id
  rotation_period = var.kms_rotation_period
  purpose         = "ENCRYPT_DECRYPT"
  labels          = local.labels

  lifecycle {
    prevent_destroy = true
  }
}
