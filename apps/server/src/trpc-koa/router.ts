// The two things the adapter reads from a router, each as tRPC documents or requires it.
import type { AnyTRPCProcedure, AnyTRPCRootTypes, AnyTRPCRouter, TRPCRootConfig } from '@trpc/server';

/** The Router's own members; everything else on a built router is its record of procedures and sub-routers. */
const ROUTER_MEMBERS = new Set(['_def', 'createCaller']);

function isProcedure(value: unknown): value is AnyTRPCProcedure {
  if (typeof value !== 'function') return false;
  const def = (value as { _def?: unknown })._def;
  if (typeof def !== 'object' || def === null) return false;
  const { procedure, type } = def as { procedure?: unknown; type?: unknown };
  return procedure === true && (type === 'query' || type === 'mutation' || type === 'subscription');
}

/**
 * The procedure at `path` (`account.me`), looked up as tRPC documents a built router ("its procedures and
 * sub-routers as properties", TRPCBuiltRouter) and a procedure (`_def.type`, TRPCQueryProcedure). Null for
 * anything else, including a lazy router not loaded yet: the caller leaves those to tRPC's own handler.
 */
export function findProcedure(router: AnyTRPCRouter, path: string): AnyTRPCProcedure | null {
  const keys = path.split('.');
  if (ROUTER_MEMBERS.has(keys[0]!)) return null;
  let node: unknown = router;
  for (const key of keys) {
    // Only records are walked into: never a procedure's own properties, nor anything inherited.
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, key)) return null;
    node = (node as Record<string, unknown>)[key];
  }
  return isProcedure(node) ? node : null;
}

/**
 * The router's root config, which tRPC's public `getTRPCErrorShape` and `transformTRPCResponse` take as their
 * first argument. tRPC's own adapters pass `router._def._config`, and its public types read the router's types
 * there (`inferRouterRootTypes`); there is no other way to it.
 */
export function routerConfig(router: AnyTRPCRouter): TRPCRootConfig<AnyTRPCRootTypes> {
  const config: TRPCRootConfig<AnyTRPCRootTypes> = router._def._config as TRPCRootConfig<AnyTRPCRootTypes>;
  return config;
}
