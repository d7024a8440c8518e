// Builds the publishable package into dist/: index.js (ES module; the only import left is @trpc/client) and
// index.d.ts (one self-contained declaration file: the router's types from @lending/api and the packages
// behind it are inlined; it imports types from @trpc/client and @trpc/server only).
// Declarations: tsc emits them for the whole graph (workspace packages mapped to their sources, so they are
// emitted rather than treated as libraries), then rollup-plugin-dts joins them into one file.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { rollup } from 'rollup';
import { dts } from 'rollup-plugin-dts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const dist = path.join(here, 'dist');
const entry = path.join(here, 'src/index.ts');

/** Workspace packages the types come from: specifier -> source entry, relative to the repository root. */
const WORKSPACE = {
  '@lending/api': 'packages/api/src/index.ts',
  '@lending/api/client': 'packages/api/src/client.ts',
  '@lending/accounts': 'packages/accounts/src/index.ts',
  '@lending/crypto': 'packages/crypto/src/index.ts',
};

const started = performance.now();
rmSync(dist, { recursive: true, force: true });
await build({
  entryPoints: [entry],
  outfile: path.join(dist, 'index.js'),
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  external: ['@trpc/client', '@trpc/server'],
  logLevel: 'warning',
});
const jsMs = performance.now() - started;

const declarations = mkdtempSync(path.join(tmpdir(), 'lending-client-dts-'));
try {
  const tsconfig = path.join(declarations, 'tsconfig.json');
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: path.join(root, 'tsconfig.base.json'),
      files: [entry],
      compilerOptions: {
        noEmit: false,
        declaration: true,
        emitDeclarationOnly: true,
        rootDir: root,
        outDir: declarations,
        paths: Object.fromEntries(
          Object.entries(WORKSPACE).map(([name, file]) => [name, [path.join(root, file)]]),
        ),
        typeRoots: [path.join(here, 'node_modules/@types'), path.join(root, 'node_modules/@types')],
      },
    }),
  );
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', tsconfig], { stdio: 'inherit' });

  const dtsOf = (file) => path.join(declarations, file.replace(/\.ts$/, '.d.ts'));
  const bundle = await rollup({
    input: dtsOf(path.relative(root, entry)),
    external: (id) => /^@trpc\/(client|server)(\/|$)/.test(id),
    plugins: [
      {
        name: 'lending-workspace-declarations',
        resolveId: (id) => (id in WORKSPACE ? dtsOf(WORKSPACE[id]) : null),
      },
      dts(),
    ],
    // The graph behind the router names better-sqlite3, zod, node:crypto…; none of it reaches the router's
    // types (the test checks that the file imports @trpc only), so unresolved imports are expected here.
    onwarn(warning, warn) {
      if (warning.code !== 'UNRESOLVED_IMPORT') warn(warning);
    },
  });
  await bundle.write({ file: path.join(dist, 'index.d.ts'), format: 'es' });
  await bundle.close();
} finally {
  rmSync(declarations, { recursive: true, force: true });
}
console.log(
  `client build: index.js in ${Math.round(jsMs)} ms, index.d.ts in ${Math.round(performance.now() - started - jsMs)} ms`,
);
