/**
 * A rate limit in front of the fake upstream, enforcing R requests per minute the way OpenAI documents
 * its limits: quantized to R/60 per second (a token bucket holding one second's allowance, refilled
 * continuously). Over the limit it answers 429 `rate_limit_exceeded` with `Retry-After` in whole
 * seconds, like api.openai.com. `GET /__bench/stats` reports what it forwarded and refused.
 *
 * Env: PORT, UPSTREAM_URL (origin of the fake upstream), RPM (the limit R).
 */
import { createServer } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { Pool } from 'undici';

export function startRateLimitedUpstream(port: number, upstreamOrigin: string, rpm: number) {
  const upstream = new Pool(upstreamOrigin, { connections: 64, pipelining: 1 });
  const perSecond = rpm / 60;
  const capacity = Math.max(1, perSecond);
  let tokens = capacity;
  let refilledAt = performance.now();
  const stats = { forwarded: 0, refused: 0 };

  const take = (): number => {
    const now = performance.now();
    tokens = Math.min(capacity, tokens + ((now - refilledAt) / 1000) * perSecond);
    refilledAt = now;
    if (tokens >= 1) {
      tokens -= 1;
      return 0;
    }
    return ((1 - tokens) / perSecond) * 1000;
  };

  const server = createServer(async (req, res) => {
    if (req.url === '/__bench/stats') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(stats));
      return;
    }
    const waitMs = take();
    if (waitMs > 0) {
      stats.refused++;
      req.resume();
      res.writeHead(429, {
        'content-type': 'application/json',
        'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))),
      });
      res.end(
        JSON.stringify({
          error: {
            message: `Rate limit reached: limit ${rpm} requests per minute.`,
            type: 'requests',
            param: null,
            code: 'rate_limit_exceeded',
          },
        }),
      );
      return;
    }
    stats.forwarded++;
    try {
      const headers: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined && name !== 'host' && name !== 'connection' && name !== 'content-length') {
          headers[name] = value;
        }
      }
      const answer = await upstream.request({
        method: req.method as 'GET' | 'POST',
        path: req.url ?? '/',
        headers,
        body: req.method === 'GET' ? undefined : req,
      });
      const out: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(answer.headers)) {
        if (
          value !== undefined &&
          !['connection', 'keep-alive', 'transfer-encoding', 'content-length'].includes(name)
        ) {
          out[name] = value;
        }
      }
      res.writeHead(answer.statusCode, out);
      await pipeline(answer.body, res);
    } catch {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    }
  });
  server.keepAliveTimeout = 65_000;
  server.listen(port, '127.0.0.1');
  return server;
}

if (require.main === module) {
  const server = startRateLimitedUpstream(
    Number(process.env.PORT ?? 0),
    new URL(process.env.UPSTREAM_URL ?? 'http://127.0.0.1:9000').origin,
    Number(process.env.RPM ?? 600),
  );
  const stop = () => server.close(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
