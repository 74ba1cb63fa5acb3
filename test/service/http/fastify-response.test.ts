import { once } from 'node:events';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { FastifyResponse } from '../../../service/http/fastify-response';

/** What one test's handler does with the response; it runs inside a real Fastify route. */
type Scenario = (context: {
  readonly reply: FastifyReply;
  readonly response: FastifyResponse;
  readonly controller: AbortController;
}) => Promise<void> | void;

const SSE = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
};

describe('FastifyResponse', () => {
  let app: FastifyInstance;
  let base: string;
  let scenario: Scenario;
  /** The running scenario's outcome: undefined when it returned, else what it threw. */
  let done: Promise<unknown>;
  let finish: (failure: unknown) => void;

  beforeEach(() => {
    done = new Promise((resolve) => (finish = resolve));
  });

  beforeAll(async () => {
    app = Fastify({ genReqId: () => 'req-test-1' });
    app.get('/t', async (_request, reply) => {
      const controller = new AbortController();
      const response = new FastifyResponse(reply, { abort: controller, writeStallTimeoutMs: 30_000 });
      let failure: unknown;
      try {
        await scenario({ reply, response, controller });
      } catch (err) {
        // A failed expectation inside a scenario: end the exchange so the caller's fetch settles.
        failure = err;
        reply.raw.destroy();
      }
      finish(failure);
      return reply;
    });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });

  afterAll(async () => {
    await app.close();
  });

  /** Runs `s` for one request and returns the caller's view of the answer. */
  async function call(s: Scenario) {
    scenario = s;
    const answer = await fetch(`${base}/t`).then(
      async (res) => ({ status: res.status, headers: res.headers, text: await res.text() }),
      (err: unknown) => ({ failed: err }),
    );
    expect(await done).toBeUndefined();
    if ('failed' in answer) throw answer.failed;
    return answer;
  }

  describe('send', () => {
    it('answers JSON with the status, the headers and content-type application/json', async () => {
      const { status, headers, text } = await call(({ response }) => {
        response.send({
          status: 201,
          headers: { 'x-cache-status': 'MISS', 'x-ratelimit-remaining-requests': '59' },
          contentType: 'json',
          body: '{"id":"chatcmpl-1","object":"chat.completion"}',
        });
      });
      expect(status).toBe(201);
      expect(text).toBe('{"id":"chatcmpl-1","object":"chat.completion"}');
      expect(headers.get('x-cache-status')).toBe('MISS');
      expect(headers.get('x-ratelimit-remaining-requests')).toBe('59');
      // Fastify adds the charset to a JSON content type.
      expect(headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(headers.get('cache-control')).toBeNull();
      expect(headers.get('x-accel-buffering')).toBeNull();
    });

    it('sends the body text as given, without serialising it again', async () => {
      const { text } = await call(({ response }) => {
        response.send({ status: 200, headers: {}, contentType: 'json', body: '"just a string"' });
      });
      expect(text).toBe('"just a string"');
    });

    it('answers an error status with its body', async () => {
      const { status, headers, text } = await call(({ response }) => {
        response.send({
          status: 429,
          headers: { 'retry-after': '3' },
          contentType: 'json',
          body: '{"error":{"message":"m","type":"requests","param":null,"code":"rate_limit_exceeded"}}',
        });
      });
      expect(status).toBe(429);
      expect(headers.get('retry-after')).toBe('3');
      expect(JSON.parse(text)).toEqual({
        error: { message: 'm', type: 'requests', param: null, code: 'rate_limit_exceeded' },
      });
    });

    it("sets the JSON content type over one in the answer's headers", async () => {
      const { headers } = await call(({ response }) => {
        response.send({
          status: 200,
          headers: { 'content-type': 'text/plain' },
          contentType: 'json',
          body: '{}',
        });
      });
      expect(headers.get('content-type')).toBe('application/json; charset=utf-8');
    });

    it("with contentType sse sets the SSE headers and sends the replayed stream's text", async () => {
      const body = 'data: {"choices":[]}\n\ndata: [DONE]\n\n';
      const { status, headers, text } = await call(({ response }) => {
        response.send({ status: 200, headers: { 'x-cache-status': 'HIT' }, contentType: 'sse', body });
      });
      expect(status).toBe(200);
      expect(text).toBe(body);
      expect(headers.get('content-type')).toBe(SSE['content-type']);
      expect(headers.get('cache-control')).toBe('no-cache');
      expect(headers.get('x-accel-buffering')).toBe('no');
      expect(headers.get('x-cache-status')).toBe('HIT');
    });

    it('reports started false before and true after', async () => {
      const seen: boolean[] = [];
      await call(({ response }) => {
        seen.push(response.started);
        response.send({ status: 200, headers: {}, contentType: 'json', body: '{}' });
        seen.push(response.started);
      });
      expect(seen).toEqual([false, true]);
    });
  });

  describe('openStream', () => {
    it('writes a 200 with the SSE headers, the given headers and x-request-id', async () => {
      const { status, headers, text } = await call(({ response }) => {
        response.openStream({ 'x-cache-status': 'BYPASS', 'x-ratelimit-limit-tokens': '10000' });
        response.end();
      });
      expect(status).toBe(200);
      expect(text).toBe('');
      expect(headers.get('content-type')).toBe(SSE['content-type']);
      expect(headers.get('cache-control')).toBe('no-cache');
      expect(headers.get('x-accel-buffering')).toBe('no');
      expect(headers.get('x-cache-status')).toBe('BYPASS');
      expect(headers.get('x-ratelimit-limit-tokens')).toBe('10000');
      expect(headers.get('x-request-id')).toBe('req-test-1');
    });

    it("sets the request's own id over an x-request-id in the given headers", async () => {
      const { headers } = await call(({ response }) => {
        response.openStream({ 'x-request-id': 'upstream-id' });
        response.end();
      });
      expect(headers.get('x-request-id')).toBe('req-test-1');
    });

    it('is idempotent: a second call changes nothing and does not throw', async () => {
      const { status, headers, text } = await call(({ response }) => {
        response.openStream({ 'x-first': '1' });
        response.write('data: a\n\n');
        response.openStream({ 'x-second': '2' });
        response.end('data: [DONE]\n\n');
      });
      expect(status).toBe(200);
      expect(headers.get('x-first')).toBe('1');
      expect(headers.get('x-second')).toBeNull();
      expect(text).toBe('data: a\n\ndata: [DONE]\n\n');
    });

    it('reports started false before and true after', async () => {
      const seen: boolean[] = [];
      await call(({ response }) => {
        seen.push(response.started);
        response.openStream({});
        seen.push(response.started);
        response.end();
        seen.push(response.started);
      });
      expect(seen).toEqual([false, true, true]);
    });

    it('hijacks the reply, so Fastify does not answer it again', async () => {
      const sent: boolean[] = [];
      await call(({ reply, response }) => {
        response.openStream({});
        sent.push(reply.sent);
        response.end();
      });
      expect(sent).toEqual([true]);
    });
  });

  describe('write and end', () => {
    it('deliver the stream text to the caller in order', async () => {
      const { text } = await call(({ response }) => {
        response.openStream({});
        response.write(': keep-alive\n\n');
        response.write('data: {"n":1}\n\n');
        response.write('data: {"n":2}\n\n');
        response.end('data: [DONE]\n\n');
      });
      expect(text).toBe(': keep-alive\n\ndata: {"n":1}\n\ndata: {"n":2}\n\ndata: [DONE]\n\n');
    });

    it('end without text ends the stream after the writes', async () => {
      const { text } = await call(({ response }) => {
        response.openStream({});
        response.write('data: x\n\n');
        response.end();
      });
      expect(text).toBe('data: x\n\n');
    });

    it('write returns undefined when the text was taken at once', async () => {
      const results: unknown[] = [];
      await call(({ response }) => {
        response.openStream({});
        results.push(response.write('data: small\n\n'));
        response.end();
      });
      expect(results).toEqual([undefined]);
    });

    it('write returns a promise under back-pressure that resolves once the caller has read', async () => {
      const big = 'x'.repeat(16 * 1024 * 1024);
      let pending: Promise<void> | undefined;
      scenario = async ({ response }) => {
        response.openStream({});
        pending = response.write(big);
        expect(typeof pending?.then).toBe('function');
        await pending;
        response.end('data: [DONE]\n\n');
      };
      const text = await fetch(`${base}/t`).then(
        (res) => res.text(),
        (err: unknown) => err,
      );
      expect(await done).toBeUndefined();
      expect(typeof text).toBe('string');
      // Compared as a boolean: a failing 16 MB string diff would be unreadable.
      expect((text as string).length).toBe(big.length + 'data: [DONE]\n\n'.length);
      expect(text === big + 'data: [DONE]\n\n').toBe(true);
    });

    it("write's wait for drain rejects with an AbortError when the signal aborts", async () => {
      const big = 'y'.repeat(16 * 1024 * 1024);
      let rejection: unknown;
      scenario = async ({ reply, response, controller }) => {
        response.openStream({});
        const pending = response.write(big);
        expect(typeof pending?.then).toBe('function');
        controller.abort();
        rejection = await pending!.then(
          () => 'resolved',
          (err: unknown) => err,
        );
        reply.raw.destroy();
      };
      await fetch(`${base}/t`)
        .then((res) => res.text())
        .catch(() => undefined);
      expect(await done).toBeUndefined();
      expect((rejection as Error).name).toBe('AbortError');
    });
  });

  describe('after the caller disconnected', () => {
    it('end does not throw, with or without text', async () => {
      const observed: { destroyed?: boolean } = {};
      const controller = new AbortController();
      scenario = async ({ reply, response }) => {
        response.openStream({});
        response.write('data: first\n\n');
        await once(reply.raw, 'close');
        observed.destroyed = reply.raw.destroyed;
        response.end('data: [DONE]\n\n');
        response.end();
      };
      const res = await fetch(`${base}/t`, { signal: controller.signal });
      const reader = res.body!.getReader();
      const first = await reader.read();
      expect(new TextDecoder().decode(first.value)).toBe('data: first\n\n');
      controller.abort();
      expect(await done).toBeUndefined();
      expect(observed.destroyed).toBe(true);
    });

    it('a stream already ended can be ended again (without text) without throwing', async () => {
      const { text } = await call(({ response }) => {
        response.openStream({});
        response.end('data: [DONE]\n\n');
        response.end();
      });
      expect(text).toBe('data: [DONE]\n\n');
    });
  });

  it('exposes the signal it was given', async () => {
    const same: boolean[] = [];
    await call(({ response, controller }) => {
      same.push(response.signal === controller.signal);
      response.send({ status: 204, headers: {}, contentType: 'json', body: '' });
    });
    expect(same).toEqual([true]);
  });
});
