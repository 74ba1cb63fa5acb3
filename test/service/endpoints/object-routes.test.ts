import { parseGatewayConfig } from '../../../runtime/gateway-config';
import { createRequestPolicy, ENDPOINT_SPECS } from '../../../service/endpoints';
import { OBJECT_ID, OBJECT_ROUTES, type ObjectRoute } from '../../../service/endpoints/object-routes';
import type { Caller } from '../../../service/endpoints/spec';
import { GatewayError } from '../../../service/errors';
import { testConfigDocument } from '../../support/gateway-harness';
import { refusalOf } from '../../support/refusal';

const policy = createRequestPolicy(parseGatewayConfig(testConfigDocument()));
const APP: Caller = { id: 'app' };
const LIMITED: Caller = { id: 'limited' };

const routeOf = (method: ObjectRoute['method'], route: string): ObjectRoute => {
  const found = OBJECT_ROUTES.find((r) => r.method === method && r.route === route);
  if (!found) throw new Error(`no route ${method} ${route}`);
  return found;
};
const fields = (e: GatewayError) => ({ status: e.status, param: e.param, code: e.code });
/** The routes of the Responses and Files families; the Conversations routes have tests of their own. */
const ROUTES_HERE = OBJECT_ROUTES.filter((r) => r.family !== 'conversations');

describe('OBJECT_ROUTES', () => {
  it('declares exactly these routes, each method and route once', () => {
    expect(ROUTES_HERE.map((r) => `${r.method} ${r.route}`)).toEqual([
      'POST /v1/responses/input_tokens',
      'GET /v1/responses/:id',
      'DELETE /v1/responses/:id',
      'POST /v1/responses/:id/cancel',
      'GET /v1/responses/:id/input_items',
      'GET /v1/files',
      'GET /v1/files/:id',
      'DELETE /v1/files/:id',
      'GET /v1/files/:id/content',
      'POST /v1/traces/ingest',
      'GET /v1/batches',
      'GET /v1/batches/:id',
      'POST /v1/batches/:id/cancel',
    ]);
    const keys = OBJECT_ROUTES.map((r) => `${r.method} ${r.route}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(new Set(OBJECT_ROUTES.map((r) => r.family))).toEqual(
      new Set(['responses', 'conversations', 'files', 'traces', 'batches']),
    );
  });

  it('shares no route with a model endpoint', () => {
    const models = new Set(ENDPOINT_SPECS.map((s) => `POST ${s.route}`));
    for (const r of OBJECT_ROUTES) expect(models.has(`${r.method} ${r.route}`)).toBe(false);
  });

  it("names its family's object by :id on every route with an id, and none on the token count or a list", () => {
    const kinds = { responses: 'response', files: 'file', batches: 'batch' } as const;
    for (const r of ROUTES_HERE) {
      expect({ route: r.route, kind: r.kind }).toEqual({
        route: r.route,
        kind: r.route.includes(':id') ? kinds[r.family as keyof typeof kinds] : undefined,
      });
    }
  });

  it("lists only the caller's files and batches, with OpenAI's page bounds, and streams only a file's content", () => {
    expect(OBJECT_ROUTES.filter((r) => r.lists).map((r) => [r.route, r.lists])).toEqual([
      [
        '/v1/files',
        { kind: 'file', forwarded: ['order', 'purpose'], limits: { default: 10_000, max: 10_000 } },
      ],
      ['/v1/batches', { kind: 'batch', forwarded: [], limits: { default: 20, max: 100 } }],
    ]);
    expect(OBJECT_ROUTES.filter((r) => r.bytes).map((r) => r.route)).toEqual(['/v1/files/:id/content']);
    // Every answer that carries a batch is seen by its settlement first.
    expect(OBJECT_ROUTES.filter((r) => r.answers === 'batch').map((r) => `${r.method} ${r.route}`)).toEqual([
      'GET /v1/batches',
      'GET /v1/batches/:id',
      'POST /v1/batches/:id/cancel',
    ]);
  });

  it.each<[ObjectRoute['method'], string, string]>([
    ['POST', '/v1/responses/input_tokens', '/responses/input_tokens'],
    ['GET', '/v1/responses/:id', '/responses/resp_1'],
    ['DELETE', '/v1/responses/:id', '/responses/resp_1'],
    ['POST', '/v1/responses/:id/cancel', '/responses/resp_1/cancel'],
    ['GET', '/v1/responses/:id/input_items', '/responses/resp_1/input_items'],
    ['GET', '/v1/files/:id', '/files/resp_1'],
    ['GET', '/v1/files/:id/content', '/files/resp_1/content'],
    ['POST', '/v1/traces/ingest', '/traces/ingest'],
  ])('%s %s goes upstream to %s', (method, route, upstream) => {
    expect(routeOf(method, route).upstreamPath('resp_1', '')).toBe(upstream);
  });

  it('forwards only the query parameters OpenAI takes on each route', () => {
    expect(Object.fromEntries(ROUTES_HERE.map((r) => [`${r.method} ${r.route}`, r.query]))).toEqual({
      'POST /v1/responses/input_tokens': [],
      'GET /v1/responses/:id': ['include', 'include_obfuscation', 'starting_after', 'stream'],
      'DELETE /v1/responses/:id': [],
      'POST /v1/responses/:id/cancel': [],
      'GET /v1/responses/:id/input_items': ['after', 'before', 'include', 'limit', 'order'],
      'GET /v1/files': [],
      'GET /v1/files/:id': [],
      'DELETE /v1/files/:id': [],
      'GET /v1/files/:id/content': [],
      'POST /v1/traces/ingest': [],
      'GET /v1/batches': [],
      'GET /v1/batches/:id': [],
      'POST /v1/batches/:id/cancel': [],
    });
  });

  it('marks only the deletes as deleting, and gives a body only to the token count and the trace batch', () => {
    expect(ROUTES_HERE.filter((r) => r.deletes).map((r) => `${r.method} ${r.route}`)).toEqual([
      'DELETE /v1/responses/:id',
      'DELETE /v1/files/:id',
    ]);
    expect(ROUTES_HERE.filter((r) => r.prepareBody).map((r) => r.route)).toEqual([
      '/v1/responses/input_tokens',
      '/v1/traces/ingest',
    ]);
  });

  it('sends the traces beta header upstream on the trace batch only', () => {
    expect(
      Object.fromEntries(
        OBJECT_ROUTES.filter((r) => r.upstreamHeaders).map((r) => [r.route, r.upstreamHeaders]),
      ),
    ).toEqual({ '/v1/traces/ingest': { 'openai-beta': 'traces=v1' } });
  });
});

describe('background observers', () => {
  it('lets the retrieve and the cancel of a response, and nothing else, settle a background response early', () => {
    expect(OBJECT_ROUTES.filter((r) => r.observesBackground).map((r) => `${r.method} ${r.route}`)).toEqual([
      'GET /v1/responses/:id',
      'POST /v1/responses/:id/cancel',
    ]);
  });
});

describe('OBJECT_ID', () => {
  it.each(['resp_68af0c2b1f0881909c5d', 'conv-1', 'A', 'x'.repeat(128), 'file-abc_DEF-123'])(
    'accepts %s',
    (id) => expect(OBJECT_ID.test(id)).toBe(true),
  );

  it.each(['', 'x'.repeat(129), 'resp 1', 'resp/1', '../admin', 'resp_1?x=1', 'resp.1', 'résp', 'resp_1\n'])(
    'refuses %p',
    (id) => expect(OBJECT_ID.test(id)).toBe(false),
  );
});

describe('token count body', () => {
  const route = routeOf('POST', '/v1/responses/input_tokens');
  const prepare = (body: unknown, client: Caller = APP) => route.prepareBody!({ policy, client, body });
  const refusal = (body: unknown, client: Caller = APP) => refusalOf(() => prepare(body, client));

  it('resolves the model and forwards the rest of the body as is', () => {
    const body = { model: 'fast', input: 'Say hello', instructions: 'x', tools: [{ type: 'web_search' }] };
    expect(prepare(body)).toEqual({ body: { ...body, model: 'gpt-4o-mini' }, names: [] });
    expect(body.model).toBe('fast');
  });

  it('refuses an unknown model, one the client may not use, and no model', () => {
    expect(fields(refusal({ model: 'gpt-9', input: 'x' }))).toEqual({
      status: 404,
      param: 'model',
      code: 'model_not_found',
    });
    expect(fields(refusal({ model: 'gpt-4o', input: 'x' }, LIMITED))).toEqual({
      status: 403,
      param: 'model',
      code: 'model_not_allowed',
    });
    expect(fields(refusal({ input: 'x' }))).toEqual({ status: 400, param: 'model', code: null });
    expect(fields(refusal([]))).toEqual({ status: 400, param: null, code: null });
  });

  it('names the previous response and the conversation, which carry no context into a count', () => {
    expect(prepare({ model: 'fast', previous_response_id: 'resp_1' }).names).toEqual([
      { kind: 'response', id: 'resp_1', param: 'previous_response_id', carriesContext: false },
    ]);
    expect(prepare({ model: 'fast', conversation: 'conv_1' }).names).toEqual([
      { kind: 'conversation', id: 'conv_1', param: 'conversation', carriesContext: false },
    ]);
    expect(prepare({ model: 'fast', conversation: { id: 'conv_1' } }).names).toEqual([
      { kind: 'conversation', id: 'conv_1', param: 'conversation', carriesContext: false },
    ]);
    expect(
      prepare({ model: 'fast', previous_response_id: 'resp_1', conversation: 'conv_1' }).names.map(
        (n) => n.id,
      ),
    ).toEqual(['resp_1', 'conv_1']);
    expect(prepare({ model: 'fast', previous_response_id: null, conversation: null }).names).toEqual([]);
  });

  it('refuses a previous_response_id or conversation of the wrong type, naming the param', () => {
    expect(fields(refusal({ model: 'fast', previous_response_id: 5 }))).toEqual({
      status: 400,
      param: 'previous_response_id',
      code: null,
    });
    expect(fields(refusal({ model: 'fast', conversation: 5 }))).toEqual({
      status: 400,
      param: 'conversation',
      code: null,
    });
    expect(fields(refusal({ model: 'fast', conversation: { id: 5 } }))).toEqual({
      status: 400,
      param: 'conversation',
      code: null,
    });
  });

  it('refuses a conversation object without an id, as responses.create does', () => {
    expect(fields(refusal({ model: 'fast', conversation: {} }))).toEqual({
      status: 400,
      param: 'conversation',
      code: null,
    });
  });
});
