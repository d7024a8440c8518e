// Benchmark of `pnpm purge` on SQLite and PostgreSQL, 100k and 1M accounts with 30% holding keys, each figure
// compared in the same run:
// - the purge's walk (a child process, as an operator runs it) against the floor, one UPDATE removing the field
//   from the rows holding it, on an identical copy (target: at most 1.5x), and against one UPDATE of every row;
// - the compaction that follows, apart, and its ratio to the walk;
// - the purge process's peak RSS (target: under 200 MB, flat from 100k to 1M);
// - SQLite: the rebuild the purge uses (VACUUM in place) against VACUUM INTO + fsync + rename, and the longest
//   write a login-like client saw during it;
// - PostgreSQL: the longest stall a login-like workload (4 connections reading and writing accounts by username)
//   saw while the accounts table was compacted with pg_repack and with VACUUM FULL, side by side (goal for
//   pg_repack: no request stalls more than 1 s).
// Accounts are inserted in generation order, so (as in production, where usernames are chosen by patrons) they
// arrive in random key order.
//
//   pnpm --filter @lending/tools bench [--sizes 100000,1000000] [--adapters sqlite,postgres] [--batch-size N]
import { spawn } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  statSync,
  existsSync,
  fsyncSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PassThrough } from 'node:stream';
import Database from 'better-sqlite3';
import pg from 'pg';
import { openAccountStore, parseDatabaseUrl, redactDatabaseUrl } from '@lending/accounts';
import { openAccountsAdmin } from '@lending/accounts/admin';
import type { CompactionChoice } from '@lending/accounts/admin';
import { readEnv } from '../src/env';
import { DEFAULT_BATCH_SIZE } from '../src/purge/options';
import { runSeedCli } from '../src/seed-cli';
import { startPostgresWorkload, startSqliteWorkload } from './workload';
import type { WorkloadResult } from './workload';

const toolsDir = fileURLToPath(new URL('..', import.meta.url));
const env = readEnv();

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100000,1000000' },
    adapters: { type: 'string', default: 'sqlite,postgres' },
    'batch-size': { type: 'string' },
    'with-keys': { type: 'string', default: '30' },
    rounds: { type: 'string', default: '3' },
  },
});
/** Floor and purge are paired per round, on fresh copies; the verdict takes the median of the rounds' ratios. */
const rounds = Math.max(1, Number(values.rounds));
const sizes = values.sizes.split(',').map(Number);
const adapters = values.adapters.split(',') as ('sqlite' | 'postgres')[];
/** The purge's own default per adapter unless --batch-size is given. */
const batchSizeFor = (adapter: 'sqlite' | 'postgres'): number =>
  values['batch-size'] ? Number(values['batch-size']) : DEFAULT_BATCH_SIZE[adapter];
const withKeys = values['with-keys'];
const TARGET_RATIO = 1.5;
const TARGET_RSS_MB = 200;
const STALL_GOAL_MS = 1000;

interface PurgeRun {
  wallMs: number;
  walkMs: number;
  compactMs: number;
  method: string;
  peakRssMb: number;
  purged: number;
}

interface Compared {
  label: string;
  ms: number;
  load: WorkloadResult | null;
}

interface Round {
  /** One UPDATE ... WHERE <row holds keys>: the floor the target is measured against. */
  floorMs: number;
  run: PurgeRun;
}

interface Row {
  adapter: 'sqlite' | 'postgres';
  accounts: number;
  rounds: Round[];
  /** One UPDATE without WHERE, rewriting every row (once). */
  floorAllMs: number;
  /** Compaction methods side by side on identical copies, under a login-like workload. */
  compared: Compared[];
  /** What the figures depend on: the database's size against the store's memory for it. */
  context: string;
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

const sink = (): PassThrough => new PassThrough().resume();
const fmt = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

async function seed(databaseUrl: string, accounts: number): Promise<void> {
  const started = performance.now();
  const code = await runSeedCli(
    ['--accounts', String(accounts), '--with-keys', withKeys, '--seed', '42', '--database-url', databaseUrl],
    { io: { stdout: sink(), stderr: sink(), stdin: process.stdin }, defaultDatabaseUrl: databaseUrl },
  );
  if (code !== 0) throw new Error(`seeding ${redactDatabaseUrl(databaseUrl)} failed (exit ${code})`);
  log(`  seeded ${accounts} accounts in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/** The purge as an operator runs it; peak RSS from /usr/bin/time -v when present, else VmHWM polled in /proc. */
async function runPurge(databaseUrl: string, batchSize: number): Promise<PurgeRun> {
  const timeFile = join(tmpdir(), `purge-bench-time-${process.pid}.txt`);
  const useTime = existsSync('/usr/bin/time');
  const nodeArgs = [
    '--import',
    'tsx',
    'src/purge/main.ts',
    '--yes',
    '--json',
    '--batch-size',
    String(batchSize),
    '--database-url',
    databaseUrl,
  ];
  const [command, args] = useTime
    ? ['/usr/bin/time', ['-v', '-o', timeFile, process.execPath, ...nodeArgs]]
    : [process.execPath, nodeArgs];
  const started = performance.now();
  const child = spawn(command, args, { cwd: toolsDir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let polledKb = 0;
  const poll = useTime
    ? null
    : setInterval(() => {
        try {
          const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
          polledKb = Math.max(polledKb, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0));
        } catch {
          // the process has exited
        }
      }, 20);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const wallMs = performance.now() - started;
  if (poll) clearInterval(poll);
  if (code !== 0) throw new Error(`purge exited ${code}: ${stderr}`);
  const summary = JSON.parse(stdout) as {
    elapsedMs: number;
    purged: number;
    compaction: { ms: number; method: string };
  };
  let peakKb = polledKb;
  if (useTime) {
    // The purge process and the processes it waited for (the SQLite rebuild), whichever peaked highest.
    peakKb = Number(
      /Maximum resident set size \(kbytes\): (\d+)/.exec(readFileSync(timeFile, 'utf8'))?.[1] ?? 0,
    );
    rmSync(timeFile, { force: true });
  }
  return {
    wallMs,
    walkMs: summary.elapsedMs,
    compactMs: summary.compaction.ms,
    method: summary.compaction.method,
    peakRssMb: peakKb / 1024,
    purged: summary.purged,
  };
}

const SQLITE_HOLDERS = `WHERE json_type(data, '$.s3Keys') IS NOT NULL`;
const SQLITE_REMOVE = `UPDATE accounts SET data = json_remove(data, '$.s3Keys'), revision = revision + 1`;

/** A copy of the seeded SQLite store with its keys removed by one UPDATE (timed): the floor, and what remains. */
function sqliteFloor(source: string, file: string, where: string): number {
  copyFileSync(source, file);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('secure_delete = ON');
  db.prepare('SELECT count(*) FROM accounts').get(); // warm the cache like the purge's own count does
  const started = performance.now();
  db.prepare(`${SQLITE_REMOVE} ${where}`).run();
  const ms = performance.now() - started;
  db.close();
  return ms;
}

function sampleUsernames(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return (
      db.prepare('SELECT username FROM accounts ORDER BY random() LIMIT 20000').all() as {
        username: string;
      }[]
    ).map((r) => r.username);
  } finally {
    db.close();
  }
}

/** The purge's rebuild (VACUUM in place, via the admin side) against VACUUM INTO + fsync + rename. */
async function compareSqliteRebuilds(source: string, dir: string): Promise<Compared[]> {
  const inPlace = join(dir, 'rebuild-in-place.db');
  sqliteFloor(source, inPlace, SQLITE_HOLDERS);
  const usernames = sampleUsernames(inPlace);
  const admin = await openAccountsAdmin(`sqlite:${inPlace}`);
  const load = startSqliteWorkload(inPlace, usernames);
  const report = await admin.compact();
  const loadResult = await load.stop();
  await admin.close();
  rmSync(inPlace, { force: true });

  const renamed = join(dir, 'rebuild-renamed.db');
  sqliteFloor(source, renamed, SQLITE_HOLDERS);
  const started = performance.now();
  const db = new Database(renamed);
  const fresh = join(dir, 'rebuild-renamed.db.new');
  db.prepare('VACUUM INTO ?').run(fresh);
  db.close();
  const fd = openSync(fresh, 'r');
  fsyncSync(fd);
  closeSync(fd);
  renameSync(fresh, renamed);
  const dirFd = openSync(dirname(renamed), 'r');
  fsyncSync(dirFd);
  closeSync(dirFd);
  rmSync(`${renamed}-wal`, { force: true });
  rmSync(`${renamed}-shm`, { force: true });
  const renameMs = performance.now() - started;
  rmSync(renamed, { force: true });
  return [
    { label: 'VACUUM in place (the purge)', ms: report.ms, load: loadResult },
    { label: 'VACUUM INTO + fsync + rename', ms: renameMs, load: null },
  ];
}

async function benchSqlite(dir: string, accounts: number): Promise<Row> {
  const seeded = join(dir, `seeded-${accounts}.db`);
  await seed(`sqlite:${seeded}`, accounts);
  const floorFile = join(dir, `floor-${accounts}.db`);
  const floorAllMs = sqliteFloor(seeded, floorFile, '');
  log(`  floor (every row): one UPDATE, ${fmt(floorAllMs)}`);
  const compared = await compareSqliteRebuilds(seeded, dir);
  const purgeFile = join(dir, `purge-${accounts}.db`);
  const done: Round[] = [];
  for (let round = 1; round <= rounds; round += 1) {
    const floorMs = sqliteFloor(seeded, floorFile, SQLITE_HOLDERS);
    rmSync(floorFile, { force: true });
    copyFileSync(seeded, purgeFile);
    const run = await runPurge(`sqlite:${purgeFile}`, batchSizeFor('sqlite'));
    rmSync(purgeFile, { force: true });
    logRound(round, floorMs, run);
    done.push({ floorMs, run });
  }
  const context = `database file ${(statSync(seeded).size / 2 ** 20).toFixed(0)} MB`;
  rmSync(seeded, { force: true });
  return { adapter: 'sqlite', accounts, rounds: done, floorAllMs, compared, context };
}

function logRound(round: number, floorMs: number, run: PurgeRun): void {
  log(
    `  round ${round}: floor ${fmt(floorMs)}, walk ${fmt(run.walkMs)} (x${(run.walkMs / floorMs).toFixed(2)}), ` +
      `compaction ${fmt(run.compactMs)} (${run.method}), whole process ${fmt(run.wallMs)}, ` +
      `peak RSS ${run.peakRssMb.toFixed(0)} MB`,
  );
}

async function benchPostgres(accounts: number): Promise<Row> {
  const suffix = `${process.pid}_${accounts}`;
  const schemas = {
    purge: `bench_purge_${suffix}`,
    floor: `bench_floor_${suffix}`,
    round: `bench_round_${suffix}`,
    repack: `bench_repack_${suffix}`,
    vacuumFull: `bench_vacfull_${suffix}`,
  };
  const urlOf = (schema: string): string => {
    const url = new URL(env.DATABASE_URL_TEST);
    url.searchParams.set('schema', schema);
    return url.toString();
  };
  const target = parseDatabaseUrl(env.DATABASE_URL_TEST);
  if (target.kind !== 'postgres') throw new Error('DATABASE_URL_TEST must be a postgres:// URL');
  const client = new pg.Client({ connectionString: target.connectionString });
  await client.connect();
  const dropAll = async (): Promise<void> => {
    for (const schema of Object.values(schemas))
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  };
  try {
    await seed(urlOf(schemas.purge), accounts);
    // Identical copies: same definition (the store's own migrations), same rows in the same physical order,
    // fresh statistics.
    const copy = async (schema: string): Promise<void> => {
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await (await openAccountStore(urlOf(schema))).close();
      await client.query(`INSERT INTO ${schema}.accounts SELECT * FROM ${schemas.purge}.accounts`);
      await client.query(`VACUUM ANALYZE ${schema}.accounts`);
      await client.query('CHECKPOINT');
    };
    const remove = async (schema: string, where: string): Promise<number> => {
      const started = performance.now();
      await client.query(
        `UPDATE ${schema}.accounts SET data = data - 's3Keys', revision = revision + 1 ${where}`,
      );
      return performance.now() - started;
    };
    await copy(schemas.floor);
    const floorAllMs = await remove(schemas.floor, '');
    log(`  floor (every row): one UPDATE, ${fmt(floorAllMs)}`);
    await client.query(`DROP SCHEMA ${schemas.floor} CASCADE`);

    // Compaction under a login-like workload, each method on its own copy in the state a purge leaves.
    const { rows } = await client.query<{ username: string }>(
      `SELECT username FROM ${schemas.purge}.accounts TABLESAMPLE SYSTEM (5) LIMIT 20000`,
    );
    const usernames = rows.map((r) => r.username);
    const compared: Compared[] = [];
    for (const [label, schema, method] of [
      ['pg_repack', schemas.repack, 'pg_repack'],
      ['VACUUM FULL', schemas.vacuumFull, 'vacuum_full'],
    ] as const) {
      await copy(schema);
      await remove(schema, `WHERE data ? 's3Keys'`);
      const admin = await openAccountsAdmin(urlOf(schema));
      const load = await startPostgresWorkload(target.connectionString, `${schema}.accounts`, usernames);
      const report = await admin.compact({
        method: method satisfies CompactionChoice,
        lockTimeoutMs: 60_000,
        environment: env.childEnvironment,
        ...(env.PG_REPACK ? { pgRepackPath: env.PG_REPACK } : {}),
      });
      const result = await load.stop();
      await admin.close();
      await client.query(`DROP SCHEMA ${schema} CASCADE`);
      compared.push({ label, ms: report.ms, load: result });
      log(`  ${label} under load: ${fmt(report.ms)}, longest request ${fmt(result.longestMs)}`);
    }

    const done: Round[] = [];
    for (let round = 1; round <= rounds; round += 1) {
      await copy(schemas.floor);
      const floorMs = await remove(schemas.floor, `WHERE data ? 's3Keys'`);
      await client.query(`DROP SCHEMA ${schemas.floor} CASCADE`);
      await copy(schemas.round);
      const run = await runPurge(urlOf(schemas.round), batchSizeFor('postgres'));
      await client.query(`DROP SCHEMA ${schemas.round} CASCADE`);
      logRound(round, floorMs, run);
      done.push({ floorMs, run });
    }
    const { rows: sizes } = await client.query<{ size: string; buffers: string }>(
      `SELECT pg_size_pretty(pg_total_relation_size('${schemas.purge}.accounts')) AS size,
              current_setting('shared_buffers') AS buffers`,
    );
    const context = `accounts relation ${sizes[0]?.size}, shared_buffers ${sizes[0]?.buffers}`;
    return { adapter: 'postgres', accounts, rounds: done, floorAllMs, compared, context };
  } finally {
    await dropAll();
    await client.end();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'lending-purge-bench-'));
const rows: Row[] = [];
const benchStarted = performance.now();
try {
  for (const adapter of adapters) {
    for (const accounts of sizes) {
      log(`${adapter}, ${accounts} accounts, ${withKeys}% with keys, batch size ${batchSizeFor(adapter)}`);
      rows.push(adapter === 'sqlite' ? await benchSqlite(dir, accounts) : await benchPostgres(accounts));
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

interface Summary {
  floorMs: number;
  walkMs: number;
  compactMs: number;
  wallMs: number;
  method: string;
  ratio: number;
  ratios: number[];
  peakRssMb: number;
  purged: number[];
}

function summarize(row: Row): Summary {
  const ratios = row.rounds.map((r) => r.run.walkMs / r.floorMs);
  return {
    floorMs: median(row.rounds.map((r) => r.floorMs)),
    walkMs: median(row.rounds.map((r) => r.run.walkMs)),
    compactMs: median(row.rounds.map((r) => r.run.compactMs)),
    wallMs: median(row.rounds.map((r) => r.run.wallMs)),
    method: row.rounds[0]?.run.method ?? '',
    ratio: median(ratios),
    ratios,
    peakRssMb: Math.max(...row.rounds.map((r) => r.run.peakRssMb)),
    purged: row.rounds.map((r) => r.run.purged),
  };
}

console.log('');
console.log(
  `purge benchmark: ${withKeys}% of accounts with keys, batch size ${adapters.map((a) => `${batchSizeFor(a)} (${a})`).join(', ')}, ` +
    `${rounds} rounds (medians; walk/holders is the median of the rounds' own ratios), ` +
    `${((performance.now() - benchStarted) / 60000).toFixed(1)} min`,
);
console.log(
  'adapter  |  accounts | floor: UPDATE holders | floor: UPDATE all | purge walk | walk/holders (rounds)    | walk/all | compaction            | compaction/walk | process | peak RSS | verdict',
);
console.log(
  '---------|-----------|-----------------------|-------------------|------------|--------------------------|----------|-----------------------|-----------------|---------|----------|--------',
);
let allMet = true;
for (const row of rows) {
  const m = summarize(row);
  const expected = Math.floor(row.accounts * (Number(withKeys) / 100));
  const met = m.ratio <= TARGET_RATIO && m.peakRssMb < TARGET_RSS_MB && m.purged.every((n) => n === expected);
  allMet &&= met;
  console.log(
    [
      row.adapter.padEnd(8),
      String(row.accounts).padStart(9),
      fmt(m.floorMs).padStart(21),
      fmt(row.floorAllMs).padStart(17),
      fmt(m.walkMs).padStart(10),
      `x${m.ratio.toFixed(2)} (${m.ratios.map((r) => r.toFixed(2)).join(', ')})`.padStart(24),
      `x${(m.walkMs / row.floorAllMs).toFixed(2)}`.padStart(8),
      `${fmt(m.compactMs)} ${m.method}`.padStart(21),
      `x${(m.compactMs / m.walkMs).toFixed(2)}`.padStart(15),
      fmt(m.wallMs).padStart(7),
      `${m.peakRssMb.toFixed(0)} MB`.padStart(8),
      met ? 'met' : 'MISSED',
    ].join(' | '),
  );
}
for (const adapter of adapters) {
  const mine = rows.filter((row) => row.adapter === adapter).sort((a, b) => a.accounts - b.accounts);
  const first = mine[0];
  const last = mine.at(-1);
  if (first && last && first !== last) {
    const [from, to] = [summarize(first).peakRssMb, summarize(last).peakRssMb];
    console.log(
      `${adapter}: peak RSS ${from.toFixed(0)} MB at ${first.accounts} -> ${to.toFixed(0)} MB at ${last.accounts} accounts (x${(to / from).toFixed(2)})`,
    );
  }
}
for (const row of rows) {
  const heading =
    row.adapter === 'sqlite'
      ? `SQLite rebuild of ${row.accounts} accounts after the keys' removal (identical copies)`
      : `PostgreSQL compaction of ${row.accounts} accounts after the keys' removal, under a login-like workload ` +
        '(4 connections, each reading then writing an account by username)';
  console.log(`\n${heading} (${row.context}):`);
  console.log('  method                        |   time | requests | failed | longest request | p99');
  for (const { label, ms, load } of row.compared) {
    console.log(
      [
        `  ${label.padEnd(29)}`,
        fmt(ms).padStart(6),
        (load ? String(load.requests) : '-').padStart(8),
        (load ? String(load.failed) : '-').padStart(6),
        (load ? fmt(load.longestMs) : '-').padStart(15),
        load ? fmt(load.p99Ms) : '-',
      ].join(' | '),
    );
  }
  const [first, second] = row.compared;
  if (first && second)
    console.log(`  time ratio ${first.label} / ${second.label}: x${(first.ms / second.ms).toFixed(2)}`);
  if (row.adapter === 'postgres') {
    const repack = row.compared.find((c) => c.label === 'pg_repack');
    const stallMet = repack?.load
      ? repack.load.longestMs <= STALL_GOAL_MS && repack.load.failed === 0
      : false;
    allMet &&= stallMet;
    console.log(`  goal: no request stalls more than 1 s with pg_repack: ${stallMet ? 'met' : 'MISSED'}`);
  }
}
console.log(
  '\nwalk = the purge loop as its summary reports it (all batches); process wall adds node/tsx start-up, the count ' +
    'and the compaction, which the floor does not do.',
);
console.log(
  allMet
    ? `Targets met: walk within ${TARGET_RATIO}x the single UPDATE, peak RSS < ${TARGET_RSS_MB} MB, pg_repack stalls no request > 1 s.`
    : 'Some targets MISSED.',
);
process.exitCode = allMet ? 0 : 1;
