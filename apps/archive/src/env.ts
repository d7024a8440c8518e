import { z } from 'zod';

const envSchema = z.object({
  ARCHIVE_PORT: z.coerce.number().int().min(0).max(65535).default(3001),
  ARCHIVE_HOST: z.string().min(1).default('127.0.0.1'),
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
