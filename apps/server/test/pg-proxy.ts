// A TCP proxy in front of PostgreSQL that can stop forwarding: connections stay open, bytes stop flowing both
// ways (as when a network path or a database host hangs). New connections are accepted and never answered.
import net from 'node:net';
import type { AddressInfo, Socket } from 'node:net';

export interface StallingProxy {
  /** `host:port` to put in a connection URL in place of PostgreSQL's. */
  hostPort: string;
  /** From now on, nothing is forwarded in either direction, on old and new connections. */
  stall(): void;
  close(): Promise<void>;
}

export async function stallingProxy(target: { host: string; port: number }): Promise<StallingProxy> {
  let stalled = false;
  const sockets = new Set<Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    if (stalled) return; // accepted, never answered
    const upstream = net.connect(target.port, target.host);
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.on('data', (chunk) => {
      if (!stalled) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!stalled) client.write(chunk);
    });
    // A stalled path does not close either: only an unstalled one passes a close on.
    client.on('end', () => !stalled && upstream.end());
    upstream.on('end', () => !stalled && client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    hostPort: `127.0.0.1:${port}`,
    stall: () => {
      stalled = true;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The URL with its host and port replaced by the proxy's. */
export function throughProxy(databaseUrl: string, proxy: StallingProxy): string {
  const url = new URL(databaseUrl);
  url.host = proxy.hostPort;
  return url.toString();
}
