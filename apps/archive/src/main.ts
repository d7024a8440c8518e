import { startArchive, type RunningArchive } from './app';
import { readEnv } from './env';

let archive: RunningArchive;
try {
  const env = readEnv();
  archive = await startArchive({
    port: env.ARCHIVE_PORT,
    host: env.ARCHIVE_HOST,
    catalogue: env.ARCHIVE_CATALOGUE,
    strictProtocol: env.ARCHIVE_STRICT,
    production: env.NODE_ENV === 'production',
    latencyMs: env.ARCHIVE_LATENCY_MS,
    loanApiToken: env.ARCHIVE_LOAN_API_TOKEN,
    accessSecret: env.ARCHIVE_ACCESS_SECRET,
    // The demo's "mailbox": one-time codes are printed here (never in production).
    log: (line) => console.log(line),
  });
} catch (error) {
  // A bad variable or a port in use: say so in one line and stop.
  console.error(`archive.org stand-in could not start: ${(error as Error).message}`);
  process.exit(1);
}
console.log(`archive.org stand-in listening on ${archive.url}`);

const stop = () => {
  archive.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
