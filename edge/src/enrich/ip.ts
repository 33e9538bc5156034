/**
 * Client IPs are never stored raw (DESIGN.md, PII by design): truncated to the network
 * (/24 for IPv4, /48 for IPv6), keyed-hashed, or dropped, per IP_MODE.
 */
import { keyedHash } from "./hash.js";

function expandIpv6(ip: string): string[] | null {
  const zone = ip.indexOf("%");
  const addr = (zone >= 0 ? ip.slice(0, zone) : ip).toLowerCase();
  const halves = addr.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  // An embedded IPv4 tail (::ffff:1.2.3.4) counts as two groups.
  const last = tail.length ? tail[tail.length - 1]! : head[head.length - 1];
  const v4 = last && last.includes(".") ? 1 : 0;
  const missing = 8 - head.length - tail.length - v4;
  if (halves.length === 1 && missing !== 0) return null;
  if (missing < 0) return null;
  const groups = [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  return groups.every((g) => /^[0-9a-f]{1,4}$/.test(g) || g.includes(".")) ? groups : null;
}

export function truncateIp(ip: string): string | null {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (v4) return v4.slice(1, 4).every((o) => Number(o) <= 255) ? `${v4[1]}.${v4[2]}.${v4[3]}.0` : null;
  const groups = expandIpv6(ip);
  if (!groups) return null;
  return `${groups.slice(0, 3).map((g) => g.replace(/^0+(?=.)/, "")).join(":")}::`;
}

export type IpMode = "truncate" | "hash" | "drop";

export function anonymizeIp(ip: string | null | undefined, mode: IpMode, key: string | undefined): string | null {
  if (!ip || mode === "drop") return null;
  if (mode === "hash") {
    if (!key) throw new Error("IP_MODE=hash needs the IP_HASH_KEY secret");
    return keyedHash(key, ip.trim());
  }
  return truncateIp(ip.trim());
}
