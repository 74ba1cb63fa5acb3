/**
 * `POST /v1/traces/ingest`, the endpoint the Agents SDK's `OpenAITracingExporter` posts to: a batch
 * `{ data: [...] }` of `trace` and `trace.span` objects, under the `OpenAI-Beta: traces=v1` header.
 * It bills nothing; the fake answers 204 (the exporter only checks that the status is 2xx) and keeps
 * every item it accepted in `items`, with the key that sent it.
 */
import { sendError } from './http';
import type { Endpoint, EndpointContext } from './types';

/** An ingested trace or span, and the API key of the batch that carried it. */
export interface IngestedTraceItem {
  readonly apiKey?: string;
  readonly item: Record<string, unknown>;
}

const TRACE_OBJECTS = new Set(['trace', 'trace.span']);

export class TraceStore {
  readonly items: IngestedTraceItem[] = [];

  readonly endpoints: readonly Endpoint[] = [
    { method: 'POST', path: '/v1/traces/ingest', handle: (ctx) => this.ingest(ctx) },
  ];

  clear(): void {
    this.items.length = 0;
  }

  private ingest({ request, res }: EndpointContext): void {
    if (request.headers['openai-beta'] !== 'traces=v1') {
      return sendError(res, 400, "The 'OpenAI-Beta: traces=v1' header is required.");
    }
    const body = request.body as Record<string, unknown> | undefined;
    const data = body?.data;
    if (!Array.isArray(data)) return sendError(res, 400, "Missing required parameter: 'data'.");
    const bad = data.findIndex(
      (item) => typeof item !== 'object' || item === null || !TRACE_OBJECTS.has(String(item.object)),
    );
    if (bad >= 0)
      return sendError(res, 400, `Invalid 'data[${bad}].object': expected 'trace' or 'trace.span'.`);
    for (const item of data)
      this.items.push({ apiKey: request.apiKey, item: item as Record<string, unknown> });
    res.writeHead(204).end();
  }
}
