// The production build, deployed the way the README's "Deploy" section says: `pnpm build`, then
// `pnpm --filter @lending/deploy --config.inject-workspace-packages=true deploy --prod <folder>`, into a
// temporary folder outside the workspace. From there, with plain `node` and no development dependency in reach, the stand-in and the
// server start (NODE_ENV=production), the SPA is served, and the purge runs: --dry-run, then for real
// (its SQLite rebuild is a child process, sqlite-rebuild.mjs, that must sit beside the bundle).
// Slow (a build and an install): about 10 s.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEMO_ACCESS_SECRET, DEMO_LOAN_API_TOKEN, DEMO_SERVICE_KEYS } from '@lending/archive';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProgram, startProgram } from './programs';
import type { Program } from './programs';

const deployPackage = path.resolve(import.meta.dirname, '..');
const NODE = process.execPath;
const APP_SECRET = 'deploy-test-secret-0123456789abcdefghijkl';

let folder: string;
let out: string;
let database: string;
const running: Program[] = [];

function pnpm(args: string[], cwd: string): string {
  const execPath = process.env.npm_execpath;
  return execPath?.endsWith('.cjs')
    ? execFileSync(process.execPath, [execPath, ...args], { cwd, encoding: 'utf8' })
    : execFileSync('pnpm', args, { cwd, encoding: 'utf8' });
}

beforeAll(() => {
  folder = mkdtempSync(path.join(tmpdir(), 'lending-deploy-'));
  out = path.join(folder, 'lending');
  database = path.join(folder, 'data', 'lending.sqlite');
  execFileSync(process.execPath, ['build.mjs'], { cwd: deployPackage, stdio: 'pipe' });
  pnpm(
    [
      '--filter',
      '@lending/deploy',
      '--config.inject-workspace-packages=true',
      'deploy',
      '--prod',
      '--prefer-offline',
      out,
    ],
    deployPackage,
  );
  // Up to minutes when better-sqlite3 must be compiled for this Node (CI's Node 24 run compiles it once).
}, 600_000);

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop()));
  if (folder) rmSync(folder, { recursive: true, force: true });
});

describe('the deployed build (slow)', () => {
  it('holds the bundles, the SPA and only the production dependencies', () => {
    const programs = readdirSync(path.join(out, 'dist')).filter((f) => /^[a-z-]+\.mjs$/.test(f));
    expect(programs.sort()).toEqual(
      ['archive.mjs', 'lending.mjs', 'purge.mjs', 'seed.mjs', 'server.mjs', 'sqlite-rebuild.mjs'].sort(),
    );
    for (const file of [
      'dist/web/index.html',
      'haproxy/haproxy.cfg',
      'systemd/lending@.service',
      'lending.env.example',
    ]) {
      expect(existsSync(path.join(out, file)), file).toBe(true);
    }
    const manifest = JSON.parse(readFileSync(path.join(out, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(Object.keys(manifest.dependencies).sort()).toEqual(['better-sqlite3', 'pg']);
    const topLevel = readdirSync(path.join(out, 'node_modules')).filter((f) => !f.startsWith('.'));
    expect(topLevel.sort()).toEqual(['better-sqlite3', 'pg']);
    for (const dev of ['tsx', 'typescript', 'vitest', 'esbuild', 'koa', 'zod']) {
      expect(existsSync(path.join(out, 'node_modules', dev)), dev).toBe(false);
    }
  });

  it('starts the stand-in and the server in production, serves the SPA, and the purge runs from there', async () => {
    const seeded = await runProgram(
      NODE,
      [
        'dist/seed.mjs',
        '--accounts',
        '40',
        '--with-keys',
        '50',
        '--json',
        '--database-url',
        `sqlite:${database}`,
      ],
      out,
      {},
    );
    expect(seeded.code, seeded.stderr).toBe(0);
    const { withKeys } = JSON.parse(seeded.stdout) as { withKeys: number };
    expect(withKeys).toBeGreaterThan(0);

    const archive = await startProgram(NODE, 'dist/archive.mjs', out, { ARCHIVE_PORT: '0' });
    running.push(archive);
    const server = await startProgram(NODE, 'dist/server.mjs', out, {
      NODE_ENV: 'production',
      PORT: '0',
      APP_SECRET,
      DATABASE_URL: `sqlite:${database}`,
      ARCHIVE_URL: archive.url,
      ARCHIVE_SERVICE_ACCESS: DEMO_SERVICE_KEYS.access,
      ARCHIVE_SERVICE_SECRET: DEMO_SERVICE_KEYS.secret,
      ARCHIVE_LOAN_API_TOKEN: DEMO_LOAN_API_TOKEN,
      ARCHIVE_ACCESS_SECRET: DEMO_ACCESS_SECRET,
    });
    running.push(server);

    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toMatch(/<script[^>]+src="\/assets\/index-[\w-]+\.js"/);
    const login = await fetch(`${server.url}/trpc/account.me`);
    expect(login.status).toBe(200);

    const dryRun = await runProgram(NODE, ['dist/purge.mjs', '--dry-run'], out, {
      DATABASE_URL: `sqlite:${database}`,
    });
    expect(dryRun.code, dryRun.stderr).toBe(0);
    const listed = dryRun.stdout.split('\n').filter(Boolean);
    expect(listed.length).toBe(withKeys);

    const purge = await runProgram(NODE, ['dist/purge.mjs', '--yes', '--json'], out, {
      DATABASE_URL: `sqlite:${database}`,
    });
    expect(purge.code, purge.stderr).toBe(0);
    // Exit 0 needs the compaction to succeed: the rebuild program ran beside the bundle.
    expect(JSON.parse(purge.stdout)).toMatchObject({
      purged: withKeys,
      errors: 0,
      compaction: { method: 'sqlite_vacuum', error: null },
    });

    const after = await runProgram(NODE, ['dist/purge.mjs', '--dry-run'], out, {
      DATABASE_URL: `sqlite:${database}`,
    });
    expect(after.stdout.trim()).toBe('');

    expect(await server.stop()).toBe(0);
    running.splice(running.indexOf(server), 1);
  }, 120_000);
});
