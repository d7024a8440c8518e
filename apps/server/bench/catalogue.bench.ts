// `pnpm --filter @lending/server bench:catalogue`: what one catalogue page costs in archive.org calls and in
// time, with the stand-in answering every call after ARCHIVE_LATENCY (50 ms), before and after issue 14 §1.
// - after: books.list through the real server over HTTP (anonymous, the cache off so that every request makes
//   its calls): one search and one batched availability call per page;
// - before: main's code path for the same page, replayed with the same ArchiveClient methods main's books.list
//   called (one advancedsearch, then one loans-API `availability` per book, all at once, as its Promise.all did),
//   without the HTTP layer in front, and without this branch's concurrency limit (main had none).
// The calls are counted by the stand-in itself (its /_dev/calls counter). Targets (exit code 1 when missed): a
// page of 20 and of 100 books makes exactly 2 archive.org calls, and books.list's median latency is at most 3x
// one call's (the median of a lone availability call, measured in the same run).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ArchiveClient } from '@lending/accounts';
import { DEMO_LOAN_API_TOKEN, DEMO_SERVICE_KEYS, startArchive } from '@lending/archive';
import { createApp, loadEnv } from '../src/app';

const LATENCY_MS = Number(process.env.ARCHIVE_LATENCY ?? 50);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 15);
const SIZES = [20, 100];

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

const archive = await startArchive({
  port: 0,
  catalogue: 'full',
  strictProtocol: true,
  latencyMs: LATENCY_MS,
});
const dir = mkdtempSync(path.join(tmpdir(), 'lending-catalogue-bench-'));
const config = await loadEnv({
  NODE_ENV: 'test',
  APP_SECRET: 'catalogue-bench-secret-0123456789abcdefghij',
  DATABASE_URL: `sqlite:${path.join(dir, 'lending.db')}`,
  ARCHIVE_URL: archive.url,
  ARCHIVE_CACHE_SECONDS: '0',
  LOG_LEVEL: 'silent',
  WEB_DIST: '/nonexistent-web-dist',
});
const server = createApp(config);
const listening = await server.listen(0, '127.0.0.1');
// main's client: the same calls, no concurrency limit.
const before = new ArchiveClient({
  baseUrl: archive.url,
  serviceAccess: DEMO_SERVICE_KEYS.access,
  serviceSecret: DEMO_SERVICE_KEYS.secret,
  loanApiToken: DEMO_LOAN_API_TOKEN,
  limits: { maxConcurrent: 10_000, maxQueue: 10_000 },
});

async function afterPage(size: number): Promise<void> {
  const input = encodeURIComponent(JSON.stringify({ pageSize: size }));
  const res = await fetch(`${listening.url}/trpc/books.list?input=${input}`);
  const body = (await res.json()) as { result?: { data: { books: unknown[] } } };
  if (res.status !== 200 || body.result?.data.books.length !== size) {
    throw new Error(`books.list pageSize ${size}: HTTP ${res.status}`);
  }
}

async function beforePage(size: number): Promise<void> {
  const books = await before.searchBooks({ rows: size });
  await Promise.all(books.map((book) => before.availability(book.identifier)));
}

/** Calls one page makes (counted by the stand-in) and its median latency over SAMPLES runs. */
async function measure(page: (size: number) => Promise<void>, size: number) {
  await page(size); // warm-up
  archive.calls.reset();
  await page(size);
  const calls = archive.calls.total();
  const latencies: number[] = [];
  for (let n = 0; n < SAMPLES; n++) latencies.push(await timed(() => page(size)));
  return {
    calls,
    median: median(latencies),
    p90: [...latencies].sort((a, b) => a - b)[Math.floor(SAMPLES * 0.9)]!,
  };
}

let failed = false;
try {
  const probe = new ArchiveClient({
    baseUrl: archive.url,
    serviceAccess: DEMO_SERVICE_KEYS.access,
    serviceSecret: DEMO_SERVICE_KEYS.secret,
    availabilityTtlMs: 0,
  });
  await probe.availabilityOf(['draculabram00stok']);
  const single: number[] = [];
  for (let n = 0; n < SAMPLES; n++)
    single.push(await timed(() => probe.availabilityOf(['draculabram00stok'])));
  const oneCall = median(single);

  console.log(
    `catalogue page: stand-in latency ${LATENCY_MS} ms per call; one call's median ${oneCall.toFixed(1)} ms; ` +
      `${SAMPLES} sequential samples each\n`,
  );
  const rows: string[][] = [
    [
      'page',
      'before: calls',
      'before: median',
      'after: calls',
      'after: median',
      'after / one call',
      'target',
    ],
  ];
  for (const size of SIZES) {
    const was = await measure(beforePage, size);
    const now = await measure(afterPage, size);
    const ratio = now.median / oneCall;
    const ok = now.calls === 2 && ratio <= 3;
    if (!ok) failed = true;
    rows.push([
      `${size} books`,
      String(was.calls),
      `${was.median.toFixed(1)} ms`,
      String(now.calls),
      `${now.median.toFixed(1)} ms (p90 ${now.p90.toFixed(1)})`,
      `${ratio.toFixed(2)}x`,
      ok ? 'met (2 calls, <= 3x)' : 'MISSED (2 calls, <= 3x)',
    ]);
  }
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  for (const row of rows) console.log(row.map((cell, column) => cell.padEnd(widths[column]!)).join('  '));
} catch (error) {
  console.error(error);
  failed = true;
} finally {
  await server.close();
  await archive.close();
  rmSync(dir, { recursive: true, force: true });
}
if (failed) {
  console.error('\ncatalogue benchmark: a target was missed');
  process.exit(1);
}
