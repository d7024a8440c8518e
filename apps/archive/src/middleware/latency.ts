import { setTimeout as sleep } from 'node:timers/promises';
import type { Context, Next } from 'koa';
import type { ArchiveState } from '../state';

/** Waits `state.latencyMs` before answering, as a distant archive.org would. */
export function latency(state: ArchiveState) {
  return async function injectLatency(_ctx: Context, next: Next): Promise<void> {
    if (state.latencyMs > 0) await sleep(state.latencyMs);
    await next();
  };
}
