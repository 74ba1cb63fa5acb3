/**
 * OpenAI's admin, costs, files and batches endpoints on the fake upstream, registered through
 * `FakeOpenAI.route`, in the wire shapes of OpenAI's API reference:
 *
 * - `GET /v1/organization/costs`: daily buckets, `limit` / `page` cursor, `has_more` / `next_page`, `project_ids[]`
 * - `GET|POST /v1/organization/projects/{p}/service_accounts`, `DELETE .../{id}` (deleting revokes the key)
 * - `POST /v1/files` (multipart, purpose `batch`), `GET /v1/files/{id}/content`
 * - `POST /v1/batches`, `GET /v1/batches/{id}`; tests move a batch on with `completeBatch` / `failBatch`
 *
 * Admin endpoints answer 401 to any key but `adminKey`, as the real API does for a project key.
 */
import type { FakeOpenAI, RouteContext } from './fake-openai';
import { chatCompletion, newId, nowSeconds, usageOf } from './fake-openai/wire';

const DAY = 86_400;

export interface FakeServiceAccount {
  readonly id: string;
  readonly name: string;
  readonly apiKey: string;
  readonly projectId: string;
  readonly createdAt: number;
}

export interface FakeFile {
  readonly id: string;
  readonly purpose: string;
  readonly filename: string;
  readonly content: string;
}

export interface FakeBatch {
  id: string;
  object: 'batch';
  endpoint: string;
  input_file_id: string;
  completion_window: string;
  status: string;
  output_file_id: string | null;
  error_file_id: string | null;
  errors: {
    object: 'list';
    data: Array<{ code: string; message: string; param: string | null; line: number | null }>;
  } | null;
  created_at: number;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  request_counts: { total: number; completed: number; failed: number };
  metadata: Record<string, string> | null;
}

interface CostEntry {
  readonly projectId: string;
  readonly startTime: number;
  readonly usd: number | string;
}

export class FakeOpenAIAdmin {
  readonly serviceAccounts = new Map<string, FakeServiceAccount>();
  readonly files = new Map<string, FakeFile>();
  readonly batches = new Map<string, FakeBatch>();
  /** Raw costs pages served in order instead of the computed ones (malformed or hand-built bodies). */
  readonly costsPages: unknown[] = [];
  private costs: CostEntry[] = [];

  constructor(
    readonly fake: FakeOpenAI,
    /** The only key the admin endpoints accept. */
    readonly adminKey = 'sk-admin-fake',
  ) {
    this.install();
  }

  /** Clears every admin-side state (the fake's own `reset` keeps routes, so this is separate). */
  reset(): void {
    this.serviceAccounts.clear();
    this.files.clear();
    this.batches.clear();
    this.costsPages.length = 0;
    this.costs = [];
  }

  /** One cost result per day from `startTime` (UTC midnight) for `projectId`. */
  setDailyCosts(projectId: string, startTime: number, usdPerDay: ReadonlyArray<number | string>): void {
    this.costs = this.costs.filter((c) => c.projectId !== projectId);
    usdPerDay.forEach((usd, i) => this.costs.push({ projectId, startTime: startTime + i * DAY, usd }));
  }

  /** Adds a service account as if created earlier, e.g. the one that owns the current key. */
  addServiceAccount(projectId: string, name: string): FakeServiceAccount {
    const account: FakeServiceAccount = {
      id: newId('svc_acct'),
      name,
      apiKey: `sk-svcacct-${newId('key')}`,
      projectId,
      createdAt: nowSeconds(),
    };
    this.serviceAccounts.set(account.id, account);
    return account;
  }

  /** Finishes a batch: every request answered except `failCustomIds`, which go to the error file. */
  completeBatch(
    batchId: string,
    options: { failCustomIds?: readonly string[]; status?: 'completed' | 'expired' } = {},
  ): FakeBatch {
    const batch = this.batch(batchId);
    const input = this.files.get(batch.input_file_id)?.content ?? '';
    const results: string[] = [];
    const errors: string[] = [];
    for (const line of input.split('\n').filter((l) => l.trim())) {
      const request = JSON.parse(line) as { custom_id: string; body: { model: string } };
      if (options.failCustomIds?.includes(request.custom_id)) {
        errors.push(
          JSON.stringify({
            id: newId('batch_req'),
            custom_id: request.custom_id,
            response: {
              status_code: 400,
              request_id: newId('req'),
              body: {
                error: { message: 'bad request', type: 'invalid_request_error', param: null, code: null },
              },
            },
            error: null,
          }),
        );
        continue;
      }
      const body = chatCompletion({
        id: newId('chatcmpl'),
        model: `${request.body.model}-2024-07-18`,
        text: 'batched answer',
        n: 1,
        usage: usageOf(1000, 500),
        finishReason: 'stop',
      });
      results.push(
        JSON.stringify({
          id: newId('batch_req'),
          custom_id: request.custom_id,
          response: { status_code: 200, request_id: newId('req'), body },
          error: null,
        }),
      );
    }
    batch.status = options.status ?? 'completed';
    batch.output_file_id = results.length
      ? this.storeFile('batch_output', 'output.jsonl', results.join('\n') + '\n').id
      : null;
    batch.error_file_id = errors.length
      ? this.storeFile('batch_output', 'errors.jsonl', errors.join('\n') + '\n').id
      : null;
    batch.request_counts = {
      total: results.length + errors.length,
      completed: results.length,
      failed: errors.length,
    };
    if (batch.status === 'completed') batch.completed_at = nowSeconds();
    else batch.expired_at = nowSeconds();
    return batch;
  }

  /** Fails a batch at validation, as OpenAI does for an input file it cannot use. */
  failBatch(batchId: string, message = 'Input file line 1: model not available for batch'): FakeBatch {
    const batch = this.batch(batchId);
    batch.status = 'failed';
    batch.failed_at = nowSeconds();
    batch.errors = { object: 'list', data: [{ code: 'invalid_request', message, param: null, line: 1 }] };
    return batch;
  }

  private batch(id: string): FakeBatch {
    const batch = this.batches.get(id);
    if (!batch) throw new Error(`no fake batch ${id}`);
    return batch;
  }

  private storeFile(purpose: string, filename: string, content: string): FakeFile {
    const file = { id: newId('file'), purpose, filename, content };
    this.files.set(file.id, file);
    return file;
  }

  private requireAdmin(ctx: RouteContext): boolean {
    if (ctx.request.apiKey === this.adminKey) return true;
    ctx.error(
      401,
      'Invalid authorization header: an admin key is required.',
      'invalid_request_error',
      'invalid_api_key',
    );
    return false;
  }

  private install(): void {
    const fake = this.fake;
    fake.route('GET', '/v1/organization/costs', (ctx) => {
      if (!this.requireAdmin(ctx)) return;
      const scripted = this.costsPages.shift();
      if (scripted !== undefined) return ctx.json(200, scripted);
      const q = ctx.request.query;
      const start = Number(q.get('start_time'));
      if (!Number.isFinite(start)) return ctx.error(400, "Missing required parameter: 'start_time'.");
      const end = q.has('end_time') ? Number(q.get('end_time')) : nowSeconds();
      const limit = Math.min(180, Number(q.get('limit') ?? 7));
      const projects = q.getAll('project_ids[]');
      const offset = Number(q.get('page')?.replace('page_', '') ?? 0);
      const days: ReturnType<typeof bucket>[] = [];
      for (let t = start - (start % DAY); t < end; t += DAY) {
        const results = this.costs
          .filter((c) => c.startTime === t && (projects.length === 0 || projects.includes(c.projectId)))
          .map((c) => ({
            object: 'organization.costs.result',
            amount: { value: c.usd, currency: 'usd' },
            line_item: null,
            project_id: null,
          }));
        days.push(bucket(t, results));
      }
      const data = days.slice(offset, offset + limit);
      const more = offset + limit < days.length;
      ctx.json(200, {
        object: 'page',
        data,
        has_more: more,
        next_page: more ? `page_${offset + limit}` : null,
      });
    });

    const accountsPath = /^\/v1\/organization\/projects\/([^/]+)\/service_accounts$/;
    const accountPath = /^\/v1\/organization\/projects\/([^/]+)\/service_accounts\/([^/]+)$/;
    fake.route('POST', accountsPath, (ctx) => {
      if (!this.requireAdmin(ctx)) return;
      const projectId = accountsPath.exec(ctx.request.path)![1];
      const name = ctx.request.body?.name;
      if (typeof name !== 'string' || !name) return ctx.error(400, "Missing required parameter: 'name'.");
      const a = this.addServiceAccount(projectId, name);
      ctx.json(200, {
        object: 'organization.project.service_account',
        id: a.id,
        name: a.name,
        role: 'member',
        created_at: a.createdAt,
        api_key: {
          object: 'organization.project.service_account.api_key',
          value: a.apiKey,
          name: 'Secret Key',
          created_at: a.createdAt,
          id: newId('key'),
        },
      });
    });
    fake.route('GET', accountsPath, (ctx) => {
      if (!this.requireAdmin(ctx)) return;
      const projectId = accountsPath.exec(ctx.request.path)![1];
      const all = [...this.serviceAccounts.values()].filter((a) => a.projectId === projectId);
      const after = ctx.request.query.get('after');
      const from = after ? all.findIndex((a) => a.id === after) + 1 : 0;
      const limit = Number(ctx.request.query.get('limit') ?? 20);
      const page = all.slice(from, from + limit).map((a) => ({
        object: 'organization.project.service_account',
        id: a.id,
        name: a.name,
        role: 'member',
        created_at: a.createdAt,
      }));
      ctx.json(200, {
        object: 'list',
        data: page,
        first_id: page[0]?.id ?? null,
        last_id: page.at(-1)?.id ?? null,
        has_more: from + limit < all.length,
      });
    });
    fake.route('DELETE', accountPath, (ctx) => {
      if (!this.requireAdmin(ctx)) return;
      const [, projectId, id] = accountPath.exec(ctx.request.path)!;
      const account = this.serviceAccounts.get(id);
      if (!account || account.projectId !== projectId)
        return ctx.error(404, `No such service account: ${id}`);
      this.serviceAccounts.delete(id);
      fake.rejectKey(account.apiKey);
      ctx.json(200, { object: 'organization.project.service_account.deleted', id, deleted: true });
    });

    fake.route('POST', '/v1/files', (ctx) => {
      const parts = parseMultipart(
        String(ctx.req.headers['content-type'] ?? ''),
        String(ctx.request.body ?? ''),
      );
      const file = parts.get('file');
      const purpose = parts.get('purpose')?.content;
      if (!file || !purpose) return ctx.error(400, "Missing required parameters: 'file' and 'purpose'.");
      const stored = this.storeFile(purpose, file.filename ?? 'upload', file.content);
      ctx.json(200, {
        object: 'file',
        id: stored.id,
        purpose,
        filename: stored.filename,
        bytes: Buffer.byteLength(file.content),
        created_at: nowSeconds(),
        expires_at: null,
        status: 'processed',
        status_details: null,
      });
    });
    const contentPath = /^\/v1\/files\/([^/]+)\/content$/;
    fake.route('GET', contentPath, (ctx) => {
      const file = this.files.get(contentPath.exec(ctx.request.path)![1]);
      if (!file) return ctx.error(404, 'No such File object');
      ctx.res.writeHead(200, { 'content-type': 'application/octet-stream' });
      ctx.res.end(file.content);
    });

    fake.route('POST', '/v1/batches', (ctx) => {
      const body = ctx.request.body ?? {};
      const input = this.files.get(body.input_file_id);
      if (!input || input.purpose !== 'batch')
        return ctx.error(
          400,
          `Invalid input_file_id: ${body.input_file_id}`,
          'invalid_request_error',
          'invalid_file',
        );
      const batch: FakeBatch = {
        id: newId('batch'),
        object: 'batch',
        endpoint: body.endpoint,
        input_file_id: input.id,
        completion_window: body.completion_window,
        status: 'validating',
        output_file_id: null,
        error_file_id: null,
        errors: null,
        created_at: nowSeconds(),
        completed_at: null,
        failed_at: null,
        expired_at: null,
        request_counts: { total: 0, completed: 0, failed: 0 },
        metadata: body.metadata ?? null,
      };
      this.batches.set(batch.id, batch);
      ctx.json(200, batch);
    });
    const batchPath = /^\/v1\/batches\/([^/]+)$/;
    fake.route('GET', batchPath, (ctx) => {
      const batch = this.batches.get(batchPath.exec(ctx.request.path)![1]);
      if (!batch) return ctx.error(404, 'No such Batch object');
      ctx.json(200, batch);
    });
  }
}

function bucket(startTime: number, results: unknown[]) {
  return { object: 'bucket', start_time: startTime, end_time: startTime + DAY, results };
}

/** Just enough multipart/form-data parsing for the SDK's file upload (text parts). */
function parseMultipart(
  contentType: string,
  body: string,
): Map<string, { filename?: string; content: string }> {
  const parts = new Map<string, { filename?: string; content: string }>();
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  if (!boundary) return parts;
  for (const chunk of body.split(`--${boundary[1] ?? boundary[2]}`)) {
    const split = chunk.indexOf('\r\n\r\n');
    if (split === -1) continue;
    const head = chunk.slice(0, split);
    const name = /name="([^"]+)"/.exec(head)?.[1];
    if (!name) continue;
    const filename = /filename="([^"]*)"/.exec(head)?.[1];
    const content = chunk.slice(split + 4).replace(/\r\n$/, '');
    parts.set(name, filename === undefined ? { content } : { filename, content });
  }
  return parts;
}
