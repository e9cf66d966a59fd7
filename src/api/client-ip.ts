import type { Context } from 'hono';
import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Range = [Address, number];

/**
 * An address in the usual notation only: ipaddr.js also reads legacy IPv4 forms (`1.2.3`,
 * `0x7f.1`) that no proxy writes. IPv4-mapped IPv6 becomes IPv4. Null when not an address.
 */
function parseIp(text: string): Address | null {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  if (!text.includes(':') || !ipaddr.IPv6.isValid(text)) return null;
  const v6 = ipaddr.IPv6.parse(text);
  return v6.isIPv4MappedAddress() ? v6.toIPv4Address() : v6;
}

/**
 * One `CTS_TRUSTED_PROXIES` entry (`10.0.0.0/8`, `fd00::/8`, or a single address) in canonical
 * CIDR form; throws a message fit for the configuration error when it is not one.
 */
export function canonicalCidr(entry: string): string {
  const text = entry.trim();
  const [addressText = '', bits, ...rest] = text.split('/');
  const address = parseIp(addressText);
  const max = address?.kind() === 'ipv4' ? 32 : 128;
  const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : Number.NaN;
  if (!address || rest.length > 0 || !(prefix >= 0 && prefix <= max))
    throw new Error(`"${text}" is not an IPv4/IPv6 address or CIDR`);
  return `${address.toString()}/${prefix}`;
}

/** An address as recorded: canonical text, an IPv4-mapped IPv6 address as plain IPv4; else null. */
export function normalizeIp(text: string | null | undefined): string | null {
  if (!text) return null;
  const trimmed = text.trim().replace(/^\[(.*)\]$/, '$1');
  // A zone (`fe80::1%eth0`) names a local interface, not part of the client's address.
  return parseIp(trimmed.replace(/%[\w.-]+$/, ''))?.toString() ?? null;
}

const compiled = new Map<string, Range[]>();

function rangesOf(cidrs: readonly string[]): Range[] {
  const key = cidrs.join(',');
  let ranges = compiled.get(key);
  if (!ranges) {
    ranges = cidrs.map((cidr) => ipaddr.parseCIDR(cidr));
    compiled.set(key, ranges);
  }
  return ranges;
}

function isTrusted(address: string, ranges: Range[]): boolean {
  const parsed = parseIp(address);
  if (!parsed) return false;
  return ranges.some(([range, bits]) => parsed.kind() === range.kind() && parsed.match(range, bits));
}

/**
 * The client's address from the TCP peer (`peer`) and, only when the peer is a trusted proxy,
 * the forwarding headers it set:
 * - `X-Forwarded-For`: walked from the right (each proxy appends the address it saw), the first
 *   hop that is not itself a trusted proxy is the client; an unparsable hop ends the walk at the
 *   last good one (what lies left of it was written by someone we do not trust);
 * - else `X-Real-IP`, else `CF-Connecting-IP`;
 * - else the peer itself. A client cannot name another address: without a trusted peer, the
 *   headers are not read at all.
 */
export function resolveClientIp(
  peer: string | null | undefined,
  header: (name: string) => string | undefined,
  trustedProxies: readonly string[],
): string | null {
  const address = normalizeIp(peer);
  if (!address || trustedProxies.length === 0) return address;
  const ranges = rangesOf(trustedProxies);
  if (!isTrusted(address, ranges)) return address;
  const forwarded = header('x-forwarded-for');
  if (forwarded) {
    let client = address;
    for (const hop of forwarded.split(',').reverse()) {
      const hopAddress = normalizeIp(hop);
      if (!hopAddress) break;
      client = hopAddress;
      if (!isTrusted(hopAddress, ranges)) break;
    }
    return client;
  }
  return normalizeIp(header('x-real-ip')) ?? normalizeIp(header('cf-connecting-ip')) ?? address;
}

/** The client address of a request, from the runtime's peer address (see `Deps.peerAddress`). */
export function clientIpOf(c: Context): string | null {
  const deps = c.get('deps');
  const peer = deps.peerAddress?.(c.req.raw, c.env);
  return resolveClientIp(peer, (name) => c.req.header(name), deps.config.CTS_TRUSTED_PROXIES);
}

/**
 * Whether the browser talks https to us: the request's own URL (Workers, a TLS listener), or
 * `X-Forwarded-Proto: https` set by a trusted proxy — never the header alone, which any client
 * can send (it decides the `Secure` flag of the console's cookies).
 */
export function isHttpsRequest(c: Context): boolean {
  if (new URL(c.req.url).protocol === 'https:') return true;
  if (c.req.header('x-forwarded-proto') !== 'https') return false;
  const deps = c.get('deps');
  const trusted = deps.config.CTS_TRUSTED_PROXIES;
  const peer = normalizeIp(deps.peerAddress?.(c.req.raw, c.env));
  return peer !== null && trusted.length > 0 && isTrusted(peer, rangesOf(trusted));
}
