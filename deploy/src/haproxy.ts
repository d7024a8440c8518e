// The HAProxy configuration of deploy/haproxy/haproxy.cfg with another listening address and other servers:
// for tests (servers on port 0) and for operators who generate it (`node dist/…` is not needed: it is text).
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const HAPROXY_CONFIG = path.resolve(import.meta.dirname, '../haproxy/haproxy.cfg');

export interface HaproxyOptions {
  /** Where the balancer listens, e.g. `127.0.0.1:8080`. */
  bind: string;
  /** The Lending servers, `host:port` each. */
  servers: readonly string[];
  /** Health-check interval in milliseconds (default: the file's, 1 s). */
  checkIntervalMs?: number;
}

const ADDRESS = /^[\w.-]+:\d{1,5}$|^\[[\da-f:]+\]:\d{1,5}$/i;

/** The configuration text with `options` in place of the file's bind address and server lines. */
export function renderHaproxyConfig(
  options: HaproxyOptions,
  template = readFileSync(HAPROXY_CONFIG, 'utf8'),
): string {
  for (const address of [options.bind, ...options.servers]) {
    if (!ADDRESS.test(address)) throw new Error(`not a host:port address: ${JSON.stringify(address)}`);
  }
  if (options.servers.length === 0) throw new Error('at least one server is needed');
  const lines = template.split('\n');
  const begin = lines.findIndex((l) => l.trim() === '# lending:servers begin');
  const end = lines.findIndex((l) => l.trim() === '# lending:servers end');
  const bind = lines.findIndex(
    (l, i) => i > 0 && lines[i - 1]!.trim().startsWith('# lending:bind') && /^\s*bind\s/.test(l),
  );
  if (begin < 0 || end < begin || bind < 0)
    throw new Error('haproxy.cfg has lost its lending:bind or lending:servers markers');
  const indent = /^\s*/.exec(lines[begin]!)![0];
  const servers = options.servers.map((address, i) => `${indent}server lending${i + 1} ${address}`);
  const out = [...lines.slice(0, begin + 1), ...servers, ...lines.slice(end)];
  out[bind] = `${/^\s*/.exec(lines[bind]!)![0]}bind ${options.bind}`;
  let text = out.join('\n');
  if (options.checkIntervalMs !== undefined) {
    const ms = Math.max(1, Math.round(options.checkIntervalMs));
    text = text.replace(
      /check inter \S+ fastinter \S+/,
      `check inter ${ms}ms fastinter ${Math.max(1, Math.round(ms / 2))}ms`,
    );
  }
  return text;
}
