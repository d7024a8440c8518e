import { z } from 'zod';

const flag = z
  .enum(['1', '0', 'true', 'false', ''])
  .default('')
  .transform((value) => value === '1' || value === 'true');

const envSchema = z.object({
  ARCHIVE_PORT: z.coerce.number().int().min(0).max(65535).default(3001),
  ARCHIVE_HOST: z.string().min(1).default('127.0.0.1'),
  NODE_ENV: z.string().default('development'),
  /** Refuse the calls archive.org does not have (see ArchiveOptions.strictProtocol). */
  ARCHIVE_STRICT: flag,
  /** Milliseconds every call waits, as if archive.org were far away. */
  ARCHIVE_LATENCY_MS: z.coerce.number().int().min(0).max(60_000).default(0),
  /** `full` (default when run on its own): 155 lendable books and 6 print-disabled-only; `classic`: 30. */
  ARCHIVE_CATALOGUE: z.enum(['full', 'classic']).default('full'),
  /** Open Library's `ia_ol_shared_key`: the internal lending API's token (default: the fixture's). */
  ARCHIVE_LOAN_API_TOKEN: z.string().min(16).optional(),
  /** Open Library's `ia_access_secret`: the BookReader links' HMAC key (default: the fixture's). */
  ARCHIVE_ACCESS_SECRET: z.string().min(16).optional(),
});

export type ArchiveEnv = z.infer<typeof envSchema>;

/** Reads the stand-in's configuration; a bad value stops it with a clear message. */
export function readEnv(env: NodeJS.ProcessEnv = process.env): ArchiveEnv {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`Invalid archive stand-in configuration:\n${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}
