import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bodyParser } from '@koa/bodyparser';
import Koa, { type Context, type Next } from 'koa';
import { defaultFixture, type ArchiveFixture } from './fixture';
import { reply } from './http';
import { loans } from './routes/loans';
import { s3auth } from './routes/s3auth';
import { advancedSearch } from './routes/search';
import { xauthn } from './routes/xauthn';
import { ArchiveState, type ArchiveFault } from './state';

export {
  DEMO_SERVICE_KEYS,
  archiveFixtureSchema,
  defaultFixture,
  demoPatrons,
  legacyAccountSeeds,
} from './fixture';
export type { ArchiveFixture, DemoPatron, LegacyAccountSeedData } from './fixture';
export { ArchiveState, BORROW_MS, BROWSE_MS, LOAN_LIMIT } from './state';
export type { ArchiveFault, LendingStatus, Loan } from './state';

const states = new WeakMap<Koa, ArchiveState>();

/** The in-memory state behind an app made by createArchiveApp (loans, waitlists, tokens, clock, faults). */
export function archiveStateOf(app: Koa): ArchiveState {
  const state = states.get(app);
  if (!state) throw new Error('not an app made by createArchiveApp');
  return state;
}

/** Any error becomes JSON; client errors (bad JSON, too large, bad charset) keep their 4xx status. */
async function jsonErrors(ctx: Context, next: Next): Promise<void> {
  try {
    await next();
  } catch (error) {
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // No message: a JSON parser's message can quote the body, and bodies carry keys.
      reply(ctx, status, { error: status === 413 ? 'payload_too_large' : 'bad_request' });
    } else {
      ctx.app.emit('error', error, ctx);
      reply(ctx, 500, { error: 'internal_error' });
    }
  }
}

async function playFault(ctx: Context, fault: ArchiveFault): Promise<void> {
  switch (fault.kind) {
    case 'hang':
      await new Promise<void>((resolve) => ctx.req.once('close', resolve));
      ctx.respond = false;
      return;
    case 'reset':
      ctx.req.socket.destroy();
      ctx.respond = false;
      return;
    case 'status':
      return reply(ctx, fault.status, { error: 'injected_fault' });
    case 'non_json':
      ctx.status = 200;
      ctx.type = 'text/html';
      ctx.body = '<html><body>Temporarily out of service</body></html>';
      return;
    case 'bad_shape':
      return reply(ctx, 200, { unexpected: true });
  }
}

/** Koa app standing in for archive.org's xauthn, s3auth, loans and advancedsearch, seeded from `fixture`. */
export function createArchiveApp(fixture: ArchiveFixture = defaultFixture()): Koa {
  const state = new ArchiveState(fixture);
  const app = new Koa();
  states.set(app, state);
  app.silent = true;

  app.use(jsonErrors);
  app.use(async (ctx, next) => {
    const fault = state.fault;
    if (fault && ctx.path.startsWith(fault.path ?? '/')) return playFault(ctx, fault);
    await next();
  });
  app.use(bodyParser({ enableTypes: ['json', 'form'], jsonLimit: '64kb', formLimit: '64kb' }));
  app.use(async (ctx) => {
    switch (ctx.path.replace(/\/?$/, '/')) {
      case '/services/xauthn/':
        return xauthn(ctx, state);
      case '/services/s3auth/':
        return s3auth(ctx, state);
      case '/services/loans/loan/':
        return loans(ctx, state);
      case '/advancedsearch.php/':
        return advancedSearch(ctx, state);
      default:
        return reply(ctx, 404, { error: 'not_found' });
    }
  });
  return app;
}

export interface RunningArchive {
  url: string;
  port: number;
  app: Koa;
  state: ArchiveState;
  close(): Promise<void>;
}

/** Starts the stand-in; port 0 picks a free port (the real one is returned). */
export async function startArchive(
  options: { port?: number; host?: string; fixture?: ArchiveFixture } = {},
): Promise<RunningArchive> {
  const host = options.host ?? '127.0.0.1';
  const app = createArchiveApp(options.fixture);
  const handle = app.callback();
  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    app,
    state: archiveStateOf(app),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
