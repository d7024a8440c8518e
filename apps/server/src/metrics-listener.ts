// METRICS_PORT: /metrics on a listener of its own (127.0.0.1 by default), away from the public one. It answers
// GET /metrics (with the bearer token when METRICS_TOKEN is set) and 404 to anything else.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { metricsAnswer } from './metrics';
import type { ServerMetrics } from './metrics';

export interface MetricsListener {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function listenMetrics(
  metrics: ServerMetrics,
  options: { port: number; host: string; token: string | undefined },
): Promise<MetricsListener> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const get = req.method === 'GET' || req.method === 'HEAD';
    void (async () => {
      const reply =
        path === '/metrics' && get
          ? await metricsAnswer(metrics, { serve: true, token: options.token }, req.headers.authorization)
          : ({ status: 404 } as const);
      res.setHeader('Cache-Control', 'no-store');
      if (reply.status === 200) {
        res.writeHead(200, { 'Content-Type': metrics.registry.contentType });
        res.end(req.method === 'HEAD' ? undefined : reply.body);
        return;
      }
      if (reply.status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
      res.writeHead(reply.status, { 'Content-Type': 'text/plain' });
      res.end(reply.status === 401 ? 'Unauthorized' : 'Not Found');
    })().catch(() => {
      res.statusCode = 500;
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}/metrics`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
