/**
 * The fake's HTTP plumbing, one place each: JSON answers, OpenAI error bodies, SSE frames, bodies in.
 * Every writer is a no-op once the client is gone, so an endpoint may run to the end (and bill) after
 * its caller left.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorBody, newId } from './wire';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Headers OpenAI puts on every answer. */
const openaiHeaders = () => ({ 'x-request-id': newId('req'), 'openai-processing-ms': '12' });

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...openaiHeaders(),
    ...headers,
  });
  res.end(text);
}

/** An OpenAI error: `{"error":{"message","type","param","code"}}`. */
export function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  opts: { readonly type?: string; readonly code?: string | null; readonly param?: string | null } = {},
): void {
  sendJson(
    res,
    status,
    errorBody(message, opts.type ?? 'invalid_request_error', opts.code ?? null, opts.param ?? null),
  );
}

/** Starts an event stream; false when the client is already gone. */
export function openSse(res: ServerResponse): boolean {
  if (res.destroyed) return false;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    ...openaiHeaders(),
  });
  return true;
}

/**
 * One SSE frame: `data: <json>` (chat, completions), or `event: <type>` then `data: <json>` for the
 * Responses API's typed events. `[DONE]` is written raw.
 */
export function writeSse(res: ServerResponse, data: unknown, event?: string): void {
  if (res.destroyed) return;
  const payload = typeof data === 'string' ? data : JSON.stringify(data);
  res.write(`${event === undefined ? '' : `event: ${event}\n`}data: ${payload}\n\n`);
}

/** Lets what was written reach the client, then drops the connection (a stream cut mid-way). */
export async function cutConnection(res: ServerResponse): Promise<void> {
  if (res.destroyed) return;
  await new Promise<void>((resolve) => res.write('', () => resolve()));
  res.socket?.destroy();
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', () => resolve(Buffer.concat(chunks)));
  });
}

export function parseBody(raw: string): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

export const isMultipart = (req: IncomingMessage): boolean =>
  /^multipart\/form-data/i.test(req.headers['content-type'] ?? '');

/** One file of a multipart request, as the fake records it. */
export interface FormFile {
  readonly field: string;
  readonly filename: string;
  readonly contentType: string;
  readonly data: Buffer;
}

/** A multipart request's body as recorded: text fields (repeated ones as arrays) and files, in order. */
export interface FormBody {
  readonly fields: Record<string, string | string[]>;
  readonly files: readonly FormFile[];
}

/** Parses a multipart body; one that does not parse is recorded with no fields and no files. */
export async function parseForm(raw: Buffer, contentType: string): Promise<FormBody> {
  const fields: Record<string, string | string[]> = {};
  const files: FormFile[] = [];
  let form: FormData;
  try {
    form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
  } catch {
    return { fields, files };
  }
  for (const [name, value] of form) {
    if (typeof value !== 'string') {
      const data = Buffer.from(await value.arrayBuffer());
      files.push({ field: name, filename: value.name, contentType: value.type, data });
      continue;
    }
    const prev = fields[name];
    fields[name] = prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), value];
  }
  return { fields, files };
}
