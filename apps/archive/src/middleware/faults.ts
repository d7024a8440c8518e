import type { Context, Next } from 'koa';
import { reply } from '../http';
import type { ArchiveFault, ArchiveState } from '../state';

async function play(ctx: Context, fault: ArchiveFault): Promise<void> {
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

/** Plays `state.fault` instead of answering, on the paths it names. */
export function faults(state: ArchiveState) {
  return async function playFault(ctx: Context, next: Next): Promise<void> {
    const fault = state.fault;
    if (fault && ctx.path.startsWith(fault.path ?? '/')) return play(ctx, fault);
    await next();
  };
}
