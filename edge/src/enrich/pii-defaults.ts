/**
 * Default PII field lists (dot paths), each replaced by a keyed hash unless configured otherwise.
 * A path segment `*` matches every member of an object; arrays on a path are walked element by
 * element, so `addresses.zip` reaches the zip of every address. Values are hashed whole (an object
 * becomes one pseudonym); strings are trimmed and lower-cased first, so one email is one pseudonym
 * across events, webhooks and CDC rows. City, region and country are kept: coarse geography is what
 * the marts use, and it does not identify a person by itself.
 */

/** Segment events: roots are properties, traits and context (PII_FIELDS). */
export const DEFAULT_EVENT_PII_FIELDS: readonly string[] = [
  ...["traits", "context.traits"].flatMap((t) =>
    ["email", "phone", "name", "firstName", "lastName", "first_name", "last_name", "address.street", "address.postalCode", "address.postal_code"].map((f) => `${t}.${f}`),
  ),
  "properties.email",
  "properties.phone",
];

/** Fields of a postal address as Shopify (and most shops) write them. */
const ADDRESS = ["first_name", "last_name", "name", "address1", "address2", "phone", "zip", "latitude", "longitude"];
const addressPaths = (at: string) => ADDRESS.map((f) => `${at}.${f}`);

/**
 * Webhook payloads per provider (shopify, hubspot) or generic source name; `*` applies to generic
 * sources without a list of their own (WEBHOOK_PII_FIELDS).
 */
export const DEFAULT_WEBHOOK_PII_FIELDS: Record<string, readonly string[]> = {
  shopify: [
    "email",
    "contact_email",
    "phone",
    "first_name",
    "last_name",
    "browser_ip",
    "client_details.browser_ip",
    "customer.email",
    "customer.phone",
    "customer.first_name",
    "customer.last_name",
    ...addressPaths("billing_address"),
    ...addressPaths("shipping_address"),
    ...addressPaths("default_address"),
    ...addressPaths("addresses"),
    ...addressPaths("customer.default_address"),
  ],
  hubspot: [],
  "*": ["email", "phone", "first_name", "last_name", "customer.email", "customer.phone", "customer.first_name", "customer.last_name"],
};

/** HubSpot property names whose `propertyValue` is hashed in property-change events (HUBSPOT_PII_PROPERTIES). */
export const DEFAULT_HUBSPOT_PII_PROPERTIES: readonly string[] = ["email", "phone", "mobilephone", "fax", "firstname", "lastname", "address", "zip"];

/**
 * CDC rows per source table (any schema): columns hashed in `before` and `after` (CDC_PII_FIELDS).
 * The e-commerce tables of API.md: customers carry email and names; orders may carry contact and
 * address columns in shops that denormalize them.
 */
export const DEFAULT_CDC_PII_FIELDS: Record<string, readonly string[]> = {
  customers: ["email", "first_name", "last_name", "phone", "address", "address1", "address2", "zip", "postal_code"],
  orders: ["email", "phone", "shipping_address", "billing_address"],
};
