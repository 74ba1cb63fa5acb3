/**
 * The Files API (`openai/resources/files.ts`): `POST /v1/files` (multipart: `file`, `purpose`, optional
 * `expires_after[anchor]` / `[seconds]`), `GET /v1/files` (`after`, `limit` 1 to 10,000, `order`
 * default `desc`, `purpose`), `GET /v1/files/{id}`, `GET /v1/files/{id}/content` (the bytes) and
 * `DELETE /v1/files/{id}`. An upload is read as it arrives and tracked in `uploads`, so a test sees how
 * many bytes had come before the sender finished, and that an upload cut short created nothing.
 */
import type { IncomingMessage } from 'node:http';
import { sendError, sendJson } from './http';
import { cursorPage } from './pagination';
import type { Endpoint, EndpointContext } from './types';
import { newId, nowSeconds } from './wire';

/** `FileObject` of the openai SDK, with the bytes it holds. */
export interface FakeFileObject {
  readonly id: string;
  readonly object: 'file';
  readonly bytes: number;
  readonly created_at: number;
  readonly expires_at: number | null;
  readonly filename: string;
  readonly purpose: string;
  readonly status: 'processed';
  readonly status_details: null;
}

/** One upload as it arrived. */
export interface FakeUpload {
  /** Body bytes received so far. */
  bytes: number;
  /** The whole body arrived (it may still have been refused). */
  complete: boolean;
  /** The file it created, if any. */
  fileId?: string;
}

const PURPOSES = ['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals'];
/** Batch files expire after 30 days unless `expires_after` says otherwise. */
const BATCH_EXPIRY_SECONDS = 30 * 86_400;

export const fileNotFound = (id: string): string => `No such File object: ${id}`;

export class FileStore {
  readonly files = new Map<string, { readonly object: FakeFileObject; readonly content: Buffer }>();
  /** Every upload, oldest first. */
  readonly uploads: FakeUpload[] = [];

  readonly endpoints: readonly Endpoint[] = [
    { method: 'POST', path: '/v1/files', streamsBody: true, handle: (ctx) => this.upload(ctx) },
    { method: 'GET', path: '/v1/files', handle: (ctx) => this.list(ctx) },
    { method: 'GET', path: /^\/v1\/files\/([^/]+)$/, handle: (ctx) => this.retrieve(ctx) },
    { method: 'GET', path: /^\/v1\/files\/([^/]+)\/content$/, handle: (ctx) => this.content(ctx) },
    { method: 'DELETE', path: /^\/v1\/files\/([^/]+)$/, handle: (ctx) => this.remove(ctx) },
  ];

  clear(): void {
    this.files.clear();
    this.uploads.length = 0;
  }

  /** Stores a file as OpenAI would (a batch's output, or a test's own). */
  add(purpose: string, filename: string, content: Buffer, expiresAt: number | null = null): FakeFileObject {
    const object: FakeFileObject = {
      id: newId('file'),
      object: 'file',
      bytes: content.length,
      created_at: nowSeconds(),
      expires_at: expiresAt,
      filename,
      purpose,
      status: 'processed',
      status_details: null,
    };
    this.files.set(object.id, { object, content });
    return object;
  }

  private async upload(ctx: EndpointContext): Promise<void> {
    const upload: FakeUpload = { bytes: 0, complete: false };
    this.uploads.push(upload);
    const body = await readTracked(ctx.req, upload);
    if (body === undefined) return; // cut short: nothing is created
    const form = await new Response(new Uint8Array(body), {
      headers: { 'content-type': String(ctx.req.headers['content-type'] ?? '') },
    })
      .formData()
      .catch(() => undefined);
    if (form === undefined) return sendError(ctx.res, 400, 'Could not parse multipart form');
    const file = form.get('file');
    const purpose = form.get('purpose');
    if (!(file instanceof Blob))
      return sendError(ctx.res, 400, "Missing required parameter: 'file'.", { param: 'file' });
    if (typeof purpose !== 'string' || !PURPOSES.includes(purpose)) {
      return sendError(ctx.res, 400, `Invalid value for 'purpose': '${String(purpose)}'.`, {
        param: 'purpose',
      });
    }
    const seconds = Number(form.get('expires_after[seconds]') ?? NaN);
    const expiresAfter = Number.isInteger(seconds)
      ? seconds
      : purpose === 'batch'
        ? BATCH_EXPIRY_SECONDS
        : null;
    const name = file instanceof File ? file.name : 'upload';
    const content = Buffer.from(await file.arrayBuffer());
    const object = this.add(
      purpose,
      name,
      content,
      expiresAfter === null ? null : nowSeconds() + expiresAfter,
    );
    upload.fileId = object.id;
    sendJson(ctx.res, 200, object);
  }

  private list(ctx: EndpointContext): void {
    const purpose = ctx.request.query.get('purpose');
    const all = [...this.files.values()]
      .map((f) => f.object)
      .filter((f) => purpose === null || f.purpose === purpose);
    const result = cursorPage(all, ctx.request.query, 'desc', { defaultLimit: 10_000, maxLimit: 10_000 });
    if ('error' in result) return sendError(ctx.res, 400, result.error, { param: result.param });
    sendJson(ctx.res, 200, result.page);
  }

  private retrieve(ctx: EndpointContext): void {
    const file = this.files.get(ctx.params[0]);
    if (!file) return sendError(ctx.res, 404, fileNotFound(ctx.params[0]));
    sendJson(ctx.res, 200, file.object);
  }

  private content(ctx: EndpointContext): void {
    const file = this.files.get(ctx.params[0]);
    if (!file) return sendError(ctx.res, 404, fileNotFound(ctx.params[0]));
    ctx.res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': String(file.content.length),
    });
    ctx.res.end(file.content);
  }

  private remove(ctx: EndpointContext): void {
    const id = ctx.params[0];
    if (!this.files.delete(id)) return sendError(ctx.res, 404, fileNotFound(id));
    sendJson(ctx.res, 200, { id, object: 'file', deleted: true });
  }
}

/** The body, counted into `upload` as it arrives; undefined when the sender left before its end. */
function readTracked(req: IncomingMessage, upload: FakeUpload): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      upload.bytes += chunk.length;
      chunks.push(chunk);
    });
    req.once('end', () => {
      upload.complete = true;
      resolve(Buffer.concat(chunks));
    });
    req.once('error', () => resolve(undefined));
    req.once('close', () => {
      if (!upload.complete) resolve(undefined);
    });
  });
}
