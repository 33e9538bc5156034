/** Webhook deliveries as providers send them (the parts we rely on). */
import { z } from "zod";

/** Shopify: any JSON object; the topic and delivery id travel in headers. */
export const ShopifyWebhookBody = z.record(z.string(), z.unknown()).describe("Shopify webhook payload (topic in X-Shopify-Topic)");

/** HubSpot webhooks v3: an array of subscription events. */
export const HubSpotEvent = z.looseObject({
  eventId: z.union([z.number(), z.string()]),
  subscriptionId: z.union([z.number(), z.string()]).optional(),
  portalId: z.union([z.number(), z.string()]).optional(),
  appId: z.union([z.number(), z.string()]).optional(),
  occurredAt: z.number().optional(),
  subscriptionType: z.string().optional(),
  attemptNumber: z.number().optional(),
  objectId: z.union([z.number(), z.string()]).optional(),
  propertyName: z.string().optional(),
  propertyValue: z.unknown().optional(),
  changeSource: z.string().optional(),
});
export const HubSpotWebhookBody = z.array(HubSpotEvent).min(1, "HubSpot delivers a non-empty array of events");

/** Any other signed source: a JSON object (or array) of the sender's design. */
export const GenericWebhookBody = z.union([z.record(z.string(), z.unknown()), z.array(z.unknown())]);

export const WEBHOOK_PROVIDERS = ["shopify", "hubspot", "generic"] as const;
export type WebhookProvider = (typeof WEBHOOK_PROVIDERS)[number];
