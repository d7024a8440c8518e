// Starts the server from the environment; SIGTERM/SIGINT drain in-flight requests, close the store, exit 0.
import { openAccountStore } from '@lending/accounts';
import { archiveClientFor } from './archive';
import { createApp } from './app';
import { ConfigError, loadEnv } from './env';
import { createLogger } from './logger';

async function main(): Promise<void> {
  let config;
  try {
    config = await loadEnv();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`lending server: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config);
  const store = await openAccountStore(config.databaseUrl);
  const archive = archiveClientFor(config);
  const server = createApp(config, { store, archive, logger });
  const listening = await server.listen(config.port, config.host);
  logger.info(
    { url: listening.url, database: store.kind, archive: config.archive.url, env: config.nodeEnv },
    `lending server listening on ${listening.url}`,
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: draining in-flight requests');
    void (async () => {
      try {
        await server.close();
        await store.close();
        logger.info({}, 'stopped');
        logger.flush();
        process.exit(0);
      } catch (error) {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      }
    })();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  // Startup failures (database unreachable, port taken): one clear line, no stack for expected causes.
  const message = error instanceof Error ? error.message : String(error);
  console.error(`lending server: failed to start: ${message}`);
  process.exit(1);
});
