// Finding and running pg_repack, the program that rewrites a PostgreSQL table online: it copies the live rows
// into a new table while triggers log concurrent changes, replays them, then swaps the files under a lock held
// for moments (VACUUM FULL holds its lock for the whole copy).
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface PgRepackProgram {
  path: string;
  /** As `pg_repack --version` prints it, e.g. 1.4.8: it must equal the extension's version in the database. */
  version: string;
}

function versionOf(path: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(path, ['--version'], { timeout: 10_000, env: {} }, (error, stdout) => {
      resolve(error ? null : (/pg_repack\s+(\S+)/.exec(stdout)?.[1] ?? null));
    });
  });
}

/**
 * The pg_repack program to use: `explicit` when given (and nothing else), else the first found in the
 * directories of `searchPath` (a PATH value), then where PostgreSQL's packages install it for the server's major
 * version (Debian and Ubuntu, the PGDG RPMs, source builds).
 */
export async function findPgRepack(options: {
  explicit?: string | undefined;
  searchPath?: string | undefined;
  serverMajor: number;
}): Promise<PgRepackProgram | null> {
  const candidates = options.explicit
    ? [options.explicit]
    : [
        ...(options.searchPath ?? '')
          .split(delimiter)
          .filter((dir) => dir.startsWith('/'))
          .map((dir) => join(dir, 'pg_repack')),
        `/usr/lib/postgresql/${options.serverMajor}/bin/pg_repack`,
        `/usr/pgsql-${options.serverMajor}/bin/pg_repack`,
        '/usr/local/pgsql/bin/pg_repack',
      ];
  for (const path of candidates) {
    if (!existsSync(path)) continue;
    const version = await versionOf(path);
    if (version !== null) return { path, version };
  }
  return null;
}

/** libpq's environment variable for each connection parameter a postgres:// URL may carry in its query. */
const LIBPQ_PARAMETERS: Record<string, string> = {
  host: 'PGHOST',
  hostaddr: 'PGHOSTADDR',
  port: 'PGPORT',
  dbname: 'PGDATABASE',
  user: 'PGUSER',
  password: 'PGPASSWORD',
  passfile: 'PGPASSFILE',
  service: 'PGSERVICE',
  options: 'PGOPTIONS',
  application_name: 'PGAPPNAME',
  connect_timeout: 'PGCONNECT_TIMEOUT',
  sslmode: 'PGSSLMODE',
  sslrootcert: 'PGSSLROOTCERT',
  sslcert: 'PGSSLCERT',
  sslkey: 'PGSSLKEY',
  sslcrl: 'PGSSLCRL',
  channel_binding: 'PGCHANNELBINDING',
  gssencmode: 'PGGSSENCMODE',
  krbsrvname: 'PGKRBSRVNAME',
  target_session_attrs: 'PGTARGETSESSIONATTRS',
};

/**
 * The URL's connection settings as libpq environment variables (pg_repack's -d takes a database name only, and
 * a password must never be on a command line, where any user can read it). Throws, naming the parameter, for
 * one libpq has no variable for (e.g. node-pg's own `ssl=true`).
 */
export function libpqEnvironment(connectionString: string): Record<string, string> {
  const url = new URL(connectionString);
  const env: Record<string, string> = { PGAPPNAME: 'lending-purge' };
  if (url.hostname) env.PGHOST = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (url.port) env.PGPORT = url.port;
  if (url.username) env.PGUSER = decodeURIComponent(url.username);
  if (url.password) env.PGPASSWORD = decodeURIComponent(url.password);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (database) env.PGDATABASE = database;
  for (const [name, value] of url.searchParams) {
    const variable = LIBPQ_PARAMETERS[name];
    if (variable === undefined) {
      throw new Error(`the database URL's parameter "${name}" has no libpq equivalent for pg_repack`);
    }
    env[variable] = value;
  }
  return env;
}

/** Runs pg_repack; resolves to its exit code and its output (which names tables, never row values). */
export function runPgRepack(
  program: PgRepackProgram,
  args: readonly string[],
  env: Record<string, string | undefined>,
  onLine: (line: string) => void,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(program.path, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let pending = '';
    const take = (chunk: Buffer): void => {
      output += chunk.toString();
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) onLine(line.trim());
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', reject);
    child.on('close', (code) => {
      if (pending.trim()) onLine(pending.trim());
      resolve({ code, output: output.trim() });
    });
  });
}
