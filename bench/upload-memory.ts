/**
 * `npx ts-node bench/upload-memory.ts [MB]`: the memory a streamed upload costs the gateway. One process
 * runs the gateway, an upstream that reads and drops every byte (so nothing but the gateway could hold
 * the body) and a caller that sends a `MB`-megabyte multipart upload (default 256) made on the fly.
 * Prints the peak RSS and heap above the idle baseline, sampled every 20 ms: a gateway that buffered
 * the body would show the body's size; a streamed one a few relay buffers.
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { API_FAMILIES, parseGatewayConfig } from '../runtime/gateway-config';
import { Gateway } from '../service/main/gateway';
import { staticKey } from '../service/upstream/key';

const KEY = 'sk-bench-upload-0000000000000000000000000000';
const MB = Number(process.argv[2] ?? 256);
const CHUNK = 64 * 1024;

async function main(): Promise<void> {
  const upstream = createServer((req, res) => {
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'file-bench', object: 'file', bytes, purpose: 'user_data' }));
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const { port } = upstream.address() as AddressInfo;
  const config = parseGatewayConfig({
    stage: 'bench',
    clients: [
      {
        id: 'app',
        keySha256: createHash('sha256').update(KEY).digest('hex'),
        rpm: 1000,
        tpm: 1_000_000,
        monthlyBudgetUsd: 10,
        apiFamilies: [...API_FAMILIES],
      },
    ],
    models: { 'gpt-4o-mini': { inputUsdPer1M: 0.15, outputUsdPer1M: 0.6 } },
    aliases: {},
    limits: { maxTokens: 1000, defaultMaxTokens: 100, maxN: 1, maxStopSequences: 1, maxBodyBytes: 1 << 20 },
    budget: { monthlyUsd: 10, notifyAtPercent: 80 },
    cache: { ttlSeconds: 60, version: '1' },
    upstream: { timeoutMs: 60_000, maxRetries: 0, maxRetryAfterSeconds: 1 },
    store: { fallback: 'shared', commandTimeoutMs: 50 },
  });
  const gateway = await Gateway.create({
    config,
    openaiBaseUrl: `http://127.0.0.1:${port}/v1`,
    upstreamKey: staticKey('sk-upstream'),
    sink: { write: () => undefined },
  });
  const url = await gateway.listen(0, '127.0.0.1');

  global.gc?.();
  const base = process.memoryUsage();
  let peakRss = base.rss;
  let peakHeap = base.heapUsed;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  }, 20);

  const boundary = 'benchboundary';
  const total = MB * 1024 * 1024;
  async function* body() {
    yield Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nuser_data\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n`,
    );
    const chunk = Buffer.alloc(CHUNK, 120);
    for (let sent = 0; sent < total; sent += CHUNK) yield chunk;
    yield Buffer.from(`\r\n--${boundary}--\r\n`);
  }
  const started = performance.now();
  const res = await fetch(`${url}/files`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
    body: Readable.toWeb(Readable.from(body())) as ReadableStream,
    duplex: 'half',
  } as RequestInit);
  const answer = (await res.json()) as { bytes?: number };
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  const mib = (n: number) => (n / 1024 / 1024).toFixed(1);
  console.log(
    JSON.stringify({
      uploadMiB: MB,
      status: res.status,
      upstreamBytes: answer.bytes,
      seconds: Number(seconds.toFixed(2)),
      peakRssAboveIdleMiB: Number(mib(peakRss - base.rss)),
      peakHeapAboveIdleMiB: Number(mib(peakHeap - base.heapUsed)),
    }),
  );
  await gateway.shutdown();
  upstream.close();
}

void main();
