import { parseGatewayConfig } from '../../../runtime/gateway-config';
import { createRequestPolicy } from '../../../service/endpoints';
import { embeddings } from '../../../service/endpoints/embeddings';
import { safetyIdentifier } from '../../../service/endpoints/fields';
import { GatewayError } from '../../../service/errors';
import { refusalOf } from '../../support/refusal';
import { testConfigDocument } from '../../support/gateway-harness';

const policy = createRequestPolicy(parseGatewayConfig(testConfigDocument()));
const APP = { id: 'app' };
const LIMITED = { id: 'limited' };

const body = (input: unknown, extra: Record<string, unknown> = {}) => ({
  model: 'text-embedding-3-small',
  input,
  ...extra,
});
const prepare = (raw: unknown, client: { id: string } = APP) =>
  embeddings.prepare({ policy, client, body: raw });

const refusal = (raw: unknown, client: { id: string } = APP): GatewayError =>
  refusalOf(() => prepare(raw, client));

/** The documented estimate of one string: 3 bytes a token, rounded up, at least 1. */
const stringTokens = (bytes: number) => Math.max(1, Math.ceil(bytes / 3));

describe('embeddings prepare', () => {
  describe('prompt estimate', () => {
    it.each<[string, string, number]>([
      ['three bytes', 'abc', 3],
      ['four bytes', 'abcd', 4],
      ['a short word', 'hello', 5],
      ['two-byte characters', 'é', 2],
      ['three-byte characters', '日本語', 9],
    ])('counts a string of %s at 3 bytes a token', (_what, input, bytes) => {
      expect(Buffer.byteLength(input)).toBe(bytes);
      expect(prepare(body(input)).promptTokens).toBe(stringTokens(bytes));
    });

    it('gives the literal values of the rule', () => {
      expect(prepare(body('abc')).promptTokens).toBe(1);
      expect(prepare(body('abcd')).promptTokens).toBe(2);
      expect(prepare(body('hello')).promptTokens).toBe(2);
      expect(prepare(body('日本語')).promptTokens).toBe(3);
    });

    it('adds up the strings of an array, each rounded up on its own', () => {
      // 'abcd' is 2 tokens, 'a' is 1, 'abcdefg' is 3.
      expect(prepare(body(['abcd', 'a', 'abcdefg'])).promptTokens).toBe(
        stringTokens(4) + stringTokens(1) + stringTokens(7),
      );
      expect(prepare(body(['abcd', 'a', 'abcdefg'])).promptTokens).toBe(6);
    });

    it('counts at least one token for every string of an array, even an empty one', () => {
      expect(prepare(body(['a', ''])).promptTokens).toBe(2);
    });

    it('counts an array of token ids as one token each', () => {
      expect(prepare(body([101, 2023, 2003, 102])).promptTokens).toBe(4);
    });

    it('counts an array of token-id arrays by their lengths', () => {
      expect(prepare(body([[1, 2, 3], [4, 5], [6]])).promptTokens).toBe(6);
    });

    it('adds up a mix of strings, token ids and token-id arrays', () => {
      // 'abcd' is 2 tokens, 7 is 1, [1, 2] is 2.
      expect(prepare(body(['abcd', 7, [1, 2]])).promptTokens).toBe(5);
    });
  });

  describe('the prepared call', () => {
    it('resolves an alias to the real model', () => {
      const prepared = prepare(body('hello', { model: 'embed' }));
      expect(prepared.requestedModel).toBe('embed');
      expect(prepared.model).toBe('text-embedding-3-small');
      expect(prepared.body.model).toBe('text-embedding-3-small');
      expect(prepared.spec).toBe(embeddings);
    });

    it('is deterministic, does not stream and reserves no completion tokens', () => {
      const prepared = prepare(body('hello'));
      expect(prepared.deterministic).toBe(true);
      expect(prepared.stream).toBe(false);
      expect(prepared.callerWantsUsage).toBe(false);
      expect(prepared.completionTokens).toBe(0);
    });

    it('passes the other fields through unchanged', () => {
      const prepared = prepare(body(['a', 'b'], { dimensions: 256, encoding_format: 'base64' }));
      expect(prepared.body.input).toEqual(['a', 'b']);
      expect(prepared.body.dimensions).toBe(256);
      expect(prepared.body.encoding_format).toBe('base64');
    });

    it('replaces user by the per-client safety identifier', () => {
      const prepared = prepare(body('hello', { user: 'u-1' }));
      expect(prepared.body.user).toBe(safetyIdentifier('app', 'u-1'));
      expect(prepared.body.user).toBe('app:x0jIrDfZL-QE785dOxwjQQ');
      expect(JSON.stringify(prepared.body)).not.toContain('u-1');
    });

    it('never forwards a raw safety_identifier: it becomes the hashed user', () => {
      const prepared = prepare(body('hello', { safety_identifier: 'end-user-7' }));
      expect(prepared.body.safety_identifier).toBeUndefined();
      expect(prepared.body.user).toBe(safetyIdentifier('app', 'end-user-7'));
      expect(JSON.stringify(prepared.body)).not.toContain('end-user-7');
    });

    it('hashes the same end user differently for another client', () => {
      const other = prepare(body('hello', { user: 'u-1' }), { id: 'other' }).body.user;
      expect(other).toBe(safetyIdentifier('other', 'u-1'));
      expect(other).not.toBe(prepare(body('hello', { user: 'u-1' })).body.user);
    });

    it('sets user to the client id when the caller names no end user', () => {
      expect(prepare(body('hello')).body.user).toBe('app');
    });

    it('does not mutate the body it is given', () => {
      const raw = body(['a', [1, 2]], { model: 'embed', user: 'u-1' });
      const before = structuredClone(raw);
      prepare(raw);
      expect(raw).toEqual(before);
    });
  });

  describe('refuses an invalid body', () => {
    const badInput = "'input' must be a non-empty string or array.";

    it.each<[string, unknown]>([
      ['an empty string', ''],
      ['an empty array', []],
      ['an object', { text: 'hello' }],
      ['an array holding an object', ['hello', { text: 'x' }]],
      ['an array holding null', [null]],
      ['an array holding a boolean', [true]],
      ['a number', 42],
      ['a boolean', true],
      ['null', null],
    ])('input that is %s', (_what, input) => {
      const err = refusal(body(input));
      expect({ status: err.status, message: err.message, param: err.param, code: err.code }).toEqual({
        status: 400,
        message: badInput,
        param: 'input',
        code: null,
      });
    });

    it('a body without input', () => {
      const err = refusal({ model: 'embed' });
      expect([err.status, err.message, err.param]).toEqual([400, badInput, 'input']);
    });

    it.each<[string, unknown, { id: string }, number, string, string | null, string | null]>([
      [
        'a body that is not an object',
        ['hello'],
        APP,
        400,
        'The request body must be a JSON object.',
        null,
        null,
      ],
      ['no model', { input: 'hello' }, APP, 400, "'model' must be a non-empty string.", 'model', null],
      [
        'an unknown model',
        body('hello', { model: 'text-embedding-9' }),
        APP,
        404,
        'The model `text-embedding-9` does not exist or you do not have access to it.',
        'model',
        'model_not_found',
      ],
      [
        'a model outside the client list',
        body('hello', { model: 'embed' }),
        LIMITED,
        403,
        'Your application is not allowed to use the model `embed`.',
        'model',
        'model_not_allowed',
      ],
    ])('%s', (_what, raw, client, status, message, param, code) => {
      const err = refusal(raw, client);
      expect({ status: err.status, message: err.message, param: err.param, code: err.code }).toEqual({
        status,
        message,
        param,
        code,
      });
    });

    it('checks the model before the input', () => {
      expect(refusal({ input: '' }).param).toBe('model');
    });
  });
});

describe('the embeddings spec', () => {
  it('neither streams nor is moderated', () => {
    expect(embeddings.streamReader).toBeUndefined();
    expect(embeddings.moderationInput).toBeUndefined();
  });

  it('serves /v1/embeddings from /embeddings upstream', () => {
    expect(embeddings.route).toBe('/v1/embeddings');
    expect(embeddings.upstreamPath).toBe('/embeddings');
  });
});
