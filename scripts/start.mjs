// `pnpm start`: the whole system on one machine, from a fresh clone after `pnpm install`.
// Builds the SPA when needed, seeds the demo accounts once, starts the archive.org stand-in and the server
// (SQLite under ./data by default), waits until /healthz answers, then prints the URL and a demo login.
// Ctrl-C (or SIGTERM) stops both children cleanly.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tsx = path.join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'tsx.cmd' : 'tsx');
const DEMO = { email: 'patron@example.org', password: 'lending-demo-2026' };

const env = { NODE_ENV: 'development', ...process.env };
const port = env.PORT || '3000';
const host = env.HOST || '127.0.0.1';
const startStandIn = !env.ARCHIVE_URL;
const archivePort = env.ARCHIVE_PORT || '3001';
if (startStandIn) env.ARCHIVE_URL = `http://127.0.0.1:${archivePort}`;
// Which database the demo accounts were seeded into (the server's default when DATABASE_URL is unset).
const databaseKey = env.DATABASE_URL || '(default)';

const say = (line) => console.log(`[start] ${line}`);

function fail(message) {
  console.error(`[start] ${message}`);
  process.exit(1);
}

if (!existsSync(tsx)) fail('dependencies are missing: run `pnpm install` first.');

function run(command, args, extraEnv = {}) {
  const result = spawnSync(command, args, { cwd: root, env: { ...env, ...extraEnv }, stdio: 'inherit' });
  return result.status === 0;
}

function pnpm(args, extraEnv = {}) {
  // Under `pnpm start`, npm_execpath is pnpm itself: no need for pnpm on PATH.
  const execPath = process.env.npm_execpath;
  return execPath && execPath.endsWith('.cjs')
    ? run(process.execPath, [execPath, ...args], extraEnv)
    : run(process.platform === 'win32' ? 'pnpm.cmd' : 'pnpm', args, extraEnv);
}

/** Newest modification time (ms) of the files under `dir`, skipping build output and dependencies. */
function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (['node_modules', 'dist', 'test-results', '.turbo'].includes(entry.name)) continue;
    const full = path.join(dir, entry.name);
    const time = entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs;
    if (time > newest) newest = time;
  }
  return newest;
}

// 1. The SPA: build it when apps/web can be built and its dist is missing or older than its sources.
function buildWeb() {
  const webDir = path.join(root, 'apps', 'web');
  const manifest = path.join(webDir, 'package.json');
  const hasBuild = existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).scripts?.build;
  if (!hasBuild || !existsSync(path.join(webDir, 'index.html'))) {
    say('apps/web is not there yet: skipping the SPA build (the API still runs on /trpc).');
    return;
  }
  const builtIndex = path.join(webDir, 'dist', 'index.html');
  if (existsSync(builtIndex) && statSync(builtIndex).mtimeMs >= newestMtime(webDir)) {
    say('SPA is up to date (apps/web/dist).');
    return;
  }
  say('building the SPA (pnpm --filter @lending/web build)…');
  // Always a production build: Vite and the React plugin follow NODE_ENV, and the 'development' the
  // server runs with here would ship React's development build (~157 KB gzipped, over the 100 KB budget).
  if (!pnpm(['--filter', '@lending/web', 'build'], { NODE_ENV: 'production' })) {
    say('the SPA build failed: starting without it (the API still runs on /trpc).');
  }
}

// 2. Demo data: the pre-change ("legacy") accounts, once per database.
function seedDemo() {
  if (env.NODE_ENV === 'production') return;
  const marker = path.join(
    root,
    'data',
    `.demo-seeded-${createHash('sha256').update(databaseKey).digest('hex').slice(0, 12)}`,
  );
  if (existsSync(marker)) return;
  say('seeding the demo accounts…');
  if (!run(tsx, ['apps/server/src/seed-demo.ts'])) fail('seeding the demo accounts failed (see above).');
  mkdirSync(path.dirname(marker), { recursive: true });
  writeFileSync(marker, `${new Date().toISOString()}\n`);
}

// 3. The two processes.
const children = new Map();
let stopping = false;

function prefixLines(stream, label, out) {
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) out.write(`[${label}] ${line}\n`);
  });
}

function start(label, script, extraEnv = {}) {
  const child = spawn(tsx, [script], {
    cwd: root,
    env: { ...env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // own process group: only this script signals it, once (Ctrl-C reaches us, we forward SIGTERM)
  });
  prefixLines(child.stdout, label, process.stdout);
  prefixLines(child.stderr, label, process.stderr);
  children.set(label, child);
  child.on('exit', (code, signal) => {
    children.delete(label);
    if (!stopping) {
      console.error(`[start] ${label} exited (${signal ?? `code ${code}`}); stopping.`);
      stop(1);
    } else if (children.size === 0) {
      process.exit(exitCode);
    }
  });
  return child;
}

let exitCode = 0;
function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  exitCode = code;
  if (children.size === 0) process.exit(code);
  for (const child of children.values()) child.kill('SIGTERM');
  // A child that does not drain in time is killed.
  setTimeout(() => {
    for (const child of children.values()) child.kill('SIGKILL');
    process.exit(code || 1);
  }, 15_000).unref();
}

process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
process.on('exit', () => {
  for (const child of children.values()) child.kill('SIGTERM');
});

async function waitForHealth(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !stopping) {
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}

buildWeb();
seedDemo();
// Strict: the stand-in refuses what archive.org does not have, so the demo proves the protocol too.
if (startStandIn)
  start('archive', 'apps/archive/src/main.ts', {
    ARCHIVE_PORT: archivePort,
    ARCHIVE_STRICT: env.ARCHIVE_STRICT ?? '1',
  });
else say(`using archive.org at ARCHIVE_URL (no stand-in started).`);
start('server', 'apps/server/src/main.ts');

const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
// Browsers keep Secure cookies from plain-http `localhost`, so that is the address to open in development.
const browserUrl = ['127.0.0.1', '0.0.0.0', '::1'].includes(host) ? `http://localhost:${port}` : url;
if (await waitForHealth(url, 60_000)) {
  console.log(`
  Lending is running: open ${browserUrl}
  Demo login:  ${DEMO.email} / ${DEMO.password}
  With curl:   curl -c jar -H 'content-type: application/json' \\
                 -d '{"email":"${DEMO.email}","password":"${DEMO.password}"}' ${url}/trpc/auth.login
               curl -b jar -c jar -H 'content-type: application/json' \\
                 -d '{"identifier":"prideandprejudic00aust"}' ${url}/trpc/loans.borrow
  Ctrl-C stops everything.
`);
} else if (!stopping) {
  console.error(`[start] ${url}/healthz did not answer within 60 s; stopping.`);
  stop(1);
}
