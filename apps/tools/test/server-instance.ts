// Test fixture: one Lending server instance in a process of its own (apps/server's createApp on port 0), as a
// deployment runs several. Prints its URL once it listens; SIGTERM closes it. Its settings come from the
// environment: DATABASE_URL, ARCHIVE_URL and APP_SECRET.
// Usage: node --import tsx test/server-instance.ts
import { createApp, loadEnv } from '@lending/server';

const config = await loadEnv({
  ...process.env,
  NODE_ENV: 'test',
  LOG_LEVEL: 'silent',
  WEB_DIST: '/nonexistent-web-dist',
});
const app = createApp(config);
const listening = await app.listen(0, '127.0.0.1');
process.stdout.write(`${listening.url}\n`);
process.once('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
