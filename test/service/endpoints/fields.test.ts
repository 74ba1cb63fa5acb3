import type { RequestLimits } from '../../../runtime/gateway-config';
import {
  BYTES_PER_TOKEN,
  MESSAGE_OVERHEAD_TOKENS,
  checkNumber,
  checkStop,
  choiceCount,
  contentBytes,
  isObject,
  objectBody,
  outputTokenCap,
  safetyIdentifier,
  streamFlag,
  textTokens,
} from '../../../service/endpoints/fields';
import { GatewayError } from '../../../service/errors';
import { refusalOf } from '../../support/refusal';

const limits: RequestLimits = {
  maxTokens: 1000,
  defaultMaxTokens: 100,
  maxN: 2,
  maxStopSequences: 2,
  maxBodyBytes: 4096,
};
const CAPS = ['max_completion_tokens', 'max_tokens'];

const refusal = refusalOf;

const shape = (err: GatewayError) => ({
  status: err.status,
  message: err.message,
  param: err.param,
  code: err.code,
  type: err.type,
});
const bad = (message: string, param: string | null) => ({
  status: 400,
  message,
  param,
  code: null,
  type: 'invalid_request_error',
});

describe('estimate constants', () => {
  it('counts 4 framing tokens a message and 3 bytes a token', () => {
    expect(MESSAGE_OVERHEAD_TOKENS).toBe(4);
    expect(BYTES_PER_TOKEN).toBe(3);
  });
});

describe('isObject', () => {
  it.each<[unknown, boolean]>([
    [{}, true],
    [{ a: 1 }, true],
    [[], false],
    [null, false],
    [undefined, false],
    ['x', false],
    [1, false],
  ])('%j is an object: %s', (v, expected) => {
    expect(isObject(v)).toBe(expected);
  });
});

describe('objectBody', () => {
  it('returns the very object it is given', () => {
    const raw = { model: 'x' };
    expect(objectBody(raw)).toBe(raw);
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['undefined', undefined],
    ['an array', []],
    ['a string', '{}'],
    ['a number', 1],
    ['a boolean', true],
  ])('refuses %s', (_what, raw) => {
    expect(shape(refusal(() => objectBody(raw)))).toEqual(
      bad('The request body must be a JSON object.', null),
    );
  });
});

describe('streamFlag', () => {
  it.each<[Record<string, unknown>, boolean]>([
    [{}, false],
    [{ stream: false }, false],
    [{ stream: true }, true],
  ])('reads %j as %s', (body, expected) => {
    expect(streamFlag(body)).toBe(expected);
  });

  it.each<[string, unknown]>([
    ['a string', 'true'],
    ['a number', 1],
    ['an object', {}],
  ])('refuses a stream flag that is %s', (_what, stream) => {
    expect(shape(refusal(() => streamFlag({ stream })))).toEqual(
      bad("'stream' must be a boolean.", 'stream'),
    );
  });
});

describe('outputTokenCap', () => {
  it('gives the default and says so when no cap is sent', () => {
    expect(outputTokenCap({}, CAPS, limits)).toEqual({ tokens: 100, defaulted: true });
  });

  it('treats null caps as absent', () => {
    expect(outputTokenCap({ max_tokens: null, max_completion_tokens: null }, CAPS, limits)).toEqual({
      tokens: 100,
      defaulted: true,
    });
  });

  it.each<[Record<string, unknown>, number]>([
    [{ max_tokens: 1 }, 1],
    [{ max_completion_tokens: 250 }, 250],
    [{ max_tokens: 1000 }, 1000],
    [{ max_tokens: 300, max_completion_tokens: 200 }, 300],
    [{ max_tokens: 200, max_completion_tokens: 300 }, 300],
    [{ max_tokens: null, max_completion_tokens: 40 }, 40],
  ])('gives the largest cap sent (%j)', (body, tokens) => {
    expect(outputTokenCap(body, CAPS, limits)).toEqual({ tokens, defaulted: false });
  });

  it('reads only the params it is given', () => {
    expect(outputTokenCap({ max_tokens: 5000 }, ['max_output_tokens'], limits)).toEqual({
      tokens: 100,
      defaulted: true,
    });
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    [
      'over the limit',
      { max_tokens: 1001 },
      "'max_tokens' is 1001; this gateway allows at most 1000.",
      'max_tokens',
    ],
    [
      'far over the limit',
      { max_completion_tokens: 5000 },
      "'max_completion_tokens' is 5000; this gateway allows at most 1000.",
      'max_completion_tokens',
    ],
    ['zero', { max_tokens: 0 }, "'max_tokens' must be a positive integer.", 'max_tokens'],
    ['negative', { max_tokens: -1 }, "'max_tokens' must be a positive integer.", 'max_tokens'],
    ['a fraction', { max_tokens: 2.5 }, "'max_tokens' must be a positive integer.", 'max_tokens'],
    ['a numeric string', { max_tokens: '5' }, "'max_tokens' must be a positive integer.", 'max_tokens'],
    ['a boolean', { max_tokens: true }, "'max_tokens' must be a positive integer.", 'max_tokens'],
    ['infinite', { max_tokens: Infinity }, "'max_tokens' must be a positive integer.", 'max_tokens'],
    [
      'valid but with an invalid other cap',
      { max_completion_tokens: 10, max_tokens: 0 },
      "'max_tokens' must be a positive integer.",
      'max_tokens',
    ],
    [
      'invalid in both, naming the first param',
      { max_completion_tokens: 2000, max_tokens: 0 },
      "'max_completion_tokens' is 2000; this gateway allows at most 1000.",
      'max_completion_tokens',
    ],
  ])('refuses a cap that is %s', (_what, body, message, param) => {
    expect(shape(refusal(() => outputTokenCap(body, CAPS, limits)))).toEqual(bad(message, param));
  });
});

describe('choiceCount', () => {
  it.each<[Record<string, unknown>, number]>([
    [{}, 1],
    [{ n: null }, 1],
    [{ n: 1 }, 1],
    [{ n: 2 }, 2],
  ])('reads %j as %i choices', (body, expected) => {
    expect(choiceCount(body, limits)).toBe(expected);
  });

  it.each<[unknown, string]>([
    [3, "'n' is 3; this gateway allows at most 2."],
    [128, "'n' is 128; this gateway allows at most 2."],
    [0, "'n' must be a positive integer."],
    [-1, "'n' must be a positive integer."],
    [1.5, "'n' must be a positive integer."],
    ['2', "'n' must be a positive integer."],
  ])('refuses n = %j', (n, message) => {
    expect(shape(refusal(() => choiceCount({ n }, limits)))).toEqual(bad(message, 'n'));
  });
});

describe('checkStop', () => {
  it.each<[string, unknown]>([
    ['absent', undefined],
    ['null', null],
    ['a string', 'END'],
    ['an empty string', ''],
    ['an empty array', []],
    ['one sequence', ['END']],
    ['as many sequences as allowed', ['a', 'b']],
  ])('accepts a stop that is %s', (_what, stop) => {
    expect(checkStop({ stop }, limits)).toBeUndefined();
  });

  it.each<[string, unknown, string]>([
    ['too many sequences', ['a', 'b', 'c'], "'stop' has 3 sequences; this gateway allows at most 2."],
    ['an array with a number', ['a', 1], "'stop' must be a string or an array of strings."],
    ['an array with null', [null], "'stop' must be a string or an array of strings."],
    ['a number', 5, "'stop' must be a string or an array of strings."],
    ['an object', { 0: 'a' }, "'stop' must be a string or an array of strings."],
    ['a boolean', true, "'stop' must be a string or an array of strings."],
  ])('refuses a stop that is %s', (_what, stop, message) => {
    expect(shape(refusal(() => checkStop({ stop }, limits)))).toEqual(bad(message, 'stop'));
  });

  it('counts a single string as one sequence against the limit', () => {
    const none = { ...limits, maxStopSequences: 0 };
    expect(shape(refusal(() => checkStop({ stop: 'END' }, none)))).toEqual(
      bad("'stop' has 1 sequences; this gateway allows at most 0.", 'stop'),
    );
  });
});

describe('checkNumber', () => {
  it.each<[string, unknown]>([
    ['absent', undefined],
    ['null', null],
    ['zero', 0],
    ['negative', -1.5],
    ['large', 2e6],
  ])('accepts a value that is %s', (_what, value) => {
    expect(checkNumber({ top_p: value }, 'top_p')).toBeUndefined();
  });

  it.each<[string, unknown]>([
    ['a numeric string', '1'],
    ['a boolean', false],
    ['an array', [1]],
    ['an object', {}],
  ])('refuses a value that is %s, naming the param', (_what, value) => {
    expect(shape(refusal(() => checkNumber({ top_p: value }, 'top_p')))).toEqual(
      bad("'top_p' must be a number.", 'top_p'),
    );
  });

  it('checks only the param it is given', () => {
    expect(checkNumber({ temperature: 'hot' }, 'top_p')).toBeUndefined();
  });
});

describe('safetyIdentifier', () => {
  it.each<[string, unknown]>([
    ['absent', undefined],
    ['null', null],
    ['an empty string', ''],
    ['a number', 42],
    ['an object', { id: 'u' }],
  ])('is the client id when the end user is %s', (_what, endUser) => {
    expect(safetyIdentifier('app', endUser)).toBe('app');
  });

  it('is the client id and 22 base64url characters of SHA-256(client, NUL, user)', () => {
    expect(safetyIdentifier('app', 'end-user-42')).toBe('app:t0Bb3p2b32psC4mruGkZP8');
    expect(safetyIdentifier('other', 'end-user-42')).toBe('other:ly_Msto34_UvaAm8uv9Wc5');
    expect(safetyIdentifier('app', 'end-user-43')).toBe('app:1oj8wmHKCnwrdQ847qKr_G');
    expect(safetyIdentifier('batch', 'u-1')).toBe('batch:i64R0ytK47EOPSioYUB6n9');
  });

  it('is stable for the same client and end user', () => {
    expect(safetyIdentifier('app', 'end-user-42')).toBe(safetyIdentifier('app', 'end-user-42'));
  });

  it('differs across clients and across end users', () => {
    const ids = new Set([
      safetyIdentifier('app', 'u'),
      safetyIdentifier('other', 'u'),
      safetyIdentifier('app', 'v'),
      safetyIdentifier('other', 'v'),
    ]);
    expect(ids.size).toBe(4);
  });

  it('does not contain the end-user id', () => {
    const id = safetyIdentifier('app', 'alice@example.com');
    expect(id).toMatch(/^app:[A-Za-z0-9_-]{22}$/);
    expect(id).not.toContain('alice');
  });
});

describe('textTokens', () => {
  it.each<[number, number]>([
    [0, 1],
    [1, 1],
    [2, 1],
    [3, 1],
    [4, 2],
    [6, 2],
    [7, 3],
    [300, 100],
    [301, 101],
  ])('counts %i bytes as %i tokens', (bytes, tokens) => {
    expect(textTokens(bytes)).toBe(tokens);
  });
});

describe('contentBytes', () => {
  it.each<[string, unknown, number]>([
    ['an ASCII string', 'abc', 3],
    ['an empty string', '', 0],
    ['a two-byte character', 'é', 2],
    ['an emoji', '😀', 4],
    ['null', null, 0],
    ['undefined', undefined, 0],
    ['an array of parts, as its JSON', [{ type: 'text', text: 'hi' }], 29],
    ['an object, as its JSON', { a: 1 }, 7],
    ['a number, as its JSON', 42, 2],
    ['a boolean, as its JSON', true, 4],
    ['a JSON string that needs escaping, as its JSON', ['"'], 6],
  ])('counts %s as %i bytes', (_what, content, bytes) => {
    expect(contentBytes(content)).toBe(bytes);
  });
});
