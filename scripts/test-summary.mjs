// Adds up the vitest JSON reports of every package and prints one closing line for the whole run.
// `--clean` removes reports left by an earlier run, so the total only counts this one.
import { readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const reports = [];
// The workspace's packages: apps/*, packages/*, and deploy (the production build).
const dirs = ['apps', 'packages'].flatMap((group) =>
  readdirSync(join(root, group)).map((name) => join(root, group, name)),
);
dirs.push(join(root, 'deploy'));
for (const dir of dirs) {
  if (!existsSync(dir)) continue;
  for (const file of readdirSync(dir)) {
    if (/^\.vitest-results.*\.json$/.test(file)) reports.push(join(dir, file));
  }
}

if (process.argv.includes('--clean')) {
  for (const file of reports) rmSync(file);
  process.exit(0);
}

let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of reports) {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
}
if (reports.length === 0) {
  console.error('no test reports found: no test ran');
  process.exit(1);
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
