// The client's address, and the network the limits count it in. Behind TRUST_PROXY only the configured proxies
// are believed: PROXY_HOPS (that many X-Forwarded-For entries, counted from the right) or TRUSTED_PROXIES (walk
// X-Forwarded-For from the right while the address it came from is a listed proxy). A client that reaches the
// server directly, outside that list, is counted by its own socket address whatever X-Forwarded-For it sends.
import net from 'node:net';
import type { Socket } from 'node:net';
import type { Middleware } from 'koa';

export type ProxyTrust =
  | { mode: 'none' }
  | { mode: 'hops'; hops: number }
  | { mode: 'list'; proxies: net.BlockList; description: string[] };

/** Parses `10.0.0.1, 10.1.0.0/16, ::1, fd00::/8` into a BlockList; throws naming the bad entry. */
export function parseProxyList(value: string): { proxies: net.BlockList; description: string[] } {
  const proxies = new net.BlockList();
  const description: string[] = [];
  for (const raw of value.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const [address = '', prefixText] = entry.split('/');
    const family = net.isIPv4(address) ? 'ipv4' : net.isIPv6(address) ? 'ipv6' : null;
    if (family === null) throw new Error(`"${entry}" is not an IP address or CIDR`);
    if (prefixText === undefined) {
      proxies.addAddress(address, family);
    } else {
      const prefix = Number(prefixText);
      const max = family === 'ipv4' ? 32 : 128;
      if (!/^\d+$/.test(prefixText) || prefix > max) throw new Error(`"${entry}" has a bad prefix length`);
      proxies.addSubnet(address, prefix, family);
    }
    description.push(entry);
  }
  if (description.length === 0) throw new Error('no address given');
  return { proxies, description };
}

/** Loopback only: what TRUST_PROXY=true trusts when neither PROXY_HOPS nor TRUSTED_PROXIES is set. */
export const LOOPBACK_PROXIES = '127.0.0.0/8, ::1';

/** `::ffff:1.2.3.4` -> `1.2.3.4`; anything that is not an IP address -> null. */
export function normalizeIp(value: string): string | null {
  let ip = value.trim();
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) ip = mapped[1]!;
  return net.isIP(ip) === 0 ? null : ip.toLowerCase();
}

function isTrusted(proxies: net.BlockList, ip: string): boolean {
  return proxies.check(ip, net.isIPv4(ip) ? 'ipv4' : 'ipv6');
}

/** Whether the peer that sent this request is one the configuration trusts to forward. */
export function peerIsTrustedProxy(trust: ProxyTrust, socketAddress: string): boolean {
  if (trust.mode === 'none') return false;
  if (trust.mode === 'hops') return true;
  const peer = normalizeIp(socketAddress);
  return peer !== null && isTrusted(trust.proxies, peer);
}

/** The client address of a request, from its socket and X-Forwarded-For, under `trust`. */
export function clientAddress(
  trust: ProxyTrust,
  socketAddress: string,
  forwardedFor: string | undefined,
): string {
  const peer = normalizeIp(socketAddress) ?? socketAddress;
  if (trust.mode === 'none' || !forwardedFor) return peer;
  const chain = forwardedFor.split(',').map((entry) => normalizeIp(entry));
  if (trust.mode === 'hops') {
    // The proxies appended the last `hops` entries; the one before the first of them is the client's.
    let client = peer;
    for (let hop = 0; hop < trust.hops && chain.length > 0; hop++) {
      const next = chain.pop();
      if (next === null || next === undefined) break; // garbage: keep the last address a proxy vouched for
      client = next;
    }
    return client;
  }
  let client = peer;
  while (isTrusted(trust.proxies, client) && chain.length > 0) {
    const next = chain.pop();
    if (next === null || next === undefined) break;
    client = next;
  }
  return client;
}

/** The network a client address is counted in: the address itself for IPv4, its /64 for IPv6. */
export function networkOf(ip: string): string {
  const normalized = normalizeIp(ip);
  if (normalized === null || net.isIPv4(normalized)) return normalized ?? ip;
  const [head = '', tail = ''] = normalized.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  // An embedded IPv4 tail (::1.2.3.4) takes two groups; only the first four groups matter here.
  const missing = 8 - left.length - right.length - (right.at(-1)?.includes('.') ? 1 : 0);
  const groups = normalized.includes('::') ? [...left, ...Array<string>(missing).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => (Number.parseInt(g, 16) || 0).toString(16))
    .join(':')}::/64`;
}

/**
 * Sets ctx.ip to the client address under `trust`, and drops the X-Forwarded-* headers of a peer that is not a
 * trusted proxy, so that neither the limits nor the Origin and HTTPS checks believe a direct client's claims.
 */
export function resolveClientIp(trust: ProxyTrust): Middleware {
  // A connection's peer does not change: checked once per socket, not on each of its requests.
  const trustedPeers = new WeakMap<object, boolean>();
  const trustedPeer = (socket: Socket, socketAddress: string): boolean => {
    let trusted = trustedPeers.get(socket);
    if (trusted === undefined) {
      trusted = peerIsTrustedProxy(trust, socketAddress);
      trustedPeers.set(socket, trusted);
    }
    return trusted;
  };
  return (ctx, next) => {
    const { socket } = ctx.req;
    const socketAddress = socket.remoteAddress ?? '';
    if (trust.mode !== 'none' && !trustedPeer(socket, socketAddress)) {
      for (const name of ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host'])
        delete ctx.req.headers[name];
    }
    const forwarded = ctx.req.headers['x-forwarded-for'];
    ctx.request.ip = clientAddress(
      trust,
      socketAddress,
      Array.isArray(forwarded) ? forwarded.join(',') : forwarded,
    );
    return next();
  };
}
