// Starts the server from the environment. SIGTERM/SIGINT: /readyz turns 503 at once, then after SHUTDOWN_DELAY_MS
// the listener closes and in-flight requests drain, then the store closes, exit 0; whatever the database or the
// clients do, the process is gone within SHUTDOWN_TIMEOUT_MS (exit 1 if the bound was needed).
import { PostgresAccountStore, openAccountStore } from '@lending/accounts';
import { createApp } from './app';
import { ConfigError, loadEnv, postgresTuning } from './env';
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
  const store = await openAccountStore(config.databaseUrl, postgresTuning(config));
  const server = createApp(config, { store, logger });
  const listening = await server.listen(config.port, config.host);
  logger.info(
    { url: listening.url, database: store.kind, archive: config.archive.url, env: config.nodeEnv },
    `lending server listening on ${listening.url}`,
  );
  const metricsListener = server.metricsListener();
  if (metricsListener) logger.info({ url: metricsListener.url }, `metrics on ${metricsListener.url}`);
  else if (config.nodeEnv === 'production' && config.metrics.token === undefined) {
    logger.warn({}, 'no metrics served: set METRICS_PORT or METRICS_TOKEN to read /metrics in production');
  }

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    server.beginShutdown();
    const { delayMs, timeoutMs } = config.shutdown;
    const deadline = Date.now() + timeoutMs;
    logger.info({ signal, delayMs, timeoutMs }, 'shutting down: /readyz answers 503, then draining');
    setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown did not finish in time: exiting anyway');
      logger.flush();
      process.exit(1);
    }, timeoutMs).unref();
    void (async () => {
      try {
        if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
        logger.info({}, 'draining in-flight requests');
        // In-flight requests get what the bound leaves, minus time for the store to close.
        await server.close(Math.max(1000, timeoutMs - delayMs - 3000));
        // PostgreSQL: connections that have not ended by then (a database that stopped answering) are cut.
        if (store instanceof PostgresAccountStore)
          await store.close(Math.max(100, deadline - Date.now() - 500));
        else await store.close();
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
