/**
 * `topic_id`: where a notification is delivered. Either a webhook URL or the URN of a topic
 * defined in the service (`urn:smn:{region}:{project_id}:{name}` → a webhook URL).
 */

export const TOPIC_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$/;
const TOPIC_URN = /^urn:smn:([a-z0-9][a-z0-9-]{0,62}):([0-9a-f]{32}):([A-Za-z0-9][A-Za-z0-9_-]{0,254})$/;
const MAX_URL_LENGTH = 2048;

export const TOPIC_ID_MESSAGE =
  'must be an http(s) URL without credentials, or a topic URN urn:smn:{region}:{project_id}:{topic_name}';

export type TopicRef =
  | { kind: 'url'; url: string }
  | { kind: 'urn'; urn: string; region: string; projectId: string; name: string };

export const topicUrn = (region: string, projectId: string, name: string) =>
  `urn:smn:${region}:${projectId}:${name}`;

/** Parses a `topic_id`; undefined when it is neither a URN nor an acceptable webhook URL. */
export function parseTopicId(topicId: string): TopicRef | undefined {
  const urn = TOPIC_URN.exec(topicId);
  if (urn) return { kind: 'urn', urn: topicId, region: urn[1]!, projectId: urn[2]!, name: urn[3]! };
  return webhookUrlProblem(topicId, { allowPrivate: true }) ? undefined : { kind: 'url', url: topicId };
}

export const isTopicIdShape = (topicId: string) => parseTopicId(topicId) !== undefined;

/**
 * Why a webhook URL is refused, or undefined when it is acceptable. Only http(s); no user
 * name or password in the URL (they would be sent to, and logged by, every hop — a receiver
 * authenticates us by the signature instead); link-local addresses (cloud metadata services)
 * never; loopback and private addresses only when `allowPrivate`. Only literal addresses can
 * be checked: host names are resolved by the runtime's fetch (on Workers they cannot reach a
 * private network anyway).
 */
export function webhookUrlProblem(text: string, options: { allowPrivate: boolean }): string | undefined {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting them is the point
  if (text.length > MAX_URL_LENGTH || /[\s\u0000-\u001f\u007f]/.test(text)) {
    return `must be at most ${MAX_URL_LENGTH} characters without spaces or control characters`;
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'must be an absolute http(s) URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must use http or https';
  if (url.username || url.password) return 'must not contain a user name or password';
  const host = url.hostname.toLowerCase();
  if (!host) return 'must name a host';
  const scope = addressScope(host);
  if (scope === 'link-local') return 'must not point at a link-local address';
  if (!options.allowPrivate && (scope === 'private' || scope === 'loopback')) {
    return 'must not point at a loopback or private address (set CTS_WEBHOOK_ALLOW_PRIVATE=true to allow)';
  }
  return undefined;
}

type Scope = 'public' | 'private' | 'loopback' | 'link-local';

/** The scope of a literal IP host (or `localhost`); host names count as public. */
export function addressScope(host: string): Scope {
  if (host === 'localhost' || host.endsWith('.localhost')) return 'loopback';
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (v4) return ipv4Scope(v4.slice(1).map(Number));
  if (host.startsWith('[') && host.endsWith(']')) return ipv6Scope(host.slice(1, -1));
  return 'public';
}

function ipv4Scope([a = 0, b = 0]: number[]): Scope {
  if (a === 127 || a === 0) return 'loopback';
  if (a === 169 && b === 254) return 'link-local';
  if (
    a === 10 ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 100 && b >= 64 && b <= 127)
  ) {
    return 'private';
  }
  return 'public';
}

function ipv6Scope(address: string): Scope {
  // URL normalises IPv6 (lower case, compressed); an IPv4-mapped address is written in hex.
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(address);
  if (mapped) {
    const high = Number.parseInt(mapped[1]!, 16);
    return ipv4Scope([high >> 8, high & 255]);
  }
  if (address === '::1' || address === '::') return 'loopback';
  if (/^fe[89ab]/.test(address)) return 'link-local';
  if (/^f[cd]/.test(address)) return 'private';
  return 'public';
}
