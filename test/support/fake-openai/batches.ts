/**
 * The Batch API (`openai/resources/batches.ts`): `POST /v1/batches` (`input_file_id` of a `batch` file,
 * `endpoint`, `completion_window` `24h`, `metadata`, `output_expires_after`), `GET /v1/batches` (`after`,
 * `limit` 1 to 100, newest first), `GET /v1/batches/{id}` and `POST /v1/batches/{id}/cancel` (`cancelling`,
 * then `cancelled` after `behaviour.backgroundMs`, nothing billed). A batch
 * stays `validating`, then `in_progress`, `behaviour.batchMs` each, then runs its chat completion lines:
 * each is billed (endpoint `batch`, at the model's full usage: the batch price is the caller's to
 * apply), answered in the output file or, when refused, the error file, and summed in the batch's
 * `usage` (Responses names, as OpenAI reports it). A line that is not a request of the batch's
 * endpoint fails the whole batch at validation, as OpenAI does.
 */
import { sendError, sendJson } from './http';
import { cursorPage } from './pagination';
import { ACCEPTED_PARAMETERS, refuseUnknownParameter } from './parameters';
import type { FileStore } from './files';
import type { BilledCall, Endpoint, EndpointContext, FakeBehaviour } from './types';
import { chatUsageOf, countTokens, promptTokensOf, type Usage } from './usage';
import { chatCompletion, errorBody, newId, nowSeconds } from './wire';

type Json = Record<string, unknown>;

/** The endpoints OpenAI runs batches of (`BatchCreateParams.endpoint`). */
const BATCH_ENDPOINTS = [
  '/v1/responses',
  '/v1/chat/completions',
  '/v1/embeddings',
  '/v1/completions',
  '/v1/moderations',
  '/v1/images/generations',
  '/v1/images/edits',
  '/v1/videos',
];
const TERMINAL = new Set(['completed', 'failed', 'expired', 'cancelled']);

export interface FakeBatchObject extends Json {
  id: string;
  status: string;
  input_file_id: string;
  output_file_id?: string;
  error_file_id?: string;
  usage?: Json;
}

interface LineResult {
  readonly customId: string;
  readonly usage?: Usage;
  readonly response: Json;
}

export class BatchStore {
  readonly batches = new Map<string, FakeBatchObject>();
  private readonly timers = new Set<NodeJS.Timeout>();

  readonly endpoints: readonly Endpoint[] = [
    { method: 'POST', path: '/v1/batches', handle: (ctx) => this.create(ctx) },
    { method: 'GET', path: '/v1/batches', handle: (ctx) => this.list(ctx) },
    { method: 'GET', path: /^\/v1\/batches\/([^/]+)$/, handle: (ctx) => this.retrieve(ctx) },
    { method: 'POST', path: /^\/v1\/batches\/([^/]+)\/cancel$/, handle: (ctx) => this.cancel(ctx) },
  ];

  constructor(
    private readonly files: FileStore,
    private readonly bill: (call: BilledCall) => void,
    private readonly behaviour: () => FakeBehaviour,
  ) {}

  clear(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.batches.clear();
  }

  private create(ctx: EndpointContext): void {
    const body = ctx.request.body as Json | undefined;
    if (refuseUnknownParameter(ctx.res, body, 'batches.create')) return;
    const { input_file_id: inputFileId, endpoint, completion_window: window } = body ?? {};
    const input = typeof inputFileId === 'string' ? this.files.files.get(inputFileId) : undefined;
    if (!input) {
      return sendError(ctx.res, 400, `Invalid 'input_file_id': '${String(inputFileId)}'.`, {
        param: 'input_file_id',
      });
    }
    if (input.object.purpose !== 'batch') {
      return sendError(ctx.res, 400, "The input file must have purpose 'batch'.", { param: 'input_file_id' });
    }
    if (typeof endpoint !== 'string' || !BATCH_ENDPOINTS.includes(endpoint)) {
      return sendError(ctx.res, 400, `Invalid value for 'endpoint': '${String(endpoint)}'.`, {
        param: 'endpoint',
      });
    }
    if (window !== '24h') {
      return sendError(ctx.res, 400, "Invalid value for 'completion_window': expected '24h'.", {
        param: 'completion_window',
      });
    }
    const created = nowSeconds();
    const batch: FakeBatchObject = {
      id: newId('batch', '_'),
      object: 'batch',
      endpoint,
      errors: null,
      input_file_id: input.object.id,
      completion_window: '24h',
      status: 'validating',
      created_at: created,
      expires_at: created + 86_400,
      request_counts: { total: 0, completed: 0, failed: 0 },
      metadata: (body?.metadata as Json | undefined) ?? null,
    };
    this.batches.set(batch.id, batch);
    this.later(() => this.start(batch));
    sendJson(ctx.res, 200, batch);
  }

  private list(ctx: EndpointContext): void {
    const result = cursorPage([...this.batches.values()], ctx.request.query, 'desc');
    if ('error' in result) return sendError(ctx.res, 400, result.error, { param: result.param });
    sendJson(ctx.res, 200, result.page);
  }

  private retrieve(ctx: EndpointContext): void {
    const batch = this.batches.get(ctx.params[0]);
    if (!batch) return sendError(ctx.res, 404, `No batch found with id '${ctx.params[0]}'.`);
    sendJson(ctx.res, 200, batch);
  }

  private cancel(ctx: EndpointContext): void {
    const batch = this.batches.get(ctx.params[0]);
    if (!batch) return sendError(ctx.res, 404, `No batch found with id '${ctx.params[0]}'.`);
    if (TERMINAL.has(batch.status) || batch.status === 'cancelling') {
      return sendError(ctx.res, 409, `Cannot cancel a batch with status '${batch.status}'.`);
    }
    batch.status = 'cancelling';
    batch.cancelling_at = nowSeconds();
    // OpenAI takes up to 10 minutes; the fake as long as it takes a background response to finish.
    this.later(() => {
      batch.status = 'cancelled';
      batch.cancelled_at = nowSeconds();
    }, this.behaviour().backgroundMs);
    sendJson(ctx.res, 200, batch);
  }

  /** Runs `step` after `ms` (each step checks the batch is still where it left it). */
  private later(step: () => void, ms = this.behaviour().batchMs): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      step();
    }, ms);
    this.timers.add(timer);
  }

  private start(batch: FakeBatchObject): void {
    if (batch.status !== 'validating') return;
    const lines = this.inputLines(batch);
    if ('error' in lines) {
      batch.status = 'failed';
      batch.failed_at = nowSeconds();
      batch.errors = { object: 'list', data: [{ code: 'invalid_request', ...lines.error, param: null }] };
      return;
    }
    batch.status = 'in_progress';
    batch.in_progress_at = nowSeconds();
    batch.request_counts = { total: lines.requests.length, completed: 0, failed: 0 };
    this.later(() => this.finish(batch, lines.requests));
  }

  private inputLines(
    batch: FakeBatchObject,
  ): { readonly requests: Json[] } | { readonly error: { readonly message: string; readonly line: number } } {
    const text = this.files.files.get(batch.input_file_id)?.content.toString('utf8') ?? '';
    const requests: Json[] = [];
    const raw = text.split('\n');
    for (let i = 0; i < raw.length; i++) {
      if (raw[i].trim() === '') continue;
      let line: Json;
      try {
        line = JSON.parse(raw[i]) as Json;
      } catch {
        return { error: { message: 'Invalid JSON line.', line: i + 1 } };
      }
      if (line.url !== batch.endpoint || line.method !== 'POST' || typeof line.custom_id !== 'string') {
        return { error: { message: `The line's url must be '${String(batch.endpoint)}'.`, line: i + 1 } };
      }
      requests.push(line);
    }
    return requests.length > 0 ? { requests } : { error: { message: 'The input file is empty.', line: 0 } };
  }

  private finish(batch: FakeBatchObject, requests: readonly Json[]): void {
    if (batch.status !== 'in_progress') return;
    batch.status = 'finalizing';
    batch.finalizing_at = nowSeconds();
    const results = requests.map((r) => this.run(r));
    const done = results.filter((r) => r.usage !== undefined);
    const failed = results.filter((r) => r.usage === undefined);
    const file = (rows: readonly LineResult[], name: string) =>
      this.files.add(
        'batch_output',
        name,
        Buffer.from(
          rows
            .map((r) =>
              JSON.stringify({
                id: newId('batch_req', '_'),
                custom_id: r.customId,
                response: r.response,
                error: null,
              }),
            )
            .join('\n') + '\n',
        ),
      ).id;
    if (done.length > 0) batch.output_file_id = file(done, `${batch.id}_output.jsonl`);
    if (failed.length > 0) batch.error_file_id = file(failed, `${batch.id}_error.jsonl`);
    const input = done.reduce((n, r) => n + r.usage!.prompt_tokens, 0);
    const output = done.reduce((n, r) => n + r.usage!.completion_tokens, 0);
    batch.usage = {
      input_tokens: input,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: output,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: input + output,
    };
    batch.request_counts = { total: results.length, completed: done.length, failed: failed.length };
    batch.status = 'completed';
    batch.completed_at = nowSeconds();
  }

  /** One line as the endpoint would answer it; a chat completion is billed. */
  private run(line: Json): LineResult {
    const customId = String(line.custom_id);
    const body = (line.body ?? {}) as Json;
    const refuse = (message: string, param: string | null) => ({
      customId,
      response: {
        status_code: 400,
        request_id: newId('req'),
        body: errorBody(message, 'invalid_request_error', param === null ? null : 'unknown_parameter', param),
      },
    });
    if (line.url !== '/v1/chat/completions')
      return refuse('The fake runs chat completion batches only.', null);
    const accepted: ReadonlySet<string> = ACCEPTED_PARAMETERS['chat.completions.create'];
    const unknown = Object.keys(body).find((k) => !accepted.has(k));
    if (unknown !== undefined) return refuse(`Unknown parameter: '${unknown}'.`, unknown);
    const text = this.behaviour().text;
    const n = typeof body.n === 'number' ? body.n : 1;
    const cap = (body.max_completion_tokens ?? body.max_tokens) as number | undefined;
    const output = Math.min(countTokens(text), cap ?? Number.POSITIVE_INFINITY) * n;
    const usage = chatUsageOf({ input: promptTokensOf(body), output, reasoning: 0, cached: 0 });
    const model = String(body.model);
    this.bill({ model, usage, endpoint: 'batch' });
    const completion = chatCompletion({ id: newId('chatcmpl'), model, text, n, usage, finishReason: 'stop' });
    return { customId, usage, response: { status_code: 200, request_id: newId('req'), body: completion } };
  }
}
