// Helpers for the limit tests: logins from chosen client addresses (through X-Forwarded-For from a trusted
// proxy, or straight from another loopback address), Redis availability, and a TCP proxy that can be stopped.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { Redis } from 'ioredis';
import { DEMO } from './helpers';

export interface Answer {
  status: number;
  retryAfter: number | null;
  appCode: string | undefined;
  body: unknown;
}

/**
 * POSTs a tRPC mutation with node:http, so that the connection can come from `localAddress` (any 127.x.y.z
 * reaches a server on 127.0.0.1) and carry any X-Forwarded-For.
 */
export function mutate(
  base: string,
  procedure: string,
  input: unknown,
  options: {
    forwardedFor?: string;
    localAddress?: string;
    cookie?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<Answer> {
  const url = new URL(`${base}/trpc/${procedure}`);
  const body = JSON.stringify(input);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        localAddress: options.localAddress,
        agent: false,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          ...(options.forwardedFor ? { 'x-forwarded-for': options.forwardedFor } : {}),
          ...(options.cookie ? { cookie: options.cookie } : {}),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON
          }
          const header = res.headers['retry-after'];
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: header === undefined ? null : Number(header),
            appCode: (parsed as { error?: { data?: { appCode?: string } } }).error?.data?.appCode,
            body: parsed,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export const login = (
  base: string,
  email: string,
  password: string,
  options: { forwardedFor?: string; localAddress?: string } = {},
): Promise<Answer> => mutate(base, 'auth.login', { email, password }, options);

/** A right login from `ip` (through the trusted loopback proxy). */
export const rightLogin = (base: string, ip: string): Promise<Answer> =>
  login(base, DEMO.email, DEMO.password, { forwardedFor: ip });

export const REDIS_URL_TEST = process.env.REDIS_URL_TEST ?? 'redis://127.0.0.1:6379';

/** Whether Redis answers at REDIS_URL_TEST; prints why a suite is skipped, or throws with REQUIRE_REDIS=1. */
export async function redisAnswers(file: string): Promise<boolean> {
  const redis = new Redis(REDIS_URL_TEST, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    return true;
  } catch (error) {
    if (process.env.REQUIRE_REDIS === '1') throw error;
    console.log(`${file}: skipped, no Redis at REDIS_URL_TEST (${(error as Error).message})`);
    return false;
  } finally {
    redis.disconnect();
  }
}

/** A key prefix no other test (or run) uses. */
export const uniquePrefix = (): string => `lending-test:${randomBytes(6).toString('hex')}:`;

/** Every key under `prefix`. */
export async function redisKeys(prefix: string): Promise<string[]> {
  const redis = new Redis(REDIS_URL_TEST, { maxRetriesPerRequest: 0 });
  redis.on('error', () => undefined);
  try {
    return await redis.keys(`${prefix}*`);
  } finally {
    redis.disconnect();
  }
}

/** Deletes every key under `prefix`. */
export async function dropRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL_TEST, { maxRetriesPerRequest: 0 });
  redis.on('error', () => undefined);
  try {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

/**
 * A TCP proxy on a port of its own in front of `target`. `stop()` closes it and every connection (the port then
 * refuses), `hang()` keeps connections open but forwards nothing, `start()` listens again on the same port.
 */
export class TcpProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private hung = false;
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<void> {
    this.hung = false;
    const server = net.createServer((client) => {
      if (this.hung) {
        this.sockets.add(client);
        client.on('error', () => undefined);
        return;
      }
      const upstream = net.connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => this.sockets.delete(socket));
      }
      client.on('data', (chunk) => {
        if (!this.hung) upstream.write(chunk);
      });
      upstream.on('data', (chunk) => {
        if (!this.hung) client.write(chunk);
      });
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  /** Connections stay open but nothing is forwarded either way (a hung Redis). */
  hang(): void {
    this.hung = true;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** One metric's value from a /metrics text (the sum over series matching `labels`), or 0 when absent. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) {
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return sum;
}

export async function metricsOf(base: string): Promise<string> {
  return (await fetch(`${base}/metrics`)).text();
}
