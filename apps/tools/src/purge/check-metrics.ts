// What `pnpm purge --check` reads from one server's /metrics (Prometheus text exposition). The metric names are
// those apps/server/src/metrics.ts exports; the label values are @lending/accounts' S3KeysSource and
// S3KeysStoreFallback.
import type { S3KeysSource, S3KeysStoreFallback } from '@lending/accounts';

export const METRIC = {
  source: 'lending_s3_keys_source_total',
  fallback: 'lending_s3_keys_store_fallback_total',
  fallbackLast: 'lending_s3_keys_store_fallback_last_timestamp_seconds',
  lookupLast: 'lending_s3_keys_lookup_last_timestamp_seconds',
  processStart: 'process_start_time_seconds',
} as const;

/** One server's key-lookup facts. Times are Unix seconds of the server's clock; null: never since it started. */
export interface KeysMetrics {
  /** Requests by where their keys came from, since the server started. */
  sources: Record<S3KeysSource, number>;
  /** Requests served from the store, by why the cookie did not serve them, since the server started. */
  fallbacks: Record<S3KeysStoreFallback, number>;
  lastFallback: Record<S3KeysStoreFallback, number | null>;
  lastLookup: number | null;
  processStart: number;
}

interface Sample {
  name: string;
  labels: Map<string, string>;
  value: number;
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

function samples(text: string): Sample[] {
  const found: Sample[] = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const value = Number(match[3]);
    if (Number.isFinite(value))
      found.push({ name: match[1] ?? '', labels: parseLabels(match[2] ?? ''), value });
  }
  return found;
}

/**
 * The facts `--check` needs, or the name of the first metric missing (an older server, or not a Lending server
 * at all). Series with extra labels (e.g. `instance`) are summed; timestamps take the latest.
 */
export function readKeysMetrics(text: string): KeysMetrics | { missing: string } {
  const all = samples(text);
  const named = (name: string): Sample[] => all.filter((sample) => sample.name === name);
  for (const name of Object.values(METRIC)) {
    if (named(name).length === 0) return { missing: name };
  }
  const sum = (name: string, label: string, value: string): number =>
    named(name)
      .filter((sample) => sample.labels.get(label) === value)
      .reduce((total, sample) => total + sample.value, 0);
  const latest = (list: Sample[]): number | null => {
    const newest = Math.max(0, ...list.map((sample) => sample.value));
    return newest > 0 ? newest : null;
  };
  const byReason = <T>(f: (reason: S3KeysStoreFallback) => T): Record<S3KeysStoreFallback, T> => ({
    no_cookie: f('no_cookie'),
    cookie_rejected: f('cookie_rejected'),
  });
  return {
    sources: {
      cookie: sum(METRIC.source, 'source', 'cookie'),
      store: sum(METRIC.source, 'source', 'store'),
      none: sum(METRIC.source, 'source', 'none'),
    },
    fallbacks: byReason((reason) => sum(METRIC.fallback, 'reason', reason)),
    lastFallback: byReason((reason) =>
      latest(named(METRIC.fallbackLast).filter((sample) => sample.labels.get('reason') === reason)),
    ),
    lastLookup: latest(named(METRIC.lookupLast)),
    processStart: Math.max(...named(METRIC.processStart).map((sample) => sample.value)),
  };
}
