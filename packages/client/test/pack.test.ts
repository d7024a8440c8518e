// @lending/client as an outside app gets it: `pnpm pack`, then `npm install <tarball>` into a temporary project
// outside the workspace, a TypeScript script typechecked against the package's own declarations (a wrong
// procedure name or input fails the typecheck), compiled, and run with plain node against a real server:
// log in with S3 keys, borrow, list, return. Slow (a declaration build and an npm install): up to a minute.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { demoPatrons, startArchive } from '@lending/archive';
import type { RunningArchive } from '@lending/archive';
import { createApp, loadEnv } from '@lending/server';
import type { LendingApp } from '@lending/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const packageDir = path.resolve(import.meta.dirname, '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

let folder = '';
let project = '';
let tarball = '';
let archive: RunningArchive;
let app: LendingApp;
let url = '';

function pnpm(args: string[], cwd: string) {
  const execPath = process.env.npm_execpath;
  return execPath?.endsWith('.cjs')
    ? run(process.execPath, [execPath, ...args], { cwd })
    : run('pnpm', args, { cwd });
}

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    lib: ['ES2022', 'DOM'],
    strict: true,
    // As tRPC asks of its users (@trpc/server's own declarations name node:http and ws); the script is still
    // checked against every type the package declares.
    skipLibCheck: true,
    outDir: 'out',
    types: [],
  },
};

const MAIN = `import { createLendingClient } from '@lending/client';
import type { Loan } from '@lending/client';

export async function borrowAndReturn(url: string, access: string, secret: string, identifier: string) {
  const lending = createLendingClient({ url });
  const me = await lending.auth.loginWithKeys.mutate({ access, secret });
  await lending.loans.borrow.mutate({ identifier });
  const onLoan: Loan[] = await lending.loans.list.query();
  await lending.loans.return.mutate({ identifier });
  const after = await lending.loans.list.query();
  return { email: me.email, onLoan: onLoan.map((l) => l.identifier), after: after.map((l) => l.identifier) };
}
`;

beforeAll(async () => {
  folder = mkdtempSync(path.join(tmpdir(), 'lending-client-'));
  await run(process.execPath, ['build.mjs'], { cwd: packageDir });
  await pnpm(['pack', '--pack-destination', folder], packageDir);
  tarball = path.join(
    folder,
    readdirSync(folder).find((f) => f.endsWith('.tgz'))!,
  );

  project = path.join(folder, 'outside-app');
  await run('mkdir', ['-p', path.join(project, 'src')]);
  writeFileSync(
    path.join(project, 'package.json'),
    JSON.stringify({ name: 'outside-app', private: true, type: 'module' }),
  );
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: project });

  archive = await startArchive({ port: 0 });
  const config = await loadEnv({
    NODE_ENV: 'test',
    APP_SECRET: 'client-pack-test-secret-0123456789abcdefgh',
    DATABASE_URL: 'sqlite::memory:',
    ARCHIVE_URL: archive.url,
    LOG_LEVEL: 'silent',
    WEB_DIST: '/nonexistent-web-dist',
  });
  app = createApp(config);
  url = (await app.listen(0, '127.0.0.1')).url;
}, 240_000);

afterAll(async () => {
  await app?.close();
  await archive?.close();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

async function typecheck(files: Record<string, string>): Promise<{ ok: boolean; output: string }> {
  const dir = mkdtempSync(path.join(project, 'check-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ ...TSCONFIG, include: ['*.ts'] }));
  try {
    const { stdout } = await run(process.execPath, [tsc, '-p', dir]);
    return { ok: true, output: stdout };
  } catch (error) {
    return { ok: false, output: String((error as { stdout?: string }).stdout ?? error) };
  }
}

describe('@lending/client from its tarball (slow)', () => {
  it('ships compiled JavaScript and one declaration file, with @trpc/client its only dependency', () => {
    const manifest = JSON.parse(
      readFileSync(path.join(project, 'node_modules/@lending/client/package.json'), 'utf8'),
    ) as Record<string, unknown>;
    expect(manifest.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(manifest.dependencies).toEqual({ '@trpc/client': expect.any(String) as string });
    expect(JSON.stringify(manifest.exports)).toContain('./dist/index.d.ts');
    const files = readdirSync(path.join(project, 'node_modules/@lending/client/dist')).sort();
    expect(files).toEqual(['index.d.ts', 'index.js']);
    const declarations = readFileSync(
      path.join(project, 'node_modules/@lending/client/dist/index.d.ts'),
      'utf8',
    );
    const imported = [...declarations.matchAll(/from '([^']+)'/g)].map((m) => m[1]);
    expect(new Set(imported)).toEqual(new Set(['@trpc/client', '@trpc/server']));
    // Nothing of the server's: no other workspace package, no database driver, no zod.
    const installed = readdirSync(path.join(project, 'node_modules'));
    for (const name of ['better-sqlite3', 'pg', 'zod', 'koa']) expect(installed).not.toContain(name);
    expect(readdirSync(path.join(project, 'node_modules/@lending'))).toEqual(['client']);
  });

  it('typechecks a script against the package, and refuses a wrong procedure name or input', async () => {
    const good = await typecheck({ 'main.ts': MAIN });
    expect(good.output).toBe('');
    expect(good.ok).toBe(true);

    // The README's example, as written.
    const readme = readFileSync(path.join(packageDir, 'README.md'), 'utf8');
    const example = /```ts\n([\s\S]+?)```/.exec(readme)?.[1] ?? '';
    expect(example.split('\n').length).toBeLessThanOrEqual(12);
    const fromReadme = await typecheck({
      'example.ts': `${example}\ndeclare const ACCESS_KEY: string;\ndeclare const SECRET_KEY: string;\n`,
    });
    expect(fromReadme.output).toBe('');

    const wrongName = await typecheck({
      'main.ts': MAIN.replace('lending.loans.borrow.mutate', 'lending.loans.borow.mutate'),
    });
    expect(wrongName.ok).toBe(false);
    expect(wrongName.output).toMatch(/main\.ts\(\d+,\d+\): error TS2551: Property 'borow' does not exist/);

    const wrongInput = await typecheck({
      'main.ts': MAIN.replace('borrow.mutate({ identifier })', 'borrow.mutate({ id: identifier })'),
    });
    expect(wrongInput.ok).toBe(false);
    expect(wrongInput.output).toMatch(/main\.ts\(\d+,\d+\): error TS\d+: .*'id'/);

    const wrongOutput = await typecheck({ 'main.ts': MAIN.replace('me.email', 'me.password') });
    expect(wrongOutput.ok).toBe(false);
    expect(wrongOutput.output).toMatch(/error TS2339: Property 'password' does not exist/);
  }, 120_000);

  it('runs the compiled script with plain node against a running server: log in, borrow, list, return', async () => {
    writeFileSync(path.join(project, 'src/main.ts'), MAIN);
    writeFileSync(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({
        ...TSCONFIG,
        compilerOptions: { ...TSCONFIG.compilerOptions, rootDir: 'src' },
        include: ['src'],
      }),
    );
    await run(process.execPath, [tsc, '-p', project]);
    writeFileSync(
      path.join(project, 'run.mjs'),
      `import { borrowAndReturn } from './out/main.js';\n` +
        `console.log(JSON.stringify(await borrowAndReturn(...process.argv.slice(2))));\n`,
    );

    const patron = demoPatrons().find((p) => !p.locked && p.verified)!;
    const search = await fetch(
      `${archive.url}/advancedsearch.php?q=collection:inlibrary&fl[]=identifier&rows=5&output=json`,
    );
    const identifier = ((await search.json()) as { response: { docs: { identifier: string }[] } }).response
      .docs[0]!.identifier;

    const { stdout } = await run(
      process.execPath,
      ['run.mjs', `${url}/trpc`, patron.access, patron.secret, identifier],
      {
        cwd: project,
        env: { PATH: process.env.PATH },
      },
    );
    expect(JSON.parse(stdout)).toEqual({ email: patron.email, onLoan: [identifier], after: [] });
  }, 60_000);
});
