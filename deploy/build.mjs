// `pnpm build` for production: bundles the server, the archive.org stand-in and the tools into dist/*.mjs
// (esbuild, ESM, shared chunks), so that they run with plain `node` and only the packages that cannot be
// bundled: better-sqlite3 (a native addon) and pg. The SPA built by @lending/web is copied to dist/web.
// Why esbuild: measured on this code (five programs, shared chunks), esbuild builds in 0.3-0.9 s, rolldown (the
// bundler under tsdown) in 0.1-0.4 s with 35% less output (2.0 MB against 3.1 MB); both are far below what
// matters here, and esbuild is already in the lockfile (tsx, vite) with a JS API that has been stable for years.
import { cpSync, existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const dist = path.join(here, 'dist');

/** Programs in dist/: name -> source. */
export const PROGRAMS = {
  server: path.join(here, 'src/server.ts'),
  archive: path.join(root, 'apps/archive/src/main.ts'),
  purge: path.join(root, 'apps/tools/src/purge/main.ts'),
  seed: path.join(root, 'apps/tools/src/seed-main.ts'),
  lending: path.join(root, 'apps/tools/src/lending-main.ts'),
};

/** Files a bundled module opens beside itself at run time (`new URL('./x', import.meta.url)`). */
const BESIDE = [
  {
    // The SQLite rebuild runs as a child process (its own memory for VACUUM): spawned from the admin code.
    when: 'packages/accounts/src/admin/sqlite.ts',
    file: path.join(root, 'packages/accounts/src/admin/sqlite-rebuild.mjs'),
  },
];

const started = performance.now();
rmSync(dist, { recursive: true, force: true });
const result = await build({
  entryPoints: PROGRAMS,
  outdir: dist,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunk-[hash]',
  // Native or optional-native: installed as production dependencies beside dist/.
  external: ['better-sqlite3', 'pg', 'pg-native'],
  // CommonJS dependencies (koa's) call require() for Node built-ins; an ES module has no require of its own.
  banner: {
    js: "import { createRequire as __lendingRequire } from 'node:module'; const require = __lendingRequire(import.meta.url);",
  },
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
});

const inputs = Object.keys(result.metafile.inputs).map((input) => path.resolve(process.cwd(), input));
for (const { when, file } of BESIDE) {
  if (inputs.includes(path.join(root, when))) cpSync(file, path.join(dist, path.basename(file)));
}

const web = path.join(root, 'apps/web/dist');
if (!existsSync(path.join(web, 'index.html'))) {
  console.error('deploy build: apps/web/dist is missing: build the SPA first (`pnpm build` does).');
  process.exit(1);
}
cpSync(web, path.join(dist, 'web'), { recursive: true });

const bytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
console.log(
  `deploy build: ${Object.keys(PROGRAMS).length} programs, ${Math.round(bytes / 1024)} kB of JavaScript and maps in ${Math.round(performance.now() - started)} ms`,
);
