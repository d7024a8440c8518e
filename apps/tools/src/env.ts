// The only place apps/tools reads process.env: parsed once with zod.
import { z } from 'zod';

const EnvSchema = z.object({
  /** The store the server uses; an empty value counts as unset. */
  DATABASE_URL: z
    .string()
    .optional()
    .transform((value) => (value?.trim() ? value.trim() : 'sqlite:./data/lending.db')),
  /** PostgreSQL for throwaway schemas (benchmark). */
  DATABASE_URL_TEST: z
    .string()
    .optional()
    .transform((value) => (value?.trim() ? value.trim() : 'postgres://postgres@127.0.0.1:5432/test')),
  /** Tests: '1' turns "PostgreSQL unreachable, skipped" into a failure. */
  REQUIRE_POSTGRES: z
    .string()
    .optional()
    .transform((value) => value === '1'),
});

export type ToolsEnv = z.infer<typeof EnvSchema>;

export function readEnv(source: NodeJS.ProcessEnv = process.env): ToolsEnv {
  return EnvSchema.parse(source);
}

// `pnpm lending`: the typed-client example. The keys are the patron's archive.org S3 keys.
const LendingEnvSchema = z.object({
  LENDING_URL: z
    .string()
    .optional()
    .transform((value) => (value?.trim() ? value.trim() : 'http://127.0.0.1:3000'))
    .pipe(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }))
    .transform((value) => value.replace(/\/+$/, '')),
  LENDING_ACCESS: z
    .string()
    .optional()
    .transform((value) => value?.trim() || undefined),
  LENDING_SECRET: z
    .string()
    .optional()
    .transform((value) => value?.trim() || undefined),
});

export type LendingEnv = z.infer<typeof LendingEnvSchema>;

/** The lending command's settings, or the problems (variable names only, never a value). */
export function readLendingEnv(
  source: NodeJS.ProcessEnv = process.env,
): { ok: true; env: LendingEnv } | { ok: false; problems: string[] } {
  const parsed = LendingEnvSchema.safeParse(source);
  if (parsed.success) return { ok: true, env: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map(
      (issue) => `${String(issue.path[0] ?? 'environment')}: ${issue.message}`,
    ),
  };
}
