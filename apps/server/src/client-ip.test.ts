import { describe, expect, it } from 'vitest';
import { LOOPBACK_PROXIES, clientAddress, networkOf, parseProxyList } from './client-ip';
import type { ProxyTrust } from './client-ip';

const list = (value: string): ProxyTrust => ({ mode: 'list', ...parseProxyList(value) });

describe('networkOf', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
    ['2001:0DB8:0001:0002:ffff:ffff:ffff:ffff', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1:2:3:4', 'fe80:0:0:0::/64'],
    ['2001:db8:a:b:c::', '2001:db8:a:b::/64'],
  ])('%s is counted in %s', (ip, network) => {
    expect(networkOf(ip)).toBe(network);
  });
});

describe('clientAddress', () => {
  it('ignores X-Forwarded-For without trust', () => {
    expect(clientAddress({ mode: 'none' }, '198.51.100.1', '1.2.3.4')).toBe('198.51.100.1');
  });

  it('walks X-Forwarded-For from the right only through listed proxies', () => {
    const trust = list('10.0.0.0/8, 127.0.0.1');
    expect(clientAddress(trust, '127.0.0.1', '6.6.6.6, 203.0.113.5, 10.1.2.3')).toBe('203.0.113.5');
    // A peer that is not a listed proxy is the client, whatever it claims.
    expect(clientAddress(trust, '198.51.100.9', '203.0.113.5')).toBe('198.51.100.9');
    expect(clientAddress(trust, '::ffff:127.0.0.1', '203.0.113.6')).toBe('203.0.113.6');
    // Garbage stops the walk at the last address a proxy vouched for.
    expect(clientAddress(trust, '127.0.0.1', 'not-an-ip, 10.0.0.9')).toBe('10.0.0.9');
  });

  it('counts PROXY_HOPS entries from the right', () => {
    const trust: ProxyTrust = { mode: 'hops', hops: 1 };
    expect(clientAddress(trust, '10.0.0.1', 'spoofed, 203.0.113.5')).toBe('203.0.113.5');
    expect(clientAddress({ mode: 'hops', hops: 3 }, '10.0.0.1', '203.0.113.5')).toBe('203.0.113.5');
  });

  it('trusts loopback by default', () => {
    const trust = list(LOOPBACK_PROXIES);
    expect(clientAddress(trust, '::1', '203.0.113.5')).toBe('203.0.113.5');
    expect(clientAddress(trust, '127.0.0.9', '2001:db8::5')).toBe('2001:db8::5');
  });

  it('refuses a bad proxy list naming the entry', () => {
    expect(() => parseProxyList('10.0.0.1, proxy.example')).toThrow(/proxy\.example/);
    expect(() => parseProxyList('10.0.0.0/33')).toThrow(/prefix/);
  });
});
