// `pnpm purge --check`: reads the server's /metrics and says whether requests still take S3 keys from the store.
// The counter's `source` label takes getS3Keys' S3KeysSource values.
import type { S3KeysSource } from '@lending/accounts';

export const KEYS_SOURCE_METRIC = 'lending_s3_keys_source_total';

export interface KeysSourceCounts {
  /** False when the text has no `lending_s3_keys_source_total` family at all. */
  found: boolean;
  counts: Record<S3KeysSource, number>;
  /** From prom-client's `process_start_time_seconds`, when present. */
  processStartSeconds: number | null;
}

export type CheckVerdict = 'safe' | 'not_yet';

export interface CheckReport {
  url: string;
  verdict: CheckVerdict;
  counts: Record<S3KeysSource, number>;
  uptimeSeconds: number | null;
  message: string;
}

export class MetricsUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetricsUnavailableError';
  }
}

function parseLabels(text: string): Map<string, string> {
  const labels = new Map<string, string>();
  for (const match of text.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"/g)) {
    labels.set(
      match[1] ?? '',
      (match[2] ?? '').replace(/\\(.)/g, (_all, ch: string) => (ch === 'n' ? '\n' : ch)),
    );
  }
  return labels;
}

/** Reads the key-source counters from Prometheus text exposition; series with extra labels are summed. */
export function parseKeysSourceMetrics(text: string): KeysSourceCounts {
  const counts: Record<S3KeysSource, number> = { cookie: 0, store: 0, none: 0 };
  let found = false;
  let processStartSeconds: number | null = null;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line.startsWith('#')) {
      if (new RegExp(`^#\\s+(TYPE|HELP)\\s+${KEYS_SOURCE_METRIC}\\s`).test(line)) found = true;
      continue;
    }
    const sample = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!sample) continue;
    const [, name, labelText, valueText] = sample;
    const value = Number(valueText);
    if (!Number.isFinite(value)) continue;
    if (name === 'process_start_time_seconds') processStartSeconds = value;
    if (name !== KEYS_SOURCE_METRIC) continue;
    found = true;
    const source = parseLabels(labelText ?? '').get('source');
    if (source === 'cookie' || source === 'store' || source === 'none') counts[source] += value;
  }
  return { found, counts, processStartSeconds };
}

function describeAge(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} days`;
}

export function judgeKeysSource(url: string, parsed: KeysSourceCounts, nowSeconds: number): CheckReport {
  const { counts } = parsed;
  const uptimeSeconds =
    parsed.processStartSeconds === null ? null : Math.max(0, nowSeconds - parsed.processStartSeconds);
  const since =
    uptimeSeconds === null
      ? 'since the server started'
      : `in the ${describeAge(uptimeSeconds)} since the server started`;
  const total = counts.cookie + counts.store + counts.none;
  const tally = `cookie ${counts.cookie}, store ${counts.store}, none ${counts.none}`;
  const caveat =
    'The counters are per server process and reset when it restarts: with several servers, check each one.';
  if (counts.store > 0) {
    return {
      url,
      verdict: 'not_yet',
      counts,
      uptimeSeconds,
      message:
        `NOT YET: ${counts.store} of ${total} requests that needed S3 keys ${since} still took them from the store ` +
        `(${tally}). Purging now would force those patrons to log in again. Each such request moves its session ` +
        `to the s3 cookie, so check again later and purge once the store count stops growing or the server ` +
        `has restarted and it stays at 0. ${caveat}`,
    };
  }
  if (total === 0) {
    return {
      url,
      verdict: 'not_yet',
      counts,
      uptimeSeconds,
      message:
        `NOT YET: no request has needed S3 keys ${since}, so there is no evidence either way (${tally}). ` +
        `Check again after some traffic. ${caveat}`,
    };
  }
  return {
    url,
    verdict: 'safe',
    counts,
    uptimeSeconds,
    message:
      `SAFE: none of the ${total} requests that needed S3 keys ${since} fell back to the store (${tally}). ` +
      `Purging now logs nobody out who has used the site in that time. ${caveat}`,
  };
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

export async function checkPurgeSafety(
  metricsUrl: string,
  options: { fetch?: typeof fetch; timeoutMs?: number; now?: () => number } = {},
): Promise<CheckReport> {
  const shown = displayUrl(metricsUrl);
  const doFetch = options.fetch ?? fetch;
  let text: string;
  try {
    const response = await doFetch(metricsUrl, {
      signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
      headers: { accept: 'text/plain' },
    });
    if (!response.ok) throw new MetricsUnavailableError(`${shown} answered HTTP ${response.status}`);
    text = await response.text();
  } catch (error) {
    if (error instanceof MetricsUnavailableError) throw error;
    const reason =
      error instanceof Error
        ? error.cause instanceof Error
          ? error.cause.message
          : error.message
        : String(error);
    throw new MetricsUnavailableError(`cannot read ${shown}: ${reason}`);
  }
  const parsed = parseKeysSourceMetrics(text);
  if (!parsed.found) {
    throw new MetricsUnavailableError(
      `${shown} has no ${KEYS_SOURCE_METRIC} metric: is it the Lending server's /metrics?`,
    );
  }
  return judgeKeysSource(shown, parsed, (options.now ?? Date.now)() / 1000);
}
