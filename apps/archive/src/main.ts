import { startArchive } from './app';
import { readEnv } from './env';

let env;
try {
  env = readEnv();
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
const archive = await startArchive({ port: env.ARCHIVE_PORT, host: env.ARCHIVE_HOST });
console.log(`archive.org stand-in listening on ${archive.url}`);

const stop = () => {
  archive.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
