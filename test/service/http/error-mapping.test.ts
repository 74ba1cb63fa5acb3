import Fastify, { errorCodes, type FastifyInstance } from 'fastify';
import {
  GatewayError,
  invalidApiKey,
  modelNotFound,
  rateLimited,
  type OpenAIErrorBody,
} from '../../../service/errors';
import { toGatewayError } from '../../../service/http/error-mapping';

const LIMIT = 64;

const PARSE_MESSAGE =
  'We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.';

const INTERNAL = {
  error: {
    message: 'The gateway had an internal error while processing the request.',
    type: 'server_error',
    param: null,
    code: null,
  },
};

describe('toGatewayError', () => {
  it.each([null, undefined])('answers a thrown %s with the 500, not a TypeError', (value) => {
    expect(toGatewayError(value, 10)).toMatchObject({ status: 500, type: 'server_error' });
  });

  describe('a GatewayError', () => {
    it('is returned as the same object', () => {
      const e = modelNotFound('gpt-x');
      expect(toGatewayError(e, LIMIT)).toBe(e);
    });

    it('keeps its headers', () => {
      const e = rateLimited('requests', 9, 'application');
      expect(toGatewayError(e, LIMIT).headers).toEqual({ 'retry-after': '9' });
    });
  });

  describe("Fastify's content-type parser errors", () => {
    it('turns FST_ERR_CTP_BODY_TOO_LARGE into a 413 naming the limit', () => {
      const e = toGatewayError(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE(), 1_048_576);
      expect(e.status).toBe(413);
      expect(e.toBody()).toEqual({
        error: {
          message: 'Request body exceeds the limit of 1048576 bytes.',
          type: 'invalid_request_error',
          param: null,
          code: 'request_too_large',
        },
      });
    });

    it('names the limit it is given, not a fixed one', () => {
      expect(toGatewayError(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE(), 10).message).toBe(
        'Request body exceeds the limit of 10 bytes.',
      );
    });

    it('turns FST_ERR_CTP_INVALID_MEDIA_TYPE into a 415', () => {
      const e = toGatewayError(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(), LIMIT);
      expect(e.status).toBe(415);
      expect(e.toBody()).toEqual({
        error: {
          message: "Send the body as JSON with 'Content-Type: application/json'.",
          type: 'invalid_request_error',
          param: null,
          code: null,
        },
      });
    });

    it('turns FST_ERR_CTP_EMPTY_JSON_BODY into a 400 asking for a JSON object', () => {
      const e = toGatewayError(new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY(), LIMIT);
      expect(e.status).toBe(400);
      expect(e.toBody()).toEqual({
        error: {
          message: 'The request body is empty; send a JSON object.',
          type: 'invalid_request_error',
          param: null,
          code: null,
        },
      });
    });

    it('matches by code alone', () => {
      expect(toGatewayError({ code: 'FST_ERR_CTP_BODY_TOO_LARGE' }, 5).status).toBe(413);
      expect(toGatewayError({ code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' }, 5).status).toBe(415);
    });
  });

  describe('an unparsable body', () => {
    it('turns an error with statusCode 400 into the 400 parse message', () => {
      const e = toGatewayError(Object.assign(new Error('Unexpected token'), { statusCode: 400 }), LIMIT);
      expect(e.status).toBe(400);
      expect(e.toBody()).toEqual({
        error: { message: PARSE_MESSAGE, type: 'invalid_request_error', param: null, code: null },
      });
    });

    it("turns Fastify's FST_ERR_CTP_INVALID_JSON_BODY (statusCode 400) into the parse message", () => {
      const e = toGatewayError(new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY(), LIMIT);
      expect(e.status).toBe(400);
      expect(e.message).toBe(PARSE_MESSAGE);
    });

    it('turns a SyntaxError into the 400 parse message', () => {
      let thrown: unknown;
      try {
        JSON.parse('{"model":');
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(SyntaxError);
      const e = toGatewayError(thrown, LIMIT);
      expect(e.status).toBe(400);
      expect(e.message).toBe(PARSE_MESSAGE);
      expect(e.type).toBe('invalid_request_error');
    });
  });

  describe('an abort', () => {
    it('turns an Error named AbortError into a 499', () => {
      const err = Object.assign(new Error('This operation was aborted'), { name: 'AbortError' });
      const e = toGatewayError(err, LIMIT);
      expect(e.status).toBe(499);
      expect(e.toBody()).toEqual({
        error: {
          message: 'The caller closed the request.',
          type: 'invalid_request_error',
          param: null,
          code: null,
        },
      });
    });

    it("turns undici's UND_ERR_ABORTED into a 499", () => {
      const err = Object.assign(new Error('Request aborted'), { code: 'UND_ERR_ABORTED' });
      expect(toGatewayError(err, LIMIT).status).toBe(499);
    });
  });

  describe('anything else', () => {
    it.each([
      ['a plain Error', new Error('connect ECONNREFUSED 10.0.0.1:6379 password=hunter2')],
      ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'hunter2')")],
      ['an error with statusCode 500', Object.assign(new Error('hunter2'), { statusCode: 500 })],
      ['an error with another status', Object.assign(new Error('hunter2'), { statusCode: 404 })],
      ['an error with an unknown code', Object.assign(new Error('hunter2'), { code: 'ECONNRESET' })],
      ['a thrown string', 'hunter2'],
      ['a thrown number', 42],
      ['a thrown object', { message: 'hunter2' }],
    ])('turns %s into a 500 server_error', (_what, err) => {
      const e = toGatewayError(err, LIMIT);
      expect(e).toBeInstanceOf(GatewayError);
      expect(e.status).toBe(500);
      expect(e.headers).toEqual({});
      expect(e.toBody()).toEqual(INTERNAL);
    });

    it("never leaks the original error's text into the message", () => {
      const e = toGatewayError(new Error('upstream key sk-proj-abc123 rejected'), LIMIT);
      expect(JSON.stringify(e.toBody())).not.toContain('sk-proj-abc123');
      expect(e.message).not.toContain('rejected');
    });
  });
});

describe('toGatewayError behind a real Fastify app', () => {
  let app: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    app = Fastify({ bodyLimit: LIMIT });
    app.setErrorHandler((err, _request, reply) => {
      const e = toGatewayError(err, LIMIT);
      void reply.code(e.status).headers(e.headers).send(e.toBody());
    });
    app.post('/echo', async (request) => ({ got: request.body }));
    app.post('/fail', async () => {
      throw new Error('redis password hunter2');
    });
    app.post('/deny', async () => {
      throw invalidApiKey();
    });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });

  afterAll(async () => {
    await app.close();
  });

  async function post(path: string, payload: string, contentType: string) {
    const res = await fetch(base + path, {
      method: 'POST',
      body: payload,
      headers: { 'content-type': contentType },
    });
    const text = await res.text();
    return { status: res.status, text, body: JSON.parse(text) as OpenAIErrorBody };
  }

  it('answers a body over the limit with 413 naming the limit', async () => {
    const { status, body } = await post(
      '/echo',
      JSON.stringify({ text: 'x'.repeat(200) }),
      'application/json',
    );
    expect(status).toBe(413);
    expect(body.error).toEqual({
      message: 'Request body exceeds the limit of 64 bytes.',
      type: 'invalid_request_error',
      param: null,
      code: 'request_too_large',
    });
  });

  it('answers a content type without a parser with 415', async () => {
    const { status, body } = await post('/echo', '<a/>', 'application/xml');
    expect(status).toBe(415);
    expect(body.error.message).toBe("Send the body as JSON with 'Content-Type: application/json'.");
  });

  it('answers an empty JSON body with 400', async () => {
    const { status, body } = await post('/echo', '', 'application/json');
    expect(status).toBe(400);
    expect(body.error.message).toBe('The request body is empty; send a JSON object.');
  });

  it('answers malformed JSON with the 400 parse message', async () => {
    const { status, body } = await post('/echo', '{"model":', 'application/json');
    expect(status).toBe(400);
    expect(body.error).toEqual({
      message: PARSE_MESSAGE,
      type: 'invalid_request_error',
      param: null,
      code: null,
    });
  });

  it("answers a handler's GatewayError with its own status and body", async () => {
    const { status, body } = await post('/deny', '{}', 'application/json');
    expect(status).toBe(401);
    expect(body).toEqual(invalidApiKey().toBody());
  });

  it("answers a handler's unexpected error with 500 and none of its text", async () => {
    const { status, text, body } = await post('/fail', '{}', 'application/json');
    expect(status).toBe(500);
    expect(body).toEqual(INTERNAL);
    expect(text).not.toContain('hunter2');
  });
});
