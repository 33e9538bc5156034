/**
 * Consent travels with every event. Segment's consent object is context.consent.categoryPreferences
 * ({ Analytics: true, Advertising: false, … }); the analytics category name is configurable.
 */
export interface Consent {
  analytics: boolean | null;
  preferences: Record<string, boolean>;
}

export function consentOf(context: Record<string, unknown> | undefined, category: string): Consent {
  const consent = context?.consent as { categoryPreferences?: Record<string, unknown> } | undefined;
  const prefs = consent?.categoryPreferences;
  if (!prefs || typeof prefs !== "object") return { analytics: null, preferences: {} };
  const preferences: Record<string, boolean> = {};
  let analytics: boolean | null = null;
  const wanted = category.toLowerCase();
  for (const k in prefs) {
    const v = (prefs as Record<string, unknown>)[k];
    if (typeof v !== "boolean") continue;
    preferences[k] = v;
    if (k.length === wanted.length && k.toLowerCase() === wanted) analytics = v;
  }
  return { analytics, preferences };
}

/** Device and advertising ids that identify a person, removed together with user ids. */
const CONTEXT_IDENTIFIERS = ["traits", "ip", "device.id", "device.advertisingId", "device.adTrackingEnabled", "externalIds"];

export function stripContextIdentifiers(context: Record<string, unknown>): void {
  for (const path of CONTEXT_IDENTIFIERS) {
    const [a, b] = path.split(".") as [string, string | undefined];
    if (b === undefined) delete context[a];
    else if (context[a] && typeof context[a] === "object") delete (context[a] as Record<string, unknown>)[b];
  }
}
