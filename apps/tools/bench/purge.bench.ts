// Benchmark of `pnpm purge` (issue 6): on SQLite and PostgreSQL, 100k and 1M accounts with 30% holding keys,
// the purge (a child process, as an operator runs it) against the floor on identical copies: one UPDATE that
// removes the field from the rows holding it (the strict floor, the one the verdict uses), and one UPDATE that
// rewrites every row (the issue's wording). Also the purge's peak RSS, to show memory stays flat.
// Accounts are inserted in generation order, so (as in production, where usernames are chosen by patrons) they
// arrive in random key order: PostgreSQL's heap holds them in that order, unrelated to the key order the purge
// walks in; SQLite's table is a B-tree keyed by username (WITHOUT ROWID), whose leaves are split as rows arrive
// (partly filled, scattered over the file).
//
//   pnpm --filter @lending/tools bench [--sizes 100000,1000000] [--adapters sqlite,postgres] [--batch-size N]
//
// Targets: purge walk within 2x the single statement, peak RSS under 200 MB at every size.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PassThrough } from 'node:stream';
import Database from 'better-sqlite3';
import pg from 'pg';
import { displayDatabaseUrl } from '../src/cli-common';
import { readEnv } from '../src/env';
import { DEFAULT_BATCH_SIZE } from '../src/purge-cli';
import { runSeedCli } from '../src/seed-cli';
import { postgresTarget } from '../src/store-direct';

const toolsDir = fileURLToPath(new URL('..', import.meta.url));
const env = readEnv();

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100000,1000000' },
    adapters: { type: 'string', default: 'sqlite,postgres' },
    'batch-size': { type: 'string' },
    'with-keys': { type: 'string', default: '30' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const adapters = values.adapters.split(',') as ('sqlite' | 'postgres')[];
/** The purge's own default per adapter unless --batch-size is given. */
const batchSizeFor = (adapter: 'sqlite' | 'postgres'): number =>
  values['batch-size'] ? Number(values['batch-size']) : DEFAULT_BATCH_SIZE[adapter];
const withKeys = values['with-keys'];

interface PurgeRun {
  wallMs: number;
  walkMs: number;
  compactMs: number;
  peakRssMb: number;
  purged: number;
  scanned: number;
}

interface Row {
  adapter: string;
  accounts: number;
  /** One UPDATE ... WHERE <row holds keys>: the strict floor. */
  floorMs: number;
  /** One UPDATE without WHERE, rewriting every row (the issue's wording). */
  floorAllMs: number;
  run: PurgeRun;
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

const sink = (): PassThrough => new PassThrough().resume();

async function seed(databaseUrl: string, accounts: number): Promise<void> {
  const started = performance.now();
  const code = await runSeedCli(
    ['--accounts', String(accounts), '--with-keys', withKeys, '--seed', '42', '--database-url', databaseUrl],
    { io: { stdout: sink(), stderr: sink(), stdin: process.stdin }, defaultDatabaseUrl: databaseUrl },
  );
  if (code !== 0) throw new Error(`seeding ${displayDatabaseUrl(databaseUrl)} failed (exit ${code})`);
  log(`  seeded ${accounts} accounts in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/** Peak RSS of the child: /usr/bin/time -v when present, else polling VmHWM in /proc. */
async function runPurge(databaseUrl: string, batchSize: number): Promise<PurgeRun> {
  const timeFile = join(tmpdir(), `purge-bench-time-${process.pid}.txt`);
  const useTime = existsSync('/usr/bin/time');
  const nodeArgs = [
    '--import',
    'tsx',
    'src/purge-main.ts',
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
    compactMs: number;
    purged: number;
    scanned: number;
  };
  let peakKb = polledKb;
  if (useTime) {
    peakKb = Number(
      /Maximum resident set size \(kbytes\): (\d+)/.exec(readFileSync(timeFile, 'utf8'))?.[1] ?? 0,
    );
    rmSync(timeFile, { force: true });
  }
  return {
    wallMs,
    walkMs: summary.elapsedMs,
    compactMs: summary.compactMs,
    peakRssMb: peakKb / 1024,
    purged: summary.purged,
    scanned: summary.scanned,
  };
}

async function benchSqlite(dir: string, accounts: number): Promise<Row> {
  const purgeFile = join(dir, `purge-${accounts}.db`);
  await seed(`sqlite:${purgeFile}`, accounts);

  // The floors: the same connection settings as the store (WAL, synchronous NORMAL, secure_delete).
  const floor = (label: string, where: string): number => {
    const file = join(dir, `floor-${label}-${accounts}.db`);
    copyFileSync(purgeFile, file);
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('secure_delete = ON');
    db.prepare('SELECT count(*) FROM accounts').get(); // warm the cache like the purge's own count does
    const started = performance.now();
    const changed = db
      .prepare(`UPDATE accounts SET data = json_remove(data, '$.s3Keys'), revision = revision + 1 ${where}`)
      .run().changes;
    const ms = performance.now() - started;
    db.close();
    rmSync(file, { force: true });
    log(`  floor (${label}): one UPDATE, ${changed} rows, ${ms.toFixed(0)} ms`);
    return ms;
  };
  const floorMs = floor('holders', `WHERE json_type(data, '$.s3Keys') IS NOT NULL`);
  const floorAllMs = floor('every row', '');

  const run = await runPurge(`sqlite:${purgeFile}`, batchSizeFor('sqlite'));
  rmSync(purgeFile, { force: true });
  return { adapter: 'sqlite', accounts, floorMs, floorAllMs, run };
}

async function benchPostgres(accounts: number): Promise<Row> {
  const suffix = `${process.pid}_${accounts}`;
  const purgeSchema = `bench_purge_${suffix}`;
  const floorSchema = `bench_floor_${suffix}`;
  const base = new URL(env.DATABASE_URL_TEST);
  base.searchParams.set('schema', purgeSchema);
  const purgeUrl = base.toString();
  const client = new pg.Client({ connectionString: postgresTarget(purgeUrl).connectionString });
  await client.connect();
  try {
    await seed(purgeUrl, accounts);
    // Identical copies: same definition, same rows in the same physical order, fresh statistics.
    const floor = async (label: string, where: string): Promise<number> => {
      await client.query(`DROP SCHEMA IF EXISTS ${floorSchema} CASCADE`);
      await client.query(`CREATE SCHEMA ${floorSchema}`);
      await client.query(
        `CREATE TABLE ${floorSchema}.accounts (LIKE ${purgeSchema}.accounts INCLUDING ALL) WITH (fillfactor = 90)`,
      );
      await client.query(`INSERT INTO ${floorSchema}.accounts SELECT * FROM ${purgeSchema}.accounts`);
      await client.query(`VACUUM ANALYZE ${floorSchema}.accounts`);
      await client.query('CHECKPOINT');
      const started = performance.now();
      const result = await client.query(
        `UPDATE ${floorSchema}.accounts SET data = data - 's3Keys', revision = revision + 1 ${where}`,
      );
      const ms = performance.now() - started;
      log(`  floor (${label}): one UPDATE, ${result.rowCount} rows, ${ms.toFixed(0)} ms`);
      await client.query(`DROP SCHEMA IF EXISTS ${floorSchema} CASCADE`);
      return ms;
    };
    const floorMs = await floor('holders', `WHERE data ? 's3Keys'`);
    const floorAllMs = await floor('every row', '');
    await client.query(`VACUUM ANALYZE ${purgeSchema}.accounts`);
    await client.query('CHECKPOINT');

    const run = await runPurge(purgeUrl, batchSizeFor('postgres'));
    return { adapter: 'postgres', accounts, floorMs, floorAllMs, run };
  } finally {
    await client.query(`DROP SCHEMA IF EXISTS ${purgeSchema} CASCADE`);
    await client.query(`DROP SCHEMA IF EXISTS ${floorSchema} CASCADE`);
    await client.end();
  }
}

const fmt = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

const dir = mkdtempSync(join(tmpdir(), 'lending-purge-bench-'));
const rows: Row[] = [];
const benchStarted = performance.now();
try {
  for (const adapter of adapters) {
    for (const accounts of sizes) {
      log(`${adapter}, ${accounts} accounts, ${withKeys}% with keys, batch size ${batchSizeFor(adapter)}`);
      const row = adapter === 'sqlite' ? await benchSqlite(dir, accounts) : await benchPostgres(accounts);
      log(
        `  purge: walk ${fmt(row.run.walkMs)} (x${(row.run.walkMs / row.floorMs).toFixed(2)} the floor), ` +
          `compaction ${fmt(row.run.compactMs)}, whole process ${fmt(row.run.wallMs)}, peak RSS ${row.run.peakRssMb.toFixed(0)} MB`,
      );
      rows.push(row);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log('');
console.log(
  `purge benchmark: ${withKeys}% of accounts with keys, batch size ${adapters.map((a) => `${batchSizeFor(a)} (${a})`).join(', ')}, ${((performance.now() - benchStarted) / 60000).toFixed(1)} min`,
);
console.log(
  'adapter  |  accounts | floor: UPDATE holders | floor: UPDATE all | purge walk | walk/holders | walk/all | compaction | process | peak RSS | verdict',
);
console.log(
  '---------|-----------|-----------------------|-------------------|------------|--------------|----------|------------|---------|----------|--------',
);
let allMet = true;
for (const { adapter, accounts, floorMs, floorAllMs, run } of rows) {
  const ratio = run.walkMs / floorMs;
  const met =
    ratio <= 2 && run.peakRssMb < 200 && run.purged === Math.floor(accounts * (Number(withKeys) / 100));
  allMet &&= met;
  console.log(
    [
      adapter.padEnd(8),
      String(accounts).padStart(9),
      fmt(floorMs).padStart(21),
      fmt(floorAllMs).padStart(17),
      fmt(run.walkMs).padStart(10),
      `x${ratio.toFixed(2)}`.padStart(12),
      `x${(run.walkMs / floorAllMs).toFixed(2)}`.padStart(8),
      fmt(run.compactMs).padStart(10),
      fmt(run.wallMs).padStart(7),
      `${run.peakRssMb.toFixed(0)} MB`.padStart(8),
      met ? 'met' : 'MISSED',
    ].join(' | '),
  );
}
for (const adapter of adapters) {
  const mine = rows.filter((row) => row.adapter === adapter).sort((a, b) => a.accounts - b.accounts);
  const first = mine[0];
  const last = mine.at(-1);
  if (first && last && first !== last) {
    console.log(
      `${adapter}: peak RSS ${first.run.peakRssMb.toFixed(0)} MB at ${first.accounts} -> ${last.run.peakRssMb.toFixed(0)} MB at ${last.accounts} accounts`,
    );
  }
}
console.log(
  'walk = the purge loop as its summary reports it (all batches); process wall adds node/tsx start-up, the count ' +
    'and the compaction (SQLite WAL checkpoint; PostgreSQL VACUUM FULL), which the floor does not do.',
);
console.log(
  allMet ? 'Targets met: walk within 2x the single UPDATE, peak RSS < 200 MB.' : 'Some targets MISSED.',
);
process.exitCode = allMet ? 0 : 1;
