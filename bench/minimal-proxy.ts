/**
 * The minimal pass-through proxy the gateway is compared with: node:http in, an undici keep-alive pool
 * out, bodies streamed both ways, no features at all. It is the practical ceiling for a Node proxy on
 * this machine, so "gateway throughput / proxy throughput" isolates what the gateway's features cost.
 *
 * Env: PORT (listen port on 127.0.0.1), UPSTREAM_URL (origin of the upstream, e.g. http://127.0.0.1:9000),
 * UPSTREAM_API_KEY (sent as the upstream bearer key, replacing the caller's).
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { Pool } from 'undici';

/** Hop-by-hop headers (RFC 9110 section 7.6.1) a proxy must not forward. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'host',
  'content-length',
]);

function forwardable(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>) {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

export function startMinimalProxy(port: number, upstreamOrigin: string, upstreamKey: string) {
  const upstream = new Pool(upstreamOrigin, { connections: 256, pipelining: 1, keepAliveTimeout: 60_000 });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const headers = forwardable(req.headers);
      headers.authorization = `Bearer ${upstreamKey}`;
      const abort = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) abort.abort();
      });
      // stream(): undici writes the upstream body straight into `res` (no intermediate Readable).
      upstream
        .stream(
          {
            method: req.method as 'GET' | 'POST',
            path: req.url ?? '/',
            headers,
            body: chunks.length === 0 ? undefined : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks),
            signal: abort.signal,
          },
          ({ statusCode, headers: upstreamHeaders }) => {
            res.writeHead(statusCode, forwardable(upstreamHeaders));
            return res;
          },
        )
        .catch(() => {
          if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
          res.end('{"error":{"message":"upstream failed","type":"server_error","param":null,"code":null}}');
        });
    });
  });
  server.keepAliveTimeout = 65_000;
  server.listen(port, '127.0.0.1');
  return server;
}

if (require.main === module) {
  const port = Number(process.env.PORT ?? 0);
  const upstreamUrl = new URL(process.env.UPSTREAM_URL ?? 'http://127.0.0.1:9000');
  const server = startMinimalProxy(
    port,
    upstreamUrl.origin,
    process.env.UPSTREAM_API_KEY ?? 'sk-bench-upstream',
  );
  const stop = () => server.close(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
