// The per-request context procedures receive: the host's part (host.ts), the request's clock, and the session,
// read once on first use. Its type is what createContext returns, so nothing imports a type back from here.
import type { ApiDeps, RequestInfo } from './host';
import { readSession } from './session';
import type { SessionUser } from './session';

/** Cheap: nothing is parsed until a procedure asks for the session. */
export function createContext(deps: ApiDeps, req: RequestInfo) {
  let session: Promise<SessionUser | null> | undefined;
  const context = {
    deps,
    req,
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
