/**
 * Deterministic, realistic trace data for benchmarks: ~1 KB per trace, many resources, users and
 * source IPs, few services and ratings, `time` increasing through the window like real traffic.
 */
import type { ReportedTrace } from '../../src/domain/traces/schema';

/** A small, fast seeded PRNG (mulberry32): the same seed gives the same data set. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SERVICES: Array<[string, number, string[]]> = [
  ['ECS', 20, ['ecs', 'flavor', 'keypair']],
  ['EVS', 12, ['evs', 'snapshot']],
  ['VPC', 12, ['vpc', 'subnet', 'eip', 'securityGroup']],
  ['IAM', 10, ['user', 'login', 'role', 'policy']],
  ['OBS', 9, ['bucket', 'object']],
  ['RDS', 6, ['instance', 'backup']],
  ['CCE', 5, ['cluster', 'node']],
  ['ELB', 4, ['loadbalancer', 'listener']],
  ['DNS', 4, ['zone', 'recordset']],
  ['KMS', 3, ['key']],
  ['CTS', 3, ['tracker', 'notification']],
  ['AS', 3, ['group', 'config']],
  ['SMN', 2, ['topic']],
  ['DCS', 2, ['instance']],
  ['DMS', 1, ['queue']],
  ['CBR', 1, ['vault']],
  ['WAF', 1, ['policy']],
  ['AOM', 1, ['pe']],
];
const VERBS = ['create', 'update', 'delete', 'start', 'stop', 'attach', 'detach', 'resize'];
const CODES: Array<[string, number]> = [
  ['200', 70],
  ['201', 8],
  ['202', 6],
  ['204', 5],
  ['400', 4],
  ['403', 2],
  ['404', 2],
  ['409', 1],
  ['500', 1],
  ['503', 1],
];

export const CARDINALITY = { users: 5_000, ips: 20_000, resources: 200_000 };

function weighted<T>(items: Array<[T, number]>): (u: number) => T {
  const total = items.reduce((sum, [, w]) => sum + w, 0);
  return (u) => {
    let x = u * total;
    for (const [item, w] of items) {
      x -= w;
      if (x < 0) return item;
    }
    return items[items.length - 1]![0];
  };
}

const pickService = weighted(SERVICES.map((s) => [s, s[1]] as [(typeof SERVICES)[number], number]));
const pickCode = weighted(CODES);
const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/** A skewed pick in [0, n): a few values are common, most are rare (like users and resources). */
const skewed = (u: number, n: number) => Math.floor(n * u * u * u);

/** A deterministic UUID-shaped id for entity `n` of a kind. */
export const entityId = (kind: number, n: number) =>
  `${hex(kind, 8)}-${hex(n & 0xffff, 4)}-4${hex((n >>> 16) & 0xfff, 3)}-8${hex(n % 4096, 3)}-${hex((n * 2654435761) >>> 0, 8)}${hex(n, 4).slice(-4)}`;

export const userName = (n: number) => `user-${String(n).padStart(5, '0')}`;
export const sourceIp = (n: number) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
export const resourceId = (n: number) => entityId(0x5e5, n);

export interface TraceStream {
  /** The next `n` traces (time increasing from `start` by ~`stepMs` each, small jitter). */
  take(n: number): ReportedTrace[];
}

/**
 * A stream of traces whose `time` walks from `start` in steps of about `stepMs`, so that
 * `count` traces spread over `count × stepMs` ms, as if they had been reported over that time.
 */
export function traceStream(seed: number, start: number, stepMs: number): TraceStream {
  const random = prng(seed);
  let time = start;
  let requestNo = 0;
  return {
    take(n) {
      const out: ReportedTrace[] = [];
      for (let i = 0; i < n; i++) {
        time += Math.floor(random() * 2 * stepMs);
        const [service, , resourceTypes] = pickService(random());
        const resourceType = resourceTypes[Math.floor(random() * resourceTypes.length)]!;
        const verb = VERBS[skewed(random(), VERBS.length)]!;
        const traceName = `${verb}${resourceType[0]!.toUpperCase()}${resourceType.slice(1)}`;
        const r = random();
        const rating = r < 0.9 ? 'normal' : r < 0.99 ? 'warning' : 'incident';
        const t = random();
        const traceType = t < 0.6 ? 'ApiCall' : t < 0.9 ? 'ConsoleAction' : 'SystemAction';
        const user = skewed(random(), CARDINALITY.users);
        const ip = skewed(random(), CARDINALITY.ips);
        const resource = skewed(random(), CARDINALITY.resources);
        const code = rating === 'normal' ? pickCode(random() * 0.8) : pickCode(0.8 + random() * 0.2);
        requestNo++;
        // Request ids are random, like the UUIDs API gateways hand out.
        const requestId = `${hex((random() * 2 ** 32) >>> 0, 8)}${hex((random() * 2 ** 32) >>> 0, 8)}${hex(requestNo, 16)}`;
        const name = `${resourceType}-${resource}`;
        out.push({
          trace_name: traceName,
          trace_rating: rating,
          trace_type: traceType,
          service_type: service,
          resource_type: resourceType,
          resource_id: resourceId(resource),
          resource_name: name,
          time,
          tracker_name: 'system',
          user:
            traceType === 'SystemAction' && user % 2 === 0
              ? null
              : {
                  id: hex(user * 7919, 32),
                  name: userName(user),
                  domain: { id: hex(1, 32), name: 'acme' },
                },
          source_ip: traceType === 'SystemAction' ? null : sourceIp(ip),
          request_id: requestId,
          code,
          api_version: `v${1 + (resource % 3)}`,
          request: {
            [resourceType]: {
              name,
              description: `${verb} ${resourceType} requested through the ${traceType} channel`,
              flavorRef: `s${1 + (resource % 8)}.large.${1 + (resource % 4)}`,
              availability_zone: `az${1 + (resource % 3)}.dc1`,
              tags: [
                { key: 'env', value: resource % 5 === 0 ? 'prod' : 'dev' },
                { key: 'owner', value: userName(user) },
                { key: 'cost-center', value: `cc-${resource % 97}` },
              ],
              metadata: { requested_by: userName(user), client: 'cts-bench/1.0 (linux; x64)' },
            },
          },
          response:
            code < '300'
              ? {
                  status: 'SUCCESS',
                  job_id: entityId(0x10b, requestNo),
                  entities: { id: resourceId(resource) },
                }
              : { error: { code: `${service}.0${code}`, message: `The request failed with HTTP ${code}.` } },
          message: null,
          location_info: code < '300' ? null : `${service}.${code}: see job ${hex(requestNo, 8)}`,
          endpoint: `https://console.example.com/${service.toLowerCase()}`,
          resource_url: `/${resourceType}/${resourceId(resource)}/detail`,
        });
      }
      return out;
    },
  };
}
