// `pnpm purge --check`: asks every server instance whether any session needed the store's S3 keys during the
// last window, and turns the answers into one verdict an operator can act on.
import { describeSeconds, formatCount } from '../cli-common';
import { METRIC, readKeysMetrics } from './check-metrics';
import type { KeysMetrics } from './check-metrics';

export type CheckVerdict = 'safe' | 'not_yet' | 'unknown';

/** Why one instance holds the purge back, if it does. */
export type InstanceFinding = 'unreadable' | 'store_needed' | 'restarted' | 'no_traffic' | 'clear';

export interface InstanceReport {
  /** The metrics URL without credentials. */
  url: string;
  finding: InstanceFinding;
  /** Set when the metrics could not be read. */
  error: string | null;
  /** Seconds the server process has been up, by its own clock. */
  uptimeSeconds: number | null;
  /** Seconds since a session without an s3 cookie last took keys from the store; null: not since start. */
  noCookieAgoSeconds: number | null;
  /** Seconds since a rejected s3 cookie last made a request fall back to the store; null: not since start. */
  cookieRejectedAgoSeconds: number | null;
  /** Seconds since any request last needed S3 keys; null: none since start. */
  lookupAgoSeconds: number | null;
  /** Counters since the server started. */
  sinceStart: KeysMetrics['sources'] & KeysMetrics['fallbacks'];
}

export interface CheckReport {
  verdict: CheckVerdict;
  windowSeconds: number;
  instances: InstanceReport[];
  message: string;
}

/** A URL fit for output: any user name or password is removed. */
export function displayUrl(raw: string): string {
  try {
    const url = new URL(raw);
    url.username = '';
    url.password = '';
    return url.toString();
  } catch {
    return '(unparseable URL)';
  }
}

interface Scrape {
  text: string;
  /** The server's clock when it answered (its Date header), in Unix seconds; else ours. */
  nowSeconds: number;
}

async function scrape(url: string, options: CheckOptions): Promise<Scrape> {
  const response = await (options.fetch ?? fetch)(url, {
    signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
    headers: {
      accept: 'text/plain',
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
  });
  if (!response.ok) throw new Error(`answered HTTP ${response.status}`);
  const text = await response.text();
  const date = Date.parse(response.headers.get('date') ?? '');
  // The server's own clock, so that a skew between this machine and the server does not move the window.
  const nowSeconds = Number.isFinite(date) ? date / 1000 : (options.now ?? Date.now)() / 1000;
  return { text, nowSeconds };
}

function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === 'TimeoutError') return 'no answer in time';
  return error.cause instanceof Error ? error.cause.message : error.message;
}

/** One instance's finding from its metrics, over the window ending at the server's `nowSeconds`. */
export function judgeInstance(
  url: string,
  metrics: KeysMetrics,
  nowSeconds: number,
  windowSeconds: number,
): InstanceReport {
  const ago = (time: number | null): number | null => (time === null ? null : Math.max(0, nowSeconds - time));
  const uptimeSeconds = Math.max(0, nowSeconds - metrics.processStart);
  const noCookieAgoSeconds = ago(metrics.lastFallback.no_cookie);
  const lookupAgoSeconds = ago(metrics.lastLookup);
  let finding: InstanceFinding = 'clear';
  if (noCookieAgoSeconds !== null && noCookieAgoSeconds <= windowSeconds) finding = 'store_needed';
  else if (uptimeSeconds < windowSeconds) finding = 'restarted';
  else if (lookupAgoSeconds === null || lookupAgoSeconds > windowSeconds) finding = 'no_traffic';
  return {
    url,
    finding,
    error: null,
    uptimeSeconds,
    noCookieAgoSeconds,
    cookieRejectedAgoSeconds: ago(metrics.lastFallback.cookie_rejected),
    lookupAgoSeconds,
    sinceStart: { ...metrics.sources, ...metrics.fallbacks },
  };
}

function unreadable(url: string, error: string): InstanceReport {
  return {
    url,
    finding: 'unreadable',
    error,
    uptimeSeconds: null,
    noCookieAgoSeconds: null,
    cookieRejectedAgoSeconds: null,
    lookupAgoSeconds: null,
    sinceStart: { cookie: 0, store: 0, none: 0, no_cookie: 0, cookie_rejected: 0 },
  };
}

function describeInstance(report: InstanceReport, windowSeconds: number): string {
  const window = describeSeconds(windowSeconds);
  const counts = report.sinceStart;
  const tally =
    `since it started: ${formatCount(counts.cookie)} from the cookie, ${formatCount(counts.no_cookie)} from the ` +
    `store without a cookie, ${formatCount(counts.cookie_rejected)} from the store after a rejected cookie, ` +
    `${formatCount(counts.none)} with no keys`;
  switch (report.finding) {
    case 'unreadable':
      return `${report.url}: could not be read (${report.error ?? 'unknown error'})`;
    case 'store_needed':
      return (
        `${report.url}: a session without an s3 cookie took its keys from the store ` +
        `${describeSeconds(report.noCookieAgoSeconds ?? 0)} ago (${tally})`
      );
    case 'restarted':
      return (
        `${report.url}: started ${describeSeconds(report.uptimeSeconds ?? 0)} ago, within the ${window} window: ` +
        `what happened before that is unknown (${tally})`
      );
    case 'no_traffic':
      return `${report.url}: no request needed S3 keys in the last ${window} (${tally})`;
    case 'clear': {
      const rejected =
        report.cookieRejectedAgoSeconds !== null && report.cookieRejectedAgoSeconds <= windowSeconds
          ? `; a rejected s3 cookie fell back to the store ${describeSeconds(report.cookieRejectedAgoSeconds)} ago, which the purge does not change`
          : '';
      return (
        `${report.url}: no session needed the store's keys in the last ${window}; the last request that needed ` +
        `keys was ${describeSeconds(report.lookupAgoSeconds ?? 0)} ago${rejected} (${tally})`
      );
    }
  }
}

/** The verdict over every instance, and the words that say what to do next. */
export function judge(instances: InstanceReport[], windowSeconds: number): CheckReport {
  const window = describeSeconds(windowSeconds);
  const has = (finding: InstanceFinding): boolean => instances.some((i) => i.finding === finding);
  const details = instances.map((i) => `  - ${describeInstance(i, windowSeconds)}`).join('\n');
  const scope =
    `Checked ${instances.length} instance${instances.length === 1 ? '' : 's'}: ` +
    'every server that takes traffic must be named with --metrics-url.';
  let verdict: CheckVerdict;
  let headline: string;
  if (has('unreadable')) {
    verdict = 'unknown';
    headline = 'UNKNOWN: the metrics of some instance could not be read, so no verdict can be given.';
  } else if (has('store_needed')) {
    verdict = 'not_yet';
    headline =
      `NOT YET: in the last ${window} a session without an s3 cookie took its keys from the store. Purging ` +
      'now would force those patrons to log in again. Each such request moves its session to the cookie: ' +
      'check again later.';
  } else if (has('restarted')) {
    verdict = 'not_yet';
    headline =
      `NOT YET: a server started within the ${window} window, so it cannot vouch for all of it. Check again ` +
      `once every server has been up for ${window}.`;
  } else if (instances.every((i) => i.finding === 'no_traffic')) {
    verdict = 'not_yet';
    headline =
      `NOT YET: no request needed S3 keys in the last ${window} on any instance: no evidence either way. ` +
      'Check again after some traffic, or over a longer --window.';
  } else {
    verdict = 'safe';
    headline =
      `SAFE: no session needed the store's keys in the last ${window} on any instance. Purging now logs out ` +
      'nobody who used the site in that time.';
  }
  return { verdict, windowSeconds, instances, message: `${headline}\n${details}\n${scope}` };
}

export interface CheckOptions {
  fetch?: typeof fetch;
  /** The servers' METRICS_TOKEN: sent as `Authorization: Bearer`, never printed. */
  token?: string | undefined;
  timeoutMs?: number;
  /** Milliseconds since the epoch, when a server sends no Date header. */
  now?: () => number;
}

export async function checkPurgeSafety(
  metricsUrls: readonly string[],
  windowSeconds: number,
  options: CheckOptions = {},
): Promise<CheckReport> {
  const instances = await Promise.all(
    metricsUrls.map(async (url): Promise<InstanceReport> => {
      const shown = displayUrl(url);
      let scraped: Scrape;
      try {
        scraped = await scrape(url, options);
      } catch (error) {
        return unreadable(shown, reasonOf(error));
      }
      const metrics = readKeysMetrics(scraped.text);
      if ('missing' in metrics) {
        return unreadable(
          shown,
          `it has no ${metrics.missing} metric: is it a Lending server's /metrics, of a version that exports ${METRIC.fallbackLast}?`,
        );
      }
      return judgeInstance(shown, metrics, scraped.nowSeconds, windowSeconds);
    }),
  );
  return judge(instances, windowSeconds);
}
