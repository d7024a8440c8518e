import { describe, expect, it } from 'vitest';
import { checkPurgeSafety, judgeKeysSource, parseKeysSourceMetrics } from './purge-check';

describe('parseKeysSourceMetrics', () => {
  it('reads the counters whatever the label order, summing series with extra labels', () => {
    const parsed = parseKeysSourceMetrics(
      [
        '# TYPE lending_s3_keys_source_total counter',
        'lending_s3_keys_source_total{source="cookie",instance="a"} 10',
        'lending_s3_keys_source_total{instance="b",source="cookie"} 5',
        'lending_s3_keys_source_total{source="store"} 2 1700000000000',
        'lending_s3_keys_source_total_created{source="store"} 1700000000',
        'process_start_time_seconds 1000',
      ].join('\n'),
    );
    expect(parsed).toEqual({
      found: true,
      counts: { cookie: 15, store: 2, none: 0 },
      processStartSeconds: 1000,
    });
    expect(parseKeysSourceMetrics('up 1\n').found).toBe(false);
  });

  it('judges: any store fallback means not yet; cookies only means safe', () => {
    const base = { found: true, processStartSeconds: 0 };
    expect(judgeKeysSource('u', { ...base, counts: { cookie: 1, store: 1, none: 0 } }, 60).verdict).toBe(
      'not_yet',
    );
    expect(judgeKeysSource('u', { ...base, counts: { cookie: 9, store: 0, none: 1 } }, 60).verdict).toBe(
      'safe',
    );
    expect(judgeKeysSource('u', { ...base, counts: { cookie: 0, store: 0, none: 0 } }, 60).verdict).toBe(
      'not_yet',
    );
  });

  it('never shows credentials of the metrics URL', async () => {
    const fetchStub: typeof fetch = () => Promise.resolve(new Response('nope', { status: 401 }));
    await expect(checkPurgeSafety('http://ops:s3cret@host/metrics', { fetch: fetchStub })).rejects.toThrow(
      'http://host/metrics answered HTTP 401',
    );
  });
});
