# Topics and subscriptions of ../resources.json. Messages are JSON records (one enriched record
# each) with the attributes resources.json lists under messageAttributes; Pub/Sub schemas take only
# Avro or protobuf, so the JSON Schema in contracts/generated/jsonschema is the record's contract and
# the pipeline validates against it.

resource "google_pubsub_topic" "topic" {
  for_each     = local.topics
  name         = each.key
  labels       = local.labels
  kms_key_name = local.kms.pubsub

  message_storage_policy {
    allowed_persistence_regions = [var.region]
  }

  depends_on = [google_kms_crypto_key_iam_member.grant]
}

resource "google_pubsub_subscription" "subscription" {
  for_each                     = local.subs
  name                         = each.key
  topic                        = google_pubsub_topic.topic[each.value.topic].id
  ack_deadline_seconds         = each.value.ackDeadlineSeconds
  message_retention_duration   = "${each.value.retentionSeconds}s"
  enable_message_ordering      = try(each.value.enableMessageOrdering, false)
  enable_exactly_once_delivery = try(each.value.enableExactlyOnceDelivery, false)
  labels                       = local.labels

  expiration_policy {
    ttl = ""
  }

  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  dynamic "dead_letter_policy" {
    for_each = try(each.value.noDeadLetter, false) ? [] : [local.resources.deadLetter]
    content {
      dead_letter_topic     = google_pubsub_topic.topic[dead_letter_policy.value.topic].id
      max_delivery_attempts = dead_letter_policy.value.maxDeliveryAttempts
    }
  }
}
