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
