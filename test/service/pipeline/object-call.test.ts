import { OBJECT_ROUTES, type ObjectRoute } from '../../../service/endpoints/object-routes';
import { GatewayError } from '../../../service/errors';
import { NOTHING_METERED } from '../../../service/pipeline/metering';
import { runObjectCall } from '../../../service/pipeline/object-call';
import { testConfigDocument, UPSTREAM_KEY } from '../../support/gateway-harness';
import { MemoryResponse } from '../../support/memory-response';
import {
  startPipeline,
  type PipelineHarness,
  type PipelineHarnessOptions,
} from '../../support/pipeline-harness';

const routeOf = (method: ObjectRoute['method'], route: string): ObjectRoute => {
  const found = OBJECT_ROUTES.find((r) => r.method === method && r.route === route);
  if (!found) throw new Error(`no route ${method} ${route}`);
  return found;
};
const RETRIEVE = routeOf('GET', '/v1/responses/:id');
const DELETE = routeOf('DELETE', '/v1/responses/:id');
const CANCEL = routeOf('POST', '/v1/responses/:id/cancel');
const INPUT_ITEMS = routeOf('GET', '/v1/responses/:id/input_items');
const TOKEN_COUNT = routeOf('POST', '/v1/responses/input_tokens');

const RATE_LIMIT_HEADERS = [
  'x-ratelimit-limit-requests',
  'x-ratelimit-remaining-requests',
  'x-ratelimit-reset-requests',
  'x-ratelimit-limit-tokens',
  'x-ratelimit-remaining-tokens',
  'x-ratelimit-reset-tokens',
];

/** The test config's clients with one of them changed (arrays are replaced by a config patch). */
const clientsWith = (id: string, patch: Record<string, unknown>) =>
  (testConfigDocument().clients as Array<Record<string, unknown>>).map((c) =>
    c.id === id ? { ...c, ...patch } : c,
  );

interface Call {
  readonly route: ObjectRoute;
  readonly id?: string;
  readonly itemId?: string;
  readonly query?: string;
  readonly body?: unknown;
  readonly clientId?: string;
}

describe('runObjectCall', () => {
  let open: PipelineHarness[] = [];
  const start = async (options?: PipelineHarnessOptions): Promise<PipelineHarness> => {
    const h = await startPipeline(options);
    open.push(h);
    return h;
  };
  afterEach(async () => {
    await Promise.all(open.map((h) => h.close()));
    open = [];
  });

  const run = async (h: PipelineHarness, call: Call) => {
    const response = new MemoryResponse();
    const result = await runObjectCall(h.deps, {
      route: call.route,
      client: h.client(call.clientId),
      ...(call.id === undefined ? {} : { id: call.id }),
      ...(call.itemId === undefined ? {} : { itemId: call.itemId }),
      query: new URLSearchParams(call.query ?? ''),
      body: call.body,
      response,
    });
    return { result, response };
  };

  /** A stored response created on the fake upstream directly, owned in the store by `owner`. */
  const storedResponse = async (h: PipelineHarness, owner: string | null = 'app'): Promise<string> => {
    const res = await fetch(`${h.fake.url}/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${UPSTREAM_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', input: 'Say hello', store: true }),
    });
    const { id } = (await res.json()) as { id: string };
    if (owner !== null) await h.store.owners.record(id, { clientId: owner, contextTokens: 30 }, 3600);
    h.fake.requests.length = 0;
    return id;
  };

  /** What the fake upstream answers to the same request, sent directly. */
  const direct = async (h: PipelineHarness, method: string, path: string) => {
    const res = await fetch(`${h.fake.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${UPSTREAM_KEY}` },
    });
    const text = await res.text();
    h.fake.requests.pop();
    return { status: res.status, text };
  };

  const errorOf = (result: { error?: unknown }): GatewayError => {
    expect(result.error).toBeInstanceOf(GatewayError);
    return result.error as GatewayError;
  };

  describe('ownership', () => {
    it('answers 404 for a response another client owns, without calling upstream', async () => {
      const h = await start();
      const id = await storedResponse(h, 'other');
      const { result, response } = await run(h, { route: RETRIEVE, id });
      const err = errorOf(result);
      expect(err.toBody()).toEqual({
        error: {
          message: `No response found with id '${id}'.`,
          type: 'invalid_request_error',
          param: null,
          code: 'not_found',
        },
      });
      expect(err.status).toBe(404);
      expect(h.fake.requests).toEqual([]);
      expect(response.started).toBe(false);
      expect(Object.keys(result.headers!).sort()).toEqual([...RATE_LIMIT_HEADERS].sort());
      // Nor may the other client delete it.
      expect(errorOf((await run(h, { route: DELETE, id })).result).status).toBe(404);
      expect(await h.store.owners.lookup(id)).toEqual({ clientId: 'other', contextTokens: 30 });
      expect(h.fake.requests).toEqual([]);
    });

    it('answers the same 404 for a response nobody owns', async () => {
      const h = await start();
      const id = await storedResponse(h, null);
      const err = errorOf((await run(h, { route: RETRIEVE, id })).result);
      expect({ status: err.status, code: err.code, param: err.param }).toEqual({
        status: 404,
        code: 'not_found',
        param: null,
      });
      expect(h.fake.received).toBe(1); // the creation only
    });

    it.each(['resp 1', '../models', 'resp_1/cancel', 'resp_1?stream=true', '', 'x'.repeat(129)])(
      'answers 404 for the id %p that cannot be an OpenAI id, without looking it up or calling upstream',
      async (id) => {
        const h = await start();
        let lookups = 0;
        const lookup = h.store.owners.lookup.bind(h.store.owners);
        h.store.owners.lookup = (key) => {
          lookups++;
          return lookup(key);
        };
        const err = errorOf((await run(h, { route: RETRIEVE, id })).result);
        expect({ status: err.status, code: err.code, param: err.param }).toEqual({
          status: 404,
          code: 'not_found',
          param: null,
        });
        expect(err.message).toBe(`No response found with id '${id.slice(0, 128)}'.`);
        expect(lookups).toBe(0);
        expect(h.fake.received).toBe(0);
      },
    );

    it('answers 404 for a route with an id when none is given', async () => {
      const h = await start();
      const err = errorOf((await run(h, { route: DELETE })).result);
      expect({ status: err.status, code: err.code, message: err.message }).toEqual({
        status: 404,
        code: 'not_found',
        message: "No response found with id ''.",
      });
      expect(h.fake.received).toBe(0);
    });

    it('answers 503 when the store cannot say who owns the object', async () => {
      const h = await start();
      h.store.owners.lookup = () => Promise.reject(new Error('down'));
      const err = errorOf((await run(h, { route: RETRIEVE, id: 'resp_1' })).result);
      expect({ status: err.status, code: err.code }).toEqual({ status: 503, code: 'service_unavailable' });
      expect(h.fake.received).toBe(0);
    });
  });

  describe('admission', () => {
    it('answers 429 once RPM is spent, probes of ids included, before ownership or upstream', async () => {
      const h = await start({ config: { clients: clientsWith('app', { rpm: 1 }) } });
      const id = await storedResponse(h);
      expect(errorOf((await run(h, { route: RETRIEVE, id: 'not an id' })).result).status).toBe(404);
      const { result, response } = await run(h, { route: RETRIEVE, id });
      const err = errorOf(result);
      expect({ status: err.status, type: err.type, code: err.code }).toEqual({
        status: 429,
        type: 'requests',
        code: 'rate_limit_exceeded',
      });
      expect(err.headers['retry-after']).toBe('60');
      expect(err.headers['x-ratelimit-limit-requests']).toBe('1');
      expect(err.headers['x-ratelimit-remaining-requests']).toBe('0');
      expect(response.started).toBe(false);
      expect(h.fake.requests).toEqual([]);
    });

    it('reserves no tokens and meters nothing', async () => {
      const h = await start();
      const id = await storedResponse(h);
      const { result, response } = await run(h, { route: RETRIEVE, id });
      expect(result.error).toBeUndefined();
      expect(result.trace.metered).toEqual(NOTHING_METERED);
      expect(result.trace.budgetExceeded).toBe(false);
      expect(result.trace.upstreamMs).toEqual(expect.any(Number));
      expect(response.sent!.headers['x-ratelimit-remaining-tokens']).toBe('1000000');
      expect(response.sent!.headers['x-ratelimit-remaining-requests']).toBe('999');
      expect(await h.store.monthToDateSpendNanos()).toBe(0);
    });
  });

  describe('relaying', () => {
    it("relays a retrieved response's JSON as upstream sent it, with its status and the rate-limit headers", async () => {
      const h = await start();
      const id = await storedResponse(h);
      const expected = await direct(h, 'GET', `/responses/${id}`);
      const { result, response } = await run(h, { route: RETRIEVE, id });
      expect(result.error).toBeUndefined();
      expect(response.problems).toEqual([]);
      expect(response.sent).toEqual({
        status: 200,
        headers: expect.any(Object),
        contentType: 'json',
        body: expected.text,
      });
      expect(Object.keys(response.sent!.headers).sort()).toEqual([...RATE_LIMIT_HEADERS].sort());
      expect(h.fake.requests.map((r) => [r.method, r.path, r.query.toString(), r.body])).toEqual([
        ['GET', `/v1/responses/${id}`, '', undefined],
      ]);
      expect(h.fake.requests[0].apiKey).toBe(UPSTREAM_KEY);
    });

    it('relays an upstream 4xx as is: a response the gateway owns but upstream no longer has', async () => {
      const h = await start();
      await h.store.owners.record('resp_gone', { clientId: 'app' }, 60);
      const { result, response } = await run(h, { route: RETRIEVE, id: 'resp_gone' });
      expect(result.error).toBeUndefined();
      expect(response.sent!.status).toBe(404);
      expect(JSON.parse(response.sent!.body)).toEqual({
        error: {
          message: "Response with id 'resp_gone' not found.",
          type: 'invalid_request_error',
          param: null,
          code: null,
        },
      });
    });

    it('relays a stored stream raw, as upstream sent it', async () => {
      const h = await start();
      const id = await storedResponse(h);
      const expected = await direct(h, 'GET', `/responses/${id}?stream=true&starting_after=1`);
      expect(expected.text).toContain('event: response.completed\n');
      const { result, response } = await run(h, {
        route: RETRIEVE,
        id,
        query: 'stream=true&starting_after=1',
      });
      expect(result.error).toBeUndefined();
      expect(response.problems).toEqual([]);
      expect(response.sent).toBeUndefined();
      expect(Object.keys(response.streamHeaders!).sort()).toEqual([...RATE_LIMIT_HEADERS].sort());
      expect(response.ended).toBe(true);
      expect(response.streamText).toBe(expected.text);
      // Only the events after sequence number 1: the created and in-progress events are not replayed.
      expect(response.streamText).not.toContain('"sequence_number":1,');
      expect(response.streamText).toContain('"sequence_number":2,');
    });

    it('relays the input items of a response', async () => {
      const h = await start();
      const id = await storedResponse(h);
      const expected = await direct(h, 'GET', `/responses/${id}/input_items?limit=1`);
      const { response } = await run(h, { route: INPUT_ITEMS, id, query: 'limit=1' });
      expect(response.sent).toMatchObject({ status: 200, contentType: 'json', body: expected.text });
      expect(JSON.parse(response.sent!.body)).toMatchObject({ object: 'list' });
    });

    it('sends a cancel with POST and no body, and relays its 400', async () => {
      const h = await start();
      const id = await storedResponse(h);
      const { result, response } = await run(h, { route: CANCEL, id });
      expect(result.error).toBeUndefined();
      expect(response.sent!.status).toBe(400);
      expect(JSON.parse(response.sent!.body).error.message).toBe(
        'Only background responses can be cancelled.',
      );
      expect(h.fake.requests.map((r) => [r.method, r.path, r.body])).toEqual([
        ['POST', `/v1/responses/${id}/cancel`, undefined],
      ]);
    });
  });

  describe('query parameters', () => {
    it('forwards only the allowed ones, in the order of the allow-list', async () => {
      const h = await start();
      const id = await storedResponse(h);
      await run(h, {
        route: RETRIEVE,
        id,
        query:
          'api_key=sk-x&include=reasoning.encrypted_content&foo=bar&stream=false&starting_after=2&limit=1',
      });
      expect(h.fake.requests[0].query.toString()).toBe(
        'include=reasoning.encrypted_content&starting_after=2&stream=false',
      );
      await run(h, { route: INPUT_ITEMS, id, query: 'order=asc&evil=1&limit=5&stream=true' });
      expect(h.fake.requests[1].path).toBe(`/v1/responses/${id}/input_items`);
      expect(h.fake.requests[1].query.toString()).toBe('limit=5&order=asc');
      await run(h, { route: DELETE, id, query: 'include=x' });
      expect(h.fake.requests[2].query.toString()).toBe('');
    });

    it("forwards the SDK's array form of include (include[]=…, as openai-node sends it)", async () => {
      const h = await start();
      const id = await storedResponse(h);
      const sdkQuery = new URLSearchParams([
        ['include[]', 'message.output_text.logprobs'],
        ['include[]', 'reasoning.encrypted_content'],
      ]).toString();
      await run(h, { route: RETRIEVE, id, query: sdkQuery });
      expect(h.fake.requests[0].query.getAll('include[]')).toEqual([
        'message.output_text.logprobs',
        'reasoning.encrypted_content',
      ]);
    });

    it('forwards every value of a repeated allowed parameter', async () => {
      const h = await start();
      const id = await storedResponse(h);
      await run(h, {
        route: INPUT_ITEMS,
        id,
        query: 'include=message.input_image.image_url&include=file_search_call.results',
      });
      expect(h.fake.requests[0].query.getAll('include')).toEqual([
        'message.input_image.image_url',
        'file_search_call.results',
      ]);
    });
  });

  describe('delete', () => {
    it('forgets the owner when upstream deleted the response', async () => {
      const h = await start();
      const id = await storedResponse(h);
      const { result, response } = await run(h, { route: DELETE, id });
      expect(result.error).toBeUndefined();
      expect(response.sent!.status).toBe(200);
      expect(JSON.parse(response.sent!.body)).toEqual({ id, object: 'response', deleted: true });
      expect(h.fake.requests.map((r) => [r.method, r.path])).toEqual([['DELETE', `/v1/responses/${id}`]]);
      expect(await h.store.owners.lookup(id)).toBeUndefined();
      // Now nobody's: the next call is answered by the gateway.
      expect(errorOf((await run(h, { route: RETRIEVE, id })).result).status).toBe(404);
      expect(h.fake.requests).toHaveLength(1);
    });

    it('keeps the owner when upstream did not delete it', async () => {
      const h = await start();
      await h.store.owners.record('resp_gone', { clientId: 'app', contextTokens: 5 }, 60);
      const { response } = await run(h, { route: DELETE, id: 'resp_gone' });
      expect(response.sent!.status).toBe(404);
      expect(await h.store.owners.lookup('resp_gone')).toEqual({ clientId: 'app', contextTokens: 5 });

      const id = await storedResponse(h);
      h.fake.enqueue({ status: 400, body: { error: { message: 'no', type: 'invalid_request_error' } } });
      expect((await run(h, { route: DELETE, id })).response.sent!.status).toBe(400);
      expect(await h.store.owners.lookup(id)).toEqual({ clientId: 'app', contextTokens: 30 });
    });

    it('answers 200 all the same when the owner cannot be forgotten', async () => {
      const h = await start();
      const id = await storedResponse(h);
      h.store.owners.forget = () => Promise.reject(new Error('down'));
      const { result, response } = await run(h, { route: DELETE, id });
      expect(result.error).toBeUndefined();
      expect(response.sent!.status).toBe(200);
    });
  });

  describe('upstream failures', () => {
    it('maps a 5xx that outlasts the retries to a 502, with nothing sent to the caller', async () => {
      const h = await start();
      const id = await storedResponse(h);
      h.fake.enqueue({ status: 500 }, { status: 500 }, { status: 500 });
      const { result, response } = await run(h, { route: RETRIEVE, id });
      const err = errorOf(result);
      expect(err.toBody()).toEqual({
        error: {
          message: 'The upstream model API failed with status 500 after retries.',
          type: 'server_error',
          param: null,
          code: 'upstream_error',
        },
      });
      expect(err.status).toBe(502);
      expect(h.fake.requests).toHaveLength(3);
      expect(result.trace.attempts.errors).toBe(3);
      expect(response.started).toBe(false);
      expect(Object.keys(result.headers!).sort()).toEqual([...RATE_LIMIT_HEADERS].sort());
    });

    it('relays the answer when a retry succeeds', async () => {
      const h = await start();
      const id = await storedResponse(h);
      h.fake.enqueue({ status: 503 });
      const { result, response } = await run(h, { route: RETRIEVE, id });
      expect(result.error).toBeUndefined();
      expect(response.sent!.status).toBe(200);
      expect(JSON.parse(response.sent!.body).id).toBe(id);
      expect(result.trace.attempts.errors).toBe(1);
    });
  });

  describe('token count', () => {
    it('sends the body with the model resolved, and relays the count', async () => {
      const h = await start();
      const body = { model: 'fast', input: 'Say hello', instructions: 'Be brief.' };
      const { result, response } = await run(h, { route: TOKEN_COUNT, body });
      expect(result.error).toBeUndefined();
      expect(h.fake.requests.map((r) => [r.method, r.path, r.body])).toEqual([
        ['POST', '/v1/responses/input_tokens', { ...body, model: 'gpt-4o-mini' }],
      ]);
      expect(response.sent).toMatchObject({ status: 200, contentType: 'json' });
      expect(JSON.parse(response.sent!.body)).toEqual({
        object: 'response.input_tokens',
        input_tokens: expect.any(Number),
      });
    });

    it('answers 404 naming previous_response_id when the caller does not own it, without calling upstream', async () => {
      const h = await start();
      const id = await storedResponse(h, 'other');
      const err = errorOf(
        (await run(h, { route: TOKEN_COUNT, body: { model: 'fast', previous_response_id: id } })).result,
      );
      expect({ status: err.status, param: err.param, code: err.code }).toEqual({
        status: 404,
        param: 'previous_response_id',
        code: 'not_found',
      });
      expect(h.fake.requests).toEqual([]);
      const own = await storedResponse(h);
      const counted = await run(h, {
        route: TOKEN_COUNT,
        body: { model: 'fast', previous_response_id: own },
      });
      expect(counted.response.sent!.status).toBe(200);
    });

    it('answers 404 naming conversation for a conversation the caller does not own', async () => {
      const h = await start();
      const err = errorOf(
        (await run(h, { route: TOKEN_COUNT, body: { model: 'fast', conversation: { id: 'conv_1' } } }))
          .result,
      );
      expect({ status: err.status, param: err.param, code: err.code }).toEqual({
        status: 404,
        param: 'conversation',
        code: 'not_found',
      });
      expect(err.message).toBe("No conversation found with id 'conv_1'.");
      expect(h.fake.received).toBe(0);
    });

    it('refuses a model the client may not use with 403, without calling upstream', async () => {
      const h = await start();
      const err = errorOf(
        (await run(h, { route: TOKEN_COUNT, clientId: 'limited', body: { model: 'gpt-4o', input: 'x' } }))
          .result,
      );
      expect({ status: err.status, param: err.param, code: err.code }).toEqual({
        status: 403,
        param: 'model',
        code: 'model_not_allowed',
      });
      expect(h.fake.received).toBe(0);
    });
  });

  describe('conversations', () => {
    const CREATE = routeOf('POST', '/v1/conversations');
    const ADD_ITEMS = routeOf('POST', '/v1/conversations/:id/items');
    const ITEM = routeOf('GET', '/v1/conversations/:id/items/:item_id');
    const DELETE_CONVERSATION = routeOf('DELETE', '/v1/conversations/:id');
    const message = (content: string) => ({ type: 'message', role: 'user', content });
    const idOf = (response: MemoryResponse) => (JSON.parse(String(response.sent!.body)) as { id: string }).id;

    it("records a created conversation as the caller's, with its items' estimate, before answering", async () => {
      const h = await start();
      const { result, response } = await run(h, {
        route: CREATE,
        body: { items: [message('x'.repeat(90))] },
      });
      expect(result.error).toBeUndefined();
      const owner = await h.store.owners.lookup(idOf(response));
      expect(owner?.clientId).toBe('app');
      expect(owner?.contextTokens).toBeGreaterThanOrEqual(30);
      expect(result.trace.metered).toEqual(NOTHING_METERED);
    });

    it('grows the conversation by the items added, and forgets it when it is deleted', async () => {
      const h = await start();
      const id = idOf((await run(h, { route: CREATE, body: {} })).response);
      expect((await h.store.owners.lookup(id))?.contextTokens).toBe(0);
      await run(h, { route: ADD_ITEMS, id, body: { items: [message('y'.repeat(300))] } });
      expect((await h.store.owners.lookup(id))?.contextTokens).toBeGreaterThanOrEqual(100);
      await run(h, { route: DELETE_CONVERSATION, id });
      expect(await h.store.owners.lookup(id)).toBeUndefined();
    });

    it('leaves the record alone when upstream refuses the items, and records nothing it did not create', async () => {
      const h = await start();
      const id = idOf((await run(h, { route: CREATE, body: {} })).response);
      h.fake.enqueue({ path: `/v1/conversations/${id}/items`, status: 400 });
      await run(h, { route: ADD_ITEMS, id, body: { items: [message('z')] } });
      expect(await h.store.owners.lookup(id)).toEqual({ clientId: 'app', contextTokens: 0 });
      h.fake.enqueue(
        { path: '/v1/conversations', status: 500 },
        { path: '/v1/conversations', status: 500 },
        { path: '/v1/conversations', status: 500 },
      );
      const { result, response } = await run(h, { route: CREATE, body: {} });
      expect(errorOf(result).status).toBeGreaterThanOrEqual(500);
      expect(response.sent).toBeUndefined();
    });

    it('answers 404 for an item id OpenAI could never issue, without calling upstream', async () => {
      const h = await start();
      const id = idOf((await run(h, { route: CREATE, body: {} })).response);
      const received = h.fake.received;
      const err = errorOf((await run(h, { route: ITEM, id, itemId: '../x' })).result);
      expect({ status: err.status, code: err.code }).toEqual({ status: 404, code: 'not_found' });
      expect(h.fake.received).toBe(received);
    });
  });
});
