#!/usr/bin/env node
// `pnpm purge` starts here. The workspace root deliberately has no `purge` script: pnpm then runs the `purge`
// program its dependencies provide (as `pnpm exec purge` would), without the `> lending@ purge …` banner that
// `pnpm run` prints on stdout, so stdout carries only the purge's own output (a dry run's usernames, or the one
// --json document).
import 'tsx';

await import('../src/purge/main.ts');
