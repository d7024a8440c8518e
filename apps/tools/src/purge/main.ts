// Entry point of `pnpm purge`: reads the environment once and hands the process streams to the CLI.
import { readEnv } from '../env';
import { runPurgeCli } from './cli';

const env = readEnv();
process.exitCode = await runPurgeCli(process.argv.slice(2), {
  io: { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin },
  defaultDatabaseUrl: env.DATABASE_URL,
  signals: process,
  pgRepackPath: env.PG_REPACK,
  childEnvironment: env.childEnvironment,
  metricsToken: env.METRICS_TOKEN,
});
