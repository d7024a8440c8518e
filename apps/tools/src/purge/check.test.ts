// The --check rules on made-up expositions; test/purge-check.test.ts drives real servers.
import { describe, expect, it } from 'vitest';
import { checkPurgeSafety, judge, judgeInstance } from './check';
import { readKeysMetrics } from './check-metrics';
import type { KeysMetrics } from './check-metrics';

const NOW = 1_800_000_000;

function exposition(lines: string[]): string {
  return [
    `process_start_time_seconds ${NOW - 7200}`,
    'lending_s3_keys_source_total{source="cookie"} 10',
    'lending_s3_keys_source_total{source="store"} 2',
    'lending_s3_keys_source_total{source="none"} 1',
    'lending_s3_keys_store_fallback_total{reason="no_cookie"} 1',
    'lending_s3_keys_store_fallback_total{reason="cookie_rejected"} 1',
    `lending_s3_keys_store_fallback_last_timestamp_seconds{reason="no_cookie"} ${NOW - 3000}`,
    `lending_s3_keys_store_fallback_last_timestamp_seconds{reason="cookie_rejected"} ${NOW - 30}`,
    `lending_s3_keys_lookup_last_timestamp_seconds ${NOW - 5}`,
    ...lines,
  ].join('\n');
}

function metrics(text: string): KeysMetrics {
  const read = readKeysMetrics(text);
  if ('missing' in read) throw new Error(`missing ${read.missing}`);
  return read;
}

describe('readKeysMetrics', () => {
  it('reads counters and timestamps whatever the label order, summing series with extra labels', () => {
    const read = metrics(
      exposition([
        '# TYPE lending_s3_keys_source_total counter',
        'lending_s3_keys_source_total{instance="b",source="cookie"} 5',
        'lending_s3_keys_source_total_created{source="store"} 1700000000',
      ]),
    );
    expect(read).toEqual({
      sources: { cookie: 15, store: 2, none: 1 },
      fallbacks: { no_cookie: 1, cookie_rejected: 1 },
      lastFallback: { no_cookie: NOW - 3000, cookie_rejected: NOW - 30 },
      lastLookup: NOW - 5,
      processStart: NOW - 7200,
    });
    // 0 means "never since the server started".
    expect(
      metrics(exposition([]).replace(`{reason="no_cookie"} ${NOW - 3000}`, '{reason="no_cookie"} 0'))
        .lastFallback.no_cookie,
    ).toBeNull();
    expect(readKeysMetrics('up 1\n')).toEqual({ missing: 'lending_s3_keys_source_total' });
    expect(readKeysMetrics(exposition([]).replace(/^lending_s3_keys_lookup_last.*$/m, ''))).toEqual({
      missing: 'lending_s3_keys_lookup_last_timestamp_seconds',
    });
  });
});

describe('judging one instance over a window', () => {
  const base = metrics(exposition([]));
  it.each([
    [
      'a no-cookie fallback inside the window',
      { lastFallback: { no_cookie: NOW - 60, cookie_rejected: null } },
      600,
      'store_needed',
    ],
    ['a no-cookie fallback before the window', {}, 600, 'clear'],
    [
      'only rejected cookies inside the window',
      { lastFallback: { no_cookie: null, cookie_rejected: NOW - 1 } },
      600,
      'clear',
    ],
    ['a restart inside the window', { processStart: NOW - 300 }, 600, 'restarted'],
    [
      'a restart inside the window, and a fallback since',
      { processStart: NOW - 300, lastFallback: { no_cookie: NOW - 10, cookie_rejected: null } },
      600,
      'store_needed',
    ],
    ['no key lookup inside the window', { lastLookup: NOW - 4000 }, 600, 'no_traffic'],
    ['no key lookup since the start', { lastLookup: null }, 600, 'no_traffic'],
    ['a one-hour window that the fallback 50 min ago falls in', {}, 3600, 'store_needed'],
  ] as const)('%s', (_name, change, window, finding) => {
    const report = judgeInstance('http://h/metrics', { ...base, ...change }, NOW, window);
    expect(report.finding).toBe(finding);
  });

  it('the verdict: any store need or restart holds it back; safe needs traffic somewhere', () => {
    const clear = judgeInstance('http://a/metrics', base, NOW, 600);
    const idle = judgeInstance('http://b/metrics', { ...base, lastLookup: null }, NOW, 600);
    const restarted = judgeInstance('http://c/metrics', { ...base, processStart: NOW - 60 }, NOW, 600);
    expect(judge([clear, idle], 600).verdict).toBe('safe');
    expect(judge([idle, idle], 600).verdict).toBe('not_yet');
    expect(judge([clear, restarted], 600)).toMatchObject({ verdict: 'not_yet' });
    expect(judge([clear, restarted], 600).message).toMatch(
      /NOT YET: a server started within the 10 min window/,
    );
    expect(judge([clear], 600).message).toContain('Checked 1 instance: every server');
  });
});

describe('checkPurgeSafety', () => {
  it("takes the time from the server's Date header, so a skewed local clock does not move the window", async () => {
    const text = exposition([]).replace(
      `{reason="no_cookie"} ${NOW - 3000}`,
      `{reason="no_cookie"} ${NOW - 500}`,
    );
    const fetchAt =
      (date: number): typeof fetch =>
      () =>
        Promise.resolve(new Response(text, { headers: { date: new Date(date * 1000).toUTCString() } }));
    const localClockAnHourAhead = () => (NOW + 3600) * 1000;
    const report = await checkPurgeSafety(['http://h/metrics'], 600, {
      fetch: fetchAt(NOW),
      now: localClockAnHourAhead,
    });
    expect(report.verdict).toBe('not_yet');
    expect(report.instances[0]?.noCookieAgoSeconds).toBe(500);
  });

  it('is unknown when any instance cannot be read, and never shows credentials of a URL', async () => {
    const refused: typeof fetch = (input) =>
      (input instanceof Request ? input.url : input.toString()).includes('down')
        ? Promise.resolve(new Response('nope', { status: 401 }))
        : Promise.resolve(
            new Response(exposition([]), { headers: { date: new Date(NOW * 1000).toUTCString() } }),
          );
    const report = await checkPurgeSafety(['http://ok/metrics', 'http://ops:s3cret@down/metrics'], 600, {
      fetch: refused,
    });
    expect(report.verdict).toBe('unknown');
    expect(report.instances[1]).toMatchObject({ url: 'http://down/metrics', error: 'answered HTTP 401' });
    expect(JSON.stringify(report)).not.toContain('s3cret');
  });
});
