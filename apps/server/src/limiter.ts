// Login throttling that protects patrons instead of locking them out. Only failures count (a success refunds what
// its check reserved), and a refused attempt spends nothing. Before each attempt, in order:
//   1. pair: repeated failures of one (subject, network) pair wait an exponentially growing delay;
//   2. site: when failures across the whole site exceed a rate (password spraying from many addresses), only
//      networks where a patron logged in recently may try;
//   3. network: failures per network (an IPv4 address, or an IPv6 /64) in a window;
//   4. subject: failures per email or access key across all networks in a window, except from a network where
//      that subject logged in recently (so an attacker spread over many addresses cannot lock the patron out).
// The counters live in a LimitStore (Redis, PostgreSQL or memory), shared by every instance that uses it.
import { createHmac } from 'node:crypto';
import type { LimitDecision, LimitKind, LimitedAttempt, LoginLimiter } from '@lending/api';
import { networkOf } from './client-ip';
import { MemoryLimitStore } from './limit-store';
import type { LimitStore } from './limit-store';

export interface LoginLimits {
  /** Failures per network (IPv4 address or IPv6 /64) per window. */
  perIp: number;
  /** Failures per subject (email, access key) per window, from networks it has not logged in from. */
  perEmail: number;
  /** Seconds: the window of the per-network and per-subject counters. */
  windowSeconds: number;
  /** Failures of one (subject, network) pair before each further one waits (1 s, then doubling). */
  pairFreeFailures: number;
  /** Seconds: the longest wait of a pair. */
  pairMaxDelaySeconds: number;
  /** Failures across the site per `siteWindowSeconds` above which only known networks may try. */
  siteFailures: number;
  siteWindowSeconds: number;
  /** Seconds a successful login makes its network (and its subject on that network) known. */
  knownSeconds: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = {
  perIp: 10,
  perEmail: 50,
  windowSeconds: 600,
  pairFreeFailures: 3,
  pairMaxDelaySeconds: 300,
  siteFailures: 50,
  siteWindowSeconds: 60,
  knownSeconds: 30 * 86_400,
};

export interface LimiterEvents {
  decision(kind: LimitKind, decision: 'allowed' | 'refused', reason: string): void;
}

/** The wait after the `failures`-th failure of a pair, in milliseconds (0 while under the free count). */
export function pairDelayMs(limits: LoginLimits, failures: number): number {
  const over = failures - limits.pairFreeFailures;
  if (over <= 0) return 0;
  return Math.min(limits.pairMaxDelaySeconds, 2 ** Math.min(over - 1, 30)) * 1000;
}

const seconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

export function createLoginLimiter(
  overrides: Partial<LoginLimits> = {},
  options: { store?: LimitStore; secret?: string; events?: LimiterEvents } = {},
): LoginLimiter {
  const limits: LoginLimits = { ...DEFAULT_LOGIN_LIMITS, ...overrides };
  const store = options.store ?? new MemoryLimitStore();
  const secret = options.secret ?? 'lending-login-limits';
  const windowMs = limits.windowSeconds * 1000;
  const pairWindowMs = Math.max(windowMs, limits.pairMaxDelaySeconds * 4000);
  const knownMs = limits.knownSeconds * 1000;
  const events = options.events;

  // Subjects (emails, access keys) are kept only as a keyed hash: a store dump names no patron.
  const hash = (kind: LimitKind, subject: string): string =>
    createHmac('sha256', secret)
      .update(`${kind}\0${subject.trim().toLowerCase()}`)
      .digest('base64url')
      .slice(0, 22);

  return {
    async check(kind, ip, subject): Promise<LimitDecision> {
      const net = networkOf(ip);
      const who = `${kind}:${hash(kind, subject)}`;
      const keys = {
        network: `net:${net}`,
        subject: `sub:${who}`,
        pair: `pair:${who}:${net}`,
        pairWait: `wait:${who}:${net}`,
        site: 'site',
        knownNetwork: `known:${net}`,
        knownPair: `known:${who}:${net}`,
      };
      const refuse = (reason: 'network' | 'pair' | 'subject' | 'site', ms: number): LimitDecision => {
        events?.decision(kind, 'refused', reason);
        return { allowed: false, retryAfterSeconds: seconds(ms), reason };
      };

      const [pairWait, site, knownNetwork, knownPair] = await store.read([
        keys.pairWait,
        keys.site,
        keys.knownNetwork,
        keys.knownPair,
      ]);
      if (pairWait!.count > 0) return refuse('pair', pairWait!.msLeft);
      if (site!.count >= limits.siteFailures && knownNetwork!.count === 0)
        return refuse('site', site!.msLeft);
      const network = await store.take(keys.network, limits.perIp, windowMs);
      if (!network.ok) return refuse('network', network.msLeft);
      let subjectTaken = false;
      if (knownPair!.count === 0) {
        const taken = await store.take(keys.subject, limits.perEmail, windowMs);
        if (!taken.ok) {
          // Refused: the network's reservation is given back, so a refusal spends nothing.
          await store.give(keys.network);
          return refuse('subject', taken.msLeft);
        }
        subjectTaken = true;
      }
      events?.decision(kind, 'allowed', 'none');

      let ended = false;
      const once = (fn: () => Promise<void>) => async () => {
        if (ended) return;
        ended = true;
        await fn();
      };
      const refund = async () => {
        await Promise.all([store.give(keys.network), subjectTaken ? store.give(keys.subject) : undefined]);
      };
      const attempt: LimitedAttempt = {
        fail: once(async () => {
          const [pair] = await Promise.all([
            store.add(keys.pair, pairWindowMs),
            store.add(keys.site, limits.siteWindowSeconds * 1000),
          ]);
          const wait = pairDelayMs(limits, pair.count);
          if (wait > 0) await store.put(keys.pairWait, wait);
        }),
        succeed: once(async () => {
          await Promise.all([
            refund(),
            store.remove([keys.pair, keys.pairWait]),
            store.put(keys.knownNetwork, knownMs),
            store.put(keys.knownPair, knownMs),
          ]);
        }),
        release: once(refund),
      };
      return { allowed: true, attempt };
    },
  };
}
