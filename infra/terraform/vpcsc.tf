# VPC Service Controls: the project inside a perimeter that restricts BigQuery, Cloud Storage,
# Pub/Sub, Dataflow and Composer (and Dataform, which queries BigQuery for the models). From outside,
# only these get in: the edge Worker (its service account, from Cloudflare's ranges, publishing and
# creating objects only), the analysts' and ML groups (BigQuery, for Looker Studio and notebooks),
# and the operators who deploy.

locals {
  perimeter_services = [
    "bigquery.googleapis.com",
    "storage.googleapis.com",
    "pubsub.googleapis.com",
    "dataflow.googleapis.com",
    "composer.googleapis.com",
    "dataform.googleapis.com",
  ]
  # Who may come in from outside, from where, to call what ("*": any method of the service).
  perimeter_ingress = concat(
    [
      {
        identities   = [local.members.edge]
        access_level = google_access_context_manager_access_level.edge.name
        operations   = { "pubsub.googleapis.com" = ["Publisher.Publish"], "storage.googleapis.com" = ["google.storage.objects.create"] }
      },
      {
        identities   = [local.members.analysts, local.members.ml]
        access_level = "*"
        operations   = { "bigquery.googleapis.com" = ["*"] }
      },
    ],
    length(var.operator_members) == 0 ? [] : [{
      identities   = var.operator_members
      access_level = "*"
      operations   = { for s in local.perimeter_services : s => ["*"] }
    }],
  )
  # Enforced (status) or, with var.perimeter_dry_run, only logged (spec): the same configuration.
  perimeter = {
    resources           = ["projects/${local.number}"]
    restricted_services = local.perimeter_services
    ingress             = local.perimeter_ingress
  }
}

resource "google_access_context_manager_access_level" "edge" {
  parent = "accessPolicies/${var.access_policy}"
  name   = "accessPolicies/${var.access_policy}/accessLevels/tideline_edge_${var.environment}"
  title  = "tideline edge (${var.environment}): Cloudflare egress"

  basic {
    conditions {
      ip_subnetworks = var.edge_egress_cidrs
    }
  }
}

resource "google_access_context_manager_service_perimeter" "tideline" {
  parent                    = "accessPolicies/${var.access_policy}"
  name                      = "accessPolicies/${var.access_policy}/servicePerimeters/tideline_${var.environment}"
  title                     = "tideline ${var.environment}"
  perimeter_type            = "PERIMETER_TYPE_REGULAR"
  use_explicit_dry_run_spec = var.perimeter_dry_run

  dynamic "status" {
    for_each = var.perimeter_dry_run ? [] : [local.perimeter]
    content {
      resources           = status.value.resources
      restricted_services = status.value.restricted_services

      vpc_accessible_services {
        enable_restriction = true
        allowed_services   = ["RESTRICTED-SERVICES"]
      }

      dynamic "ingress_policies" {
        for_each = status.value.ingress
        content {
          ingress_from {
            identities = ingress_policies.value.identities
            sources {
              access_level = ingress_policies.value.access_level
            }
          }
          ingress_to {
            resources = ["*"]
            dynamic "operations" {
              for_each = ingress_policies.value.operations
              content {
                service_name = operations.key
                dynamic "method_selectors" {
                  for_each = operations.value
                  content {
                    method = method_selectors.value
                  }
                }
              }
            }
          }
        }
      }
    }
  }

  dynamic "spec" {
    for_each = var.perimeter_dry_run ? [local.perimeter] : []
    content {
      resources           = spec.value.resources
      restricted_services = spec.value.restricted_services

      vpc_accessible_services {
        enable_restriction = true
        allowed_services   = ["RESTRICTED-SERVICES"]
      }

      dynamic "ingress_policies" {
        for_each = spec.value.ingress
        content {
          ingress_from {
            identities = ingress_policies.value.identities
            sources {
              access_level = ingress_policies.value.access_level
            }
          }
          ingress_to {
            resources = ["*"]
            dynamic "operations" {
              for_each = ingress_policies.value.operations
              content {
                service_name = operations.key
                dynamic "method_selectors" {
                  for_each = operations.value
                  content {
                    method = method_selectors.value
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}
