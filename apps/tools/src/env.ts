// The only place apps/tools reads process.env: parsed once with zod.
import { DEFAULT_DATABASE_URL } from '@lending/accounts';
import { z } from 'zod';

const optional = z
  .string()
  .optional()
  .transform((value) => value?.trim() || undefined);

const EnvSchema = z.object({
  /** The store the server uses; an empty value counts as unset. */
  DATABASE_URL: z
    .string()
    .optional()
    .transform((value) => (value?.trim() ? value.trim() : DEFAULT_DATABASE_URL)),
  /** The pg_repack program, when it is neither on PATH nor where PostgreSQL's packages put it. */
  PG_REPACK: optional,
  /** `purge --check`: the servers' METRICS_TOKEN, sent as a bearer token with every /metrics request. */
  METRICS_TOKEN: optional,
  /** PostgreSQL for throwaway schemas (benchmark). */
  DATABASE_URL_TEST: z
    .string()
    .optional()
    .transform((value) => (value?.trim() ? value.trim() : 'postgres://postgres@127.0.0.1:5432/test')),
  /** Tests: replay the purge property test with these seeds and store sizes (comma-separated). */
  PURGE_PROPERTY_SEEDS: optional,
  PURGE_PROPERTY_SIZES: optional,
  /** Tests: '1' turns "PostgreSQL unreachable, skipped" into a failure. */
  REQUIRE_POSTGRES: z
    .string()
    .optional()
    .transform((value) => value === '1'),
});

export type ToolsEnv = z.infer<typeof EnvSchema> & {
  /**
   * The environment helper programs (pg_repack) start from: libpq reads ~/.pgpass and its certificates through
   * HOME, and pg_repack is looked for on PATH.
   */
  childEnvironment: Readonly<Record<string, string | undefined>>;
};

export function readEnv(source: NodeJS.ProcessEnv = process.env): ToolsEnv {
  return { ...EnvSchema.parse(source), childEnvironment: { ...source } };
}

// `pnpm lending`: the typed-client example. The keys are the patron's archive.org S3 keys.
const LendingEnvSchema = z.object({
  LENDING_URL: z
    .string()
    .optional()
    .transform((value) => (value?.trim() ? value.trim() : 'http://127.0.0.1:3000'))
    .pipe(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }))
    .transform((value) => value.replace(/\/+$/, '')),
  LENDING_ACCESS: optional,
  LENDING_SECRET: optional,
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
