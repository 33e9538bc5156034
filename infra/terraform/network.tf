# A private network for the Dataflow workers and Composer 3: no public IPs, Google APIs through
# Private Google Access on the restricted VIP (the only one VPC Service Controls allows), no route
# to the internet (no Cloud NAT: the pipeline image and the Composer image carry their packages).

resource "google_compute_network" "tideline" {
  name                    = "tideline"
  auto_create_subnetworks = false
  routing_mode            = "REGIONAL"
  depends_on              = [google_project_service.api]
}

resource "google_compute_subnetwork" "private" {
  name                     = "tideline-private"
  network                  = google_compute_network.tideline.id
  region                   = var.region
  ip_cidr_range            = var.subnet_cidr
  private_ip_google_access = true

  log_config {
    aggregation_interval = "INTERVAL_5_MIN"
    flow_sampling        = 0.5
    metadata             = "INCLUDE_ALL_METADATA"
  }
}

# Dataflow workers talk to each other on 12345-12346 (shuffle and streaming data exchange).
resource "google_compute_firewall" "dataflow_internal" {
  name        = "tideline-dataflow-internal"
  network     = google_compute_network.tideline.id
  direction   = "INGRESS"
  source_tags = ["dataflow"]
  target_tags = ["dataflow"]
  priority    = 1000
  description = "Dataflow worker to worker traffic"

  allow {
    protocol = "tcp"
    ports    = ["12345-12346"]
  }

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}

# Only the restricted VIP leaves the network.
resource "google_compute_firewall" "deny_egress" {
  name               = "tideline-deny-egress"
  network            = google_compute_network.tideline.id
  direction          = "EGRESS"
  priority           = 65000
  destination_ranges = ["0.0.0.0/0"]

  deny {
    protocol = "all"
  }

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}

resource "google_compute_firewall" "allow_restricted_vip" {
  name               = "tideline-allow-google-apis"
  network            = google_compute_network.tideline.id
  direction          = "EGRESS"
  priority           = 1000
  destination_ranges = ["199.36.153.4/30", var.subnet_cidr, var.composer_internal_cidr]

  allow {
    protocol = "tcp"
  }

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}

resource "google_compute_route" "restricted_vip" {
  name             = "tideline-restricted-googleapis"
  network          = google_compute_network.tideline.id
  dest_range       = "199.36.153.4/30"
  next_hop_gateway = "default-internet-gateway"
  priority         = 100
}

# *.googleapis.com and *.pkg.dev (the pipeline image) resolve to restricted.googleapis.com inside the network.
resource "google_dns_managed_zone" "restricted" {
  for_each    = toset(["googleapis.com.", "pkg.dev."])
  name        = "tideline-${replace(trimsuffix(each.key, "."), ".", "-")}"
  dns_name    = each.key
  visibility  = "private"
  description = "Private Google Access through the restricted VIP (VPC Service Controls)"
  labels      = local.labels

  #checkov:skip=CKV_GCP_16:private zone; Cloud DNS signs public zones only
  private_visibility_config {
    networks {
      network_url = google_compute_network.tideline.id
    }
  }
}

resource "google_dns_record_set" "restricted_a" {
  for_each     = google_dns_managed_zone.restricted
  managed_zone = each.value.name
  name         = each.key == "googleapis.com." ? "restricted.googleapis.com." : "pkg.dev."
  type         = "A"
  ttl          = 300
  rrdatas      = ["199.36.153.4", "199.36.153.5", "199.36.153.6", "199.36.153.7"]
}

resource "google_dns_record_set" "restricted_cname" {
  for_each     = google_dns_managed_zone.restricted
  managed_zone = each.value.name
  name         = "*.${each.key}"
  type         = "CNAME"
  ttl          = 300
  rrdatas      = [each.key == "googleapis.com." ? "restricted.googleapis.com." : "pkg.dev."]
}
