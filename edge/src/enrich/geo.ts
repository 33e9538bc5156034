/**
 * Geo from Cloudflare's request.cf. Locally (wrangler dev, tests) cf is a placeholder or absent,
 * so the fallback is the CF-IPCountry header a proxy may set, and otherwise nothing. In staging and
 * production that header is never read: there request.cf is Cloudflare's own, and a header may be
 * the client's.
 */
export interface Geo {
  geo_country: string | null;
  geo_region: string | null;
  geo_city: string | null;
  geo_timezone: string | null;
  geo_source: "cf" | "header" | "none";
}

type Cf = { country?: unknown; region?: unknown; city?: unknown; timezone?: unknown; asn?: unknown; colo?: unknown; postalCode?: unknown } | undefined;

/**
 * wrangler dev / Miniflare without network access put a fixed placeholder into request.cf (Austin,
 * Texas, Cloudflare's own ASN). Recording that as the visitor's location would be wrong.
 */
const isLocalPlaceholder = (cf: Cf) => cf?.asn === 395747 && cf?.colo === "DFW" && cf?.postalCode === "78701";
const s = (v: unknown) => (typeof v === "string" && v && v !== "XX" && v !== "T1" ? v : null);

export function geoFrom(req: Request, trustHeader: boolean): Geo {
  const cf = (req as unknown as { cf?: Cf }).cf;
  const country = isLocalPlaceholder(cf) ? null : s(cf?.country);
  if (country) {
    return { geo_country: country, geo_region: s(cf?.region), geo_city: s(cf?.city), geo_timezone: s(cf?.timezone), geo_source: "cf" };
  }
  const sent = trustHeader ? req.headers.get("cf-ipcountry")?.toUpperCase() : undefined;
  const header = sent && /^[A-Z]{2}$/.test(sent) ? s(sent) : null;
  if (header) return { geo_country: header, geo_region: null, geo_city: null, geo_timezone: null, geo_source: "header" };
  return { geo_country: null, geo_region: null, geo_city: null, geo_timezone: null, geo_source: "none" };
}
