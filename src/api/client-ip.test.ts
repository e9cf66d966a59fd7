import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config';
import { canonicalCidr, normalizeIp, resolveClientIp } from './client-ip';

const TRUSTED = parseConfig({ CTS_TRUSTED_PROXIES: '127.0.0.1, 10.0.0.0/8,fd00::/8' }).CTS_TRUSTED_PROXIES;
const headers = (values: Record<string, string>) => (name: string) => values[name];

describe('client IP', () => {
  it('is the peer when no proxy is trusted, whatever the headers claim', () => {
    const claims = headers({
      'x-forwarded-for': '8.8.8.8',
      'x-real-ip': '8.8.4.4',
      'cf-connecting-ip': '1.1.1.1',
    });
    expect(resolveClientIp('203.0.113.5', claims, [])).toBe('203.0.113.5');
    expect(resolveClientIp('203.0.113.5', claims, TRUSTED)).toBe('203.0.113.5'); // untrusted peer
    expect(resolveClientIp(undefined, claims, TRUSTED)).toBeNull();
  });

  it('from a trusted peer: the right-most X-Forwarded-For hop that is not a trusted proxy', () => {
    const via = (xff: string) => resolveClientIp('127.0.0.1', headers({ 'x-forwarded-for': xff }), TRUSTED);
    expect(via('198.51.100.7')).toBe('198.51.100.7');
    expect(via('6.6.6.6, 198.51.100.7, 10.1.2.3')).toBe('198.51.100.7'); // 6.6.6.6 was the client's claim
    expect(via('10.0.0.1, 10.0.0.2')).toBe('10.0.0.1'); // all trusted: the left-most
    expect(via('garbage, 10.0.0.2')).toBe('10.0.0.2'); // an unparsable hop ends the walk
    expect(via(' 2001:db8::1 ')).toBe('2001:db8::1');
    expect(via('::ffff:198.51.100.4')).toBe('198.51.100.4');
    expect(via('[2001:db8::2]')).toBe('2001:db8::2');
  });

  it('from a trusted peer without X-Forwarded-For: X-Real-IP, then CF-Connecting-IP, then the peer', () => {
    expect(
      resolveClientIp(
        '10.9.9.9',
        headers({ 'x-real-ip': '192.0.2.1', 'cf-connecting-ip': '192.0.2.2' }),
        TRUSTED,
      ),
    ).toBe('192.0.2.1');
    expect(resolveClientIp('10.9.9.9', headers({ 'cf-connecting-ip': '2001:db8::3' }), TRUSTED)).toBe(
      '2001:db8::3',
    );
    expect(resolveClientIp('fd00::1', headers({ 'x-real-ip': 'not an ip' }), TRUSTED)).toBe('fd00::1');
  });

  it('records IPv4-mapped IPv6 peers as IPv4, IPv6 canonically', () => {
    expect(normalizeIp('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(normalizeIp('2001:0db8:0000::0001')).toBe('2001:db8::1');
    expect(normalizeIp('fe80::1%eth0')).toBe('fe80::1');
    expect(normalizeIp(`1.2.3.4\t${'9'.repeat(3000)}`)).toBeNull();
    expect(resolveClientIp('::ffff:10.1.1.1', headers({ 'x-forwarded-for': '192.0.2.9' }), TRUSTED)).toBe(
      '192.0.2.9',
    );
  });

  it('configuration: CIDRs and single addresses, IPv4 and IPv6; anything else is refused', () => {
    expect(TRUSTED).toEqual(['127.0.0.1/32', '10.0.0.0/8', 'fd00::/8']);
    expect(canonicalCidr('::1')).toBe('::1/128');
    expect(parseConfig({}).CTS_TRUSTED_PROXIES).toEqual([]);
    for (const bad of ['10.0.0.0/33', 'example.com', '10.0.0.0/8,,fd00::/129', '1.2.3']) {
      expect(() => parseConfig({ CTS_TRUSTED_PROXIES: bad }), bad).toThrow(/CTS_TRUSTED_PROXIES/);
    }
  });
});
