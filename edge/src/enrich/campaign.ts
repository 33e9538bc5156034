/**
 * Campaign attribution: Segment's context.campaign when the SDK filled it, else the utm_* and ad
 * click-id parameters of the page URL.
 */
import type { ParsedUrl } from "./url.js";

export interface Campaign {
  campaign_source: string | null;
  campaign_medium: string | null;
  campaign_name: string | null;
  campaign_term: string | null;
  campaign_content: string | null;
  campaign_click_id: string | null;
}

/** Ad platforms' click ids, checked in this order. */
export const CLICK_ID_PARAMS = ["gclid", "gbraid", "wbraid", "dclid", "fbclid", "msclkid", "ttclid", "twclid", "li_fat_id", "epik", "rdt_cid"] as const;

const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : null);

const NONE: Campaign = {
  campaign_source: null,
  campaign_medium: null,
  campaign_name: null,
  campaign_term: null,
  campaign_content: null,
  campaign_click_id: null,
};
/** Per parsed page URL (ParsedUrl objects are themselves memoized per URL string). */
const fromUrl = new WeakMap<ParsedUrl, Campaign>();

export function campaignFrom(ctxCampaign: Record<string, unknown> | undefined, page: ParsedUrl | null): Campaign {
  if (!ctxCampaign) {
    if (!page?.params) return NONE;
    let hit = fromUrl.get(page);
    if (!hit) fromUrl.set(page, (hit = compute(undefined, page)));
    return hit;
  }
  return compute(ctxCampaign, page);
}

function compute(ctxCampaign: Record<string, unknown> | undefined, page: ParsedUrl | null): Campaign {
  const p = page?.params;
  const get = (k: string) => (p ? p.get(k) || null : null);
  let click: string | null = null;
  if (p) {
    for (const k of CLICK_ID_PARAMS) {
      const v = p.get(k);
      if (v) {
        click = `${k}:${v}`;
        break;
      }
    }
  }
  const c = ctxCampaign ?? {};
  return {
    campaign_source: str(c.source) ?? get("utm_source"),
    campaign_medium: str(c.medium) ?? get("utm_medium"),
    campaign_name: str(c.name) ?? str(c.campaign) ?? get("utm_campaign"),
    campaign_term: str(c.term) ?? get("utm_term"),
    campaign_content: str(c.content) ?? get("utm_content"),
    campaign_click_id: click,
  };
}
