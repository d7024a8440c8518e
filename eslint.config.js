// One lint config for the whole workspace: type-aware rules, so floating promises fail CI; and the rooms' walls:
// no import cycle, and no reaching into another package's files.
import { readFileSync, readdirSync } from 'node:fs';
import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// The subpaths workspace packages export (`@lending/accounts/admin`, `@lending/api/client`): the only ones another
// package may import; anything else under `@lending/<name>/` is that package's internals.
const packageDirs = [
  ...['apps', 'packages'].flatMap((group) =>
    readdirSync(new URL(`./${group}/`, import.meta.url)).map((dir) => `${group}/${dir}`),
  ),
  'deploy',
];
const exportedSubpaths = packageDirs.flatMap((dir) => {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(new URL(`./${dir}/package.json`, import.meta.url), 'utf8'));
  } catch {
    return [];
  }
  return Object.keys(manifest.exports ?? {})
    .filter((key) => key !== '.')
    .map((key) => `!${manifest.name}${key.slice(1)}`);
});

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/.turbo/**',
      '**/data/**',
      '**/test-results/**',
      '**/*.d.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', '*.mjs', 'scripts/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    plugins: { 'import-x': importX },
    settings: {
      // The files import-x reads to follow imports, and the parser for the TypeScript ones.
      'import-x/extensions': ['.ts', '.tsx', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
      // Workspace packages resolve through their package.json `exports` (which point at their TypeScript source).
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.tsx', '.js', '.mjs', '.json'] })],
    },
    rules: {
      // A loop of value imports between modules (import-x skips type-only imports, which the compiler erases).
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      // `../../accounts/src/x` from another package: import the package by its name instead.
      'import-x/no-relative-packages': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@lending/*/*', ...exportedSubpaths],
              message:
                "Import a workspace package by its name (or a subpath its package.json exports), not its files: they are that package's internals.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
