// The per-request context procedures receive: the host's part (host.ts), the request's clock, and the session,
// read once on first use. Its type is what createContext returns, so nothing imports a type back from here.
import { CallBudget } from '@lending/accounts';
import type { ArchiveClient } from '@lending/accounts';
import type { ApiDeps, RequestInfo } from './host';
import { readSession } from './session';
import type { SessionUser } from './session';

/** Cheap: nothing is parsed until a procedure asks for the session. */
export function createContext(deps: ApiDeps, req: RequestInfo) {
  let session: Promise<SessionUser | null> | undefined;
  let archive: ArchiveClient | undefined;
  const context = {
    deps,
    req,
    /**
     * archive.org as this request may use it: every call spends the request's budget (deps.archiveCallsPerRequest),
     * however deep; made on first use. A method, not a getter: tRPC copies the context into each middleware's.
     */
    archive(): ArchiveClient {
      const limit = deps.archiveCallsPerRequest;
      return (archive ??=
        limit === undefined ? deps.archive : deps.archive.withBudget(new CallBudget(limit)));
    },
    /** Milliseconds since the epoch (deps.now, else Date.now), fixed for the request. */
    nowMs: deps.now ? deps.now() : Date.now(),
    /** Reads the `session` cookie and the account once, on first call; null when absent or invalid. */
    getSession(): Promise<SessionUser | null> {
      session ??= readSession(context);
      return session;
    },
  };
  return context;
}

export type Context = Awaited<ReturnType<typeof createContext>>;
