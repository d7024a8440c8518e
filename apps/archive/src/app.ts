import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bodyParser } from '@koa/bodyparser';
import Koa from 'koa';
import type { CallCounter } from './calls';
import { defaultFixture, type ArchiveFixture, type Catalogue } from './fixture';
import { reply } from './http';
import { faults } from './middleware/faults';
import { jsonErrors } from './middleware/json-errors';
import { latency } from './middleware/latency';
import type { Outbox } from './outbox';
import { devRoutes } from './routes/dev';
import { findEndpoint } from './routes';
import { ArchiveState } from './state';

export {
  DEMO_ACCESS_SECRET,
  DEMO_LOAN_API_TOKEN,
  DEMO_SERVICE_KEYS,
  archiveFixtureSchema,
  defaultFixture,
  demoPatrons,
  legacyAccountSeeds,
} from './fixture';
export type { ArchiveFixture, Catalogue, DemoPatron, LegacyAccountSeedData } from './fixture';
export { makeIaToken } from './ia-token';
export { OTP_ISSUE_LIMITS, OTP_MAX_TRIES, OTP_TTL_MS } from './otp';
export type { OutboxMessage } from './outbox';
export { ArchiveState, BORROW_MS, BROWSE_MS, LOAN_LIMIT } from './state';
export type { ArchiveFault, LendingStatus, Loan } from './state';
export { MAX_AVAILABILITY_IDS } from './routes/availability';
export type { CallCounter, Outbox };

export interface ArchiveOptions {
  /** The patrons, books and keys; default: the shipped fixture with `catalogue`. */
  fixture?: ArchiveFixture;
  /** Which shipped catalogue to serve when no fixture is given (default 'full'). */
  catalogue?: Catalogue;
  /**
   * Refuse what archive.org does not have (400): the invented loans action `user_loans`, and issue_key's old
   * field name `token` (archive.org reads `issuer_token`). Default true: Lending's client uses neither any more.
   */
  strictProtocol?: boolean;
  /** Production: no `/_dev/*` endpoints and no one-time codes in the log. Default false. */
  production?: boolean;
  /** Milliseconds every call waits before it is answered (also `state.latencyMs`). Default 0. */
  latencyMs?: number;
  /** The internal lending API's token (Open Library's `ia_ol_shared_key`); default: the fixture's. */
  loanApiToken?: string;
  /** The BookReader links' HMAC key (Open Library's `ia_access_secret`); default: the fixture's. */
  accessSecret?: string;
  /** Where the outbox's log line goes outside production; default: nowhere. */
  log?: (line: string) => void;
}

const states = new WeakMap<Koa, ArchiveState>();

/** The in-memory state behind an app made by createArchiveApp (loans, waitlists, tokens, clock, faults). */
export function archiveStateOf(app: Koa): ArchiveState {
  const state = states.get(app);
  if (!state) throw new Error('not an app made by createArchiveApp');
  return state;
}

/** Koa app standing in for the archive.org services Lending uses, seeded from a fixture. */
export function createArchiveApp(options: ArchiveOptions = {}): Koa {
  const fixture = options.fixture ?? defaultFixture({ catalogue: options.catalogue ?? 'full' });
  const state = new ArchiveState(fixture, {
    strictProtocol: options.strictProtocol ?? true,
    production: options.production ?? false,
    latencyMs: options.latencyMs ?? 0,
    loanApiToken: options.loanApiToken ?? fixture.loanApiToken,
    accessSecret: options.accessSecret ?? fixture.accessSecret,
    log: options.log ?? (() => undefined),
  });
  const app = new Koa();
  states.set(app, state);
  app.silent = true;

  app.use(jsonErrors);
  app.use(devRoutes(state));
  app.use(async (ctx, next) => {
    const endpoint = findEndpoint(ctx.path);
    if (endpoint) state.calls.count(endpoint.key(ctx));
    await next();
  });
  app.use(latency(state));
  app.use(faults(state));
  app.use(bodyParser({ enableTypes: ['json', 'form'], jsonLimit: '64kb', formLimit: '64kb' }));
  app.use(async (ctx) => {
    const endpoint = findEndpoint(ctx.path);
    if (!endpoint) return reply(ctx, 404, { error: 'not_found' });
    await endpoint.handle(ctx, state);
  });
  return app;
}

export interface RunningArchive {
  url: string;
  port: number;
  app: Koa;
  state: ArchiveState;
  /** Calls per endpoint since the start or the last `state.reset()` (see CallCounter). */
  calls: CallCounter;
  /** The one-time codes "emailed" since the start or the last `state.reset()`. */
  outbox: Outbox;
  close(): Promise<void>;
}

/** Starts the stand-in; port 0 picks a free port (the real one is returned). */
export async function startArchive(
  options: ArchiveOptions & { port?: number; host?: string } = {},
): Promise<RunningArchive> {
  const host = options.host ?? '127.0.0.1';
  const app = createArchiveApp(options);
  const handle = app.callback();
  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const state = archiveStateOf(app);
  return {
    url: `http://${urlHost}:${port}`,
    port,
    app,
    state,
    calls: state.calls,
    outbox: state.outbox,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
