import {
  CONTEXT_WINDOW_TOKENS,
  DEFAULT_FILE_TOKENS,
  DEFAULT_IMAGE_TOKENS,
  PRIORITY_PRICE_FACTOR,
  parseGatewayConfig,
} from '../../../runtime/gateway-config';
import { createRequestPolicy } from '../../../service/endpoints';
import { safetyIdentifier } from '../../../service/endpoints/fields';
import { idOfJson, responsesUsageOfJson } from '../../../service/endpoints/json-usage';
import { responses } from '../../../service/endpoints/responses';
import { ResponsesStreamReader } from '../../../service/endpoints/responses-stream';
import type { Caller, RequestPolicy } from '../../../service/endpoints/spec';
import { GatewayError } from '../../../service/errors';
import { testConfigDocument } from '../../support/gateway-harness';
import { refusalOf } from '../../support/refusal';

const policy = createRequestPolicy(parseGatewayConfig(testConfigDocument()));
const strictPolicy = createRequestPolicy(
  parseGatewayConfig(testConfigDocument({ limits: { strictParameters: true } })),
);
const APP: Caller = { id: 'app' };
const LIMITED: Caller = { id: 'limited' };

const body = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  model: 'gpt-4o-mini',
  input: 'Say hello',
  ...extra,
});
const prepare = (raw: unknown, client: Caller = APP, on: RequestPolicy = policy) =>
  responses.prepare({ policy: on, client, body: raw });
const refusal = (raw: unknown, client: Caller = APP, on: RequestPolicy = policy): GatewayError =>
  refusalOf(() => prepare(raw, client, on));
const fields = (e: GatewayError) => ({ status: e.status, param: e.param, code: e.code });

const bytes = (s: string) => Buffer.byteLength(s);
const json = (v: unknown) => Buffer.byteLength(JSON.stringify(v));

/** Tokens of one piece of text or JSON: 3 bytes a token, rounded up piece by piece. */
const t = (pieceBytes: number) => Math.ceil(pieceBytes / 3);
/**
 * The documented estimate of one input item, in tokens: 4 of framing, each piece of its `content` and
 * `output` (a string by its UTF-8 bytes, a part by its text), and the rest of the item as JSON. A bare
 * string (instructions, a string input) is an item `{content}`, whose rest is `{}` (2 bytes).
 */
const item = (contentBytes: number | readonly number[], rest: Record<string, unknown> = {}) =>
  4 + [contentBytes].flat().reduce((sum, b) => sum + t(b), 0) + t(json(rest));
/** Text tokens, plus images, files and the 3 reply-priming tokens. */
const tokens = (textTokens: number, images = 0, files = 0) =>
  textTokens + images * DEFAULT_IMAGE_TOKENS + files * DEFAULT_FILE_TOKENS + 3;

describe('responses spec', () => {
  it('declares its route, upstream path and readers', () => {
    expect(responses.name).toBe('responses');
    expect(responses.route).toBe('/v1/responses');
    expect(responses.upstreamPath).toBe('/responses');
    expect(responses.usageOfJson).toBe(responsesUsageOfJson);
    expect(responses.createdIdOfJson).toBe(idOfJson);
    expect(responses.streamReader!(prepare(body()))).toBeInstanceOf(ResponsesStreamReader);
  });
});

describe('responses prepare', () => {
  describe('a valid body', () => {
    it('sends the exact upstream body: model resolved, default cap, safety identifier', () => {
      const prepared = prepare(body({ model: 'fast', instructions: 'Be brief.' }));
      expect(prepared.body).toEqual({
        model: 'gpt-4o-mini',
        input: 'Say hello',
        instructions: 'Be brief.',
        safety_identifier: 'app',
        prompt_cache_key: 'client:app',
        max_output_tokens: 100,
      });
      expect(prepared.spec).toBe(responses);
      expect(prepared.requestedModel).toBe('fast');
      expect(prepared.model).toBe('gpt-4o-mini');
      expect(prepared.stream).toBe(false);
      expect(prepared.callerWantsUsage).toBe(true);
      expect(prepared.completionTokens).toBe(100);
      expect(prepared.deterministic).toBe(false);
      expect(prepared.objects).toEqual({ names: [], creates: 'response' });
      expect(prepared).not.toHaveProperty('audio');
      expect(prepared).not.toHaveProperty('priceFactor');
    });

    it('does not mutate its input', () => {
      const raw = body({
        user: 'end-user-1',
        tools: [{ type: 'function', name: 'f', parameters: { type: 'object' } }],
        reasoning: { effort: 'low' },
        input: [{ role: 'user', content: [{ type: 'input_text', text: 'hi' }] }],
      });
      const before = structuredClone(raw);
      const prepared = prepare(raw);
      expect(raw).toEqual(before);
      expect(prepared.body).not.toBe(raw);
      expect(raw).not.toHaveProperty('max_output_tokens');
      expect(raw).not.toHaveProperty('safety_identifier');
      expect(raw.user).toBe('end-user-1');
    });

    it('passes fields it does not check through to upstream unchanged (without strict parameters)', () => {
      const extra = {
        metadata: { k: 'v' },
        include: ['reasoning.encrypted_content'],
        truncation: 'auto',
        parallel_tool_calls: false,
        not_an_openai_field: 7,
      };
      expect(prepare(body(extra)).body).toMatchObject(extra);
    });

    it('refuses a body that is not a JSON object', () => {
      for (const raw of [null, 'x', [body()], 3]) {
        expect(fields(refusal(raw))).toEqual({ status: 400, param: null, code: null });
      }
    });
  });

  describe('model', () => {
    it('keeps a real model name, and lets a client with a list call the alias it lists', () => {
      expect(prepare(body({ model: 'gpt-4o' })).model).toBe('gpt-4o');
      const limited = prepare(body({ model: 'fast' }), LIMITED);
      expect(limited.model).toBe('gpt-4o-mini');
      expect(limited.body.model).toBe('gpt-4o-mini');
    });

    it('answers 404 for an unknown model, 403 for one the client may not use, 400 for no model', () => {
      expect(fields(refusal(body({ model: 'gpt-9' })))).toEqual({
        status: 404,
        param: 'model',
        code: 'model_not_found',
      });
      expect(fields(refusal(body({ model: 'gpt-4o' }), LIMITED))).toEqual({
        status: 403,
        param: 'model',
        code: 'model_not_allowed',
      });
      expect(fields(refusal({ input: 'x' }))).toEqual({ status: 400, param: 'model', code: null });
      expect(fields(refusal(body({ model: '' })))).toEqual({ status: 400, param: 'model', code: null });
    });
  });

  describe('what the gateway cannot meter', () => {
    it("refuses a stored 'prompt' (even with an unknown model), but not a null one", () => {
      expect(fields(refusal(body({ prompt: { id: 'pmpt_1' } })))).toEqual({
        status: 400,
        param: 'prompt',
        code: 'unsupported_parameter',
      });
      expect(fields(refusal(body({ model: 'gpt-9', prompt: { id: 'pmpt_1' } })))).toEqual({
        status: 400,
        param: 'prompt',
        code: 'unsupported_parameter',
      });
      expect(prepare(body({ prompt: null })).body.prompt).toBeNull();
    });

    it("refuses 'background: true' unless the stage allows it, never 'background: false'", () => {
      expect(fields(refusal(body({ background: true })))).toEqual({
        status: 400,
        param: 'background',
        code: 'unsupported_parameter',
      });
      expect(prepare(body({ background: false })).body.background).toBe(false);
      expect(prepare(body({ background: false })).background).toBeUndefined();
    });

    it('marks a background call where the stage allows it, stored only, and never cacheable', () => {
      const on = createRequestPolicy(
        parseGatewayConfig(testConfigDocument({ limits: { backgroundResponses: true } })),
      );
      const prepared = prepare(body({ background: true, temperature: 0 }), APP, on);
      expect(prepared).toMatchObject({
        background: true,
        deterministic: false,
        objects: { creates: 'response' },
      });
      expect(prepared.body.background).toBe(true);
      expect(fields(refusal(body({ background: true, store: false }), APP, on))).toEqual({
        status: 400,
        param: 'store',
        code: null,
      });
      expect(fields(refusal(body({ background: 'yes' }), APP, on)).param).toBe('background');
    });

    it.each([
      'web_search',
      'web_search_preview',
      'file_search',
      'code_interpreter',
      'image_generation',
      'mcp',
    ])('refuses the hosted tool %s, naming its index', (type) => {
      const tools = [{ type: 'function', name: 'f' }, { type }];
      const err = refusal(body({ tools }));
      expect(fields(err)).toEqual({ status: 400, param: 'tools[1].type', code: 'unsupported_value' });
      expect(err.message).toContain(JSON.stringify(type));
    });

    it('refuses a tool without a type, and tools that are not an array', () => {
      expect(fields(refusal(body({ tools: [{ name: 'f' }] })))).toEqual({
        status: 400,
        param: 'tools[0].type',
        code: 'unsupported_value',
      });
      expect(fields(refusal(body({ tools: ['function'] })))).toEqual({
        status: 400,
        param: 'tools[0].type',
        code: 'unsupported_value',
      });
      expect(fields(refusal(body({ tools: { type: 'function' } })))).toEqual({
        status: 400,
        param: 'tools',
        code: null,
      });
    });

    it.each([
      'function',
      'custom',
      'computer_use_preview',
      'computer',
      'local_shell',
      'shell',
      'apply_patch',
    ])('accepts the tool type %s', (type) => {
      expect(prepare(body({ tools: [{ type }] })).body.tools).toEqual([{ type }]);
    });
  });

  describe('prompt estimate', () => {
    it('gives the literal values of the rule for a string input, with and without instructions', () => {
      // (12 + 9 + 2) = 23 bytes = 8 tokens, + 3 priming.
      expect(prepare(body()).promptTokens).toBe(11);
      // Two such items: 46 bytes = 16 tokens, + 3.
      expect(prepare(body({ instructions: 'Be brief.' })).promptTokens).toBe(19);
      // No input at all: the priming only.
      expect(prepare({ model: 'gpt-4o-mini' }).promptTokens).toBe(3);
      expect(prepare(body({ input: null, instructions: null })).promptTokens).toBe(3);
    });

    it('counts a string input as one item, and an item array item by item', () => {
      expect(prepare(body({ input: 'héllo wörld' })).promptTokens).toBe(tokens(item(bytes('héllo wörld'))));
      const items = [
        { role: 'developer', content: 'Be brief.' },
        { role: 'user', content: 'Say hello' },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Hi!' }] },
      ];
      expect(prepare(body({ input: items })).promptTokens).toBe(
        tokens(
          item(9, { role: 'developer' }) +
            item(9, { role: 'user' }) +
            item(3, { type: 'message', role: 'assistant' }),
        ),
      );
      // [{role:'user', content:'Say hello'}]: 4 framing + 3 (9 bytes) + 5 (`{"role":"user"}`, 15 bytes), + 3.
      expect(prepare(body({ input: [{ role: 'user', content: 'Say hello' }] })).promptTokens).toBe(15);
    });

    it('counts input_text parts by their text', () => {
      const content = [
        { type: 'input_text', text: 'Describe' },
        { type: 'input_text', text: 'briefly' },
      ];
      expect(prepare(body({ input: [{ role: 'user', content }] })).promptTokens).toBe(
        tokens(item([8, 7], { role: 'user' })),
      );
    });

    it('counts function_call items as JSON and function_call_output items by their output', () => {
      const call = {
        type: 'function_call',
        call_id: 'call_1',
        name: 'lookup',
        arguments: JSON.stringify({ q: 'z'.repeat(600) }),
      };
      const output = { type: 'function_call_output', call_id: 'call_1', output: 'w'.repeat(900) };
      const prepared = prepare(body({ input: [{ role: 'user', content: 'go' }, call, output] }));
      expect(prepared.promptTokens).toBe(
        tokens(
          item(2, { role: 'user' }) +
            item(0, call) +
            item(900, { type: 'function_call_output', call_id: 'call_1' }),
        ),
      );
      expect(prepared.promptTokens).toBeGreaterThan(500);
    });

    it('counts an item_reference at limits.maxTokens, whatever it names', () => {
      const prepared = prepare(body({ input: [{ type: 'item_reference', id: 'msg_abc' }] }));
      // 4 framing tokens + 1,000, + 3.
      expect(prepared.promptTokens).toBe(1_007);
      expect(prepared.promptTokens).toBe(tokens(4 + 1000));
    });

    it('counts a non-object item as its JSON', () => {
      expect(prepare(body({ input: ['hi', 5] })).promptTokens).toBe(
        tokens(4 + t(json('hi')) + 4 + t(json(5))),
      );
    });

    it('counts each image at the default image tokens, whatever its bytes', () => {
      const content = [
        { type: 'input_text', text: 'Describe' },
        { type: 'input_image', image_url: 'https://x.test/a.png' },
        { type: 'input_image', image_url: 'data:image/png;base64,' + 'A'.repeat(5000), detail: 'low' },
      ];
      const prepared = prepare(body({ input: [{ role: 'user', content }] }));
      expect(prepared.promptTokens).toBe(tokens(item(8, { role: 'user' }), 2));
      expect(DEFAULT_IMAGE_TOKENS).toBe(48_169);
    });

    it('counts each image at the imageTokens of the model when the config gives one', () => {
      const withImages = createRequestPolicy(
        parseGatewayConfig(
          testConfigDocument({
            models: { 'gpt-4o': { inputUsdPer1M: 2.5, outputUsdPer1M: 10, imageTokens: 1_445 } },
          }),
        ),
      );
      const content = [{ type: 'input_image', image_url: 'https://x.test/a.png' }];
      const prepared = prepare(
        body({ model: 'gpt-4o', input: [{ role: 'user', content }] }),
        APP,
        withImages,
      );
      expect(prepared.promptTokens).toBe(item(0, { role: 'user' }) + 1_445 + 3);
    });

    it('counts each file at the default file tokens (a whole context window)', () => {
      const content = [
        { type: 'input_text', text: 'Summarise' },
        {
          type: 'input_file',
          file_data: 'data:application/pdf;base64,' + 'J'.repeat(900),
          filename: 'a.pdf',
        },
        { type: 'input_file', file_id: 'file-abc' },
      ];
      const prepared = prepare(body({ input: [{ role: 'user', content }] }));
      expect(prepared.promptTokens).toBe(tokens(item(9, { role: 'user' }), 0, 2));
      expect(DEFAULT_FILE_TOKENS).toBe(CONTEXT_WINDOW_TOKENS);
    });

    it('counts the tools, the tool choice and the text format as JSON', () => {
      const tools = [{ type: 'function', name: 'f', description: 'x'.repeat(4000), parameters: {} }];
      const toolChoice = { type: 'function', name: 'f' };
      const text = {
        format: { type: 'json_schema', name: 's', schema: { type: 'object', properties: {} } },
      };
      const prepared = prepare(body({ tools, tool_choice: toolChoice, text }));
      expect(prepared.promptTokens).toBe(
        tokens(item(9) + t(json(tools)) + t(json(toolChoice)) + t(json(text))),
      );
      expect(prepared.promptTokens).toBeGreaterThan(1_300);
    });

    describe('audio', () => {
      const clip = { type: 'input_audio', input_audio: { data: 'UklGR'.repeat(600), format: 'wav' } };
      const input = [{ role: 'user', content: [clip] }];

      it('refuses audio input on a model without audio prices', () => {
        expect(fields(refusal(body({ input })))).toEqual({
          status: 400,
          param: 'model',
          code: 'unsupported_value',
        });
      });

      it('counts audio by its JSON bytes and marks the call as audio on a model with audio prices', () => {
        const audioPolicy = createRequestPolicy(
          parseGatewayConfig(
            testConfigDocument({
              models: {
                'gpt-audio': {
                  inputUsdPer1M: 2.5,
                  outputUsdPer1M: 10,
                  audioInputUsdPer1M: 32,
                  audioOutputUsdPer1M: 64,
                },
              },
            }),
          ),
        );
        const prepared = prepare(body({ model: 'gpt-audio', input }), APP, audioPolicy);
        expect(prepared.audio).toBe(true);
        expect(prepared.promptTokens).toBe(tokens(item(json(clip), { role: 'user' })));
      });
    });
  });

  describe('invalid types name their param', () => {
    it.each<[string, Record<string, unknown>, string]>([
      ['instructions a number', { instructions: 5 }, 'instructions'],
      ['instructions an array', { instructions: ['a'] }, 'instructions'],
      ['input a number', { input: 5 }, 'input'],
      ['input an object', { input: { role: 'user', content: 'x' } }, 'input'],
      ['reasoning a string', { reasoning: 'high' }, 'reasoning'],
      ['reasoning an array', { reasoning: [] }, 'reasoning'],
      ['previous_response_id a number', { previous_response_id: 5 }, 'previous_response_id'],
      ['previous_response_id an object', { previous_response_id: { id: 'resp_1' } }, 'previous_response_id'],
      ['conversation a number', { conversation: 5 }, 'conversation'],
      ['conversation an object without id', { conversation: {} }, 'conversation'],
      ['conversation an object with a numeric id', { conversation: { id: 5 } }, 'conversation'],
      ['stream_options without stream', { stream_options: { include_obfuscation: false } }, 'stream_options'],
      ['stream_options with stream false', { stream: false, stream_options: {} }, 'stream_options'],
      ['stream_options a string', { stream: true, stream_options: 'x' }, 'stream_options'],
      ['stream a string', { stream: 'true' }, 'stream'],
      ['temperature a string', { temperature: '0' }, 'temperature'],
    ])('%s', (_what, extra, param) => {
      expect(fields(refusal(body(extra)))).toEqual({ status: 400, param, code: null });
    });
  });

  describe('strict parameters', () => {
    it('refuses a chat-only field such as messages with unknown_parameter', () => {
      const err = refusal(body({ messages: [{ role: 'user', content: 'x' }] }), APP, strictPolicy);
      expect(fields(err)).toEqual({ status: 400, param: 'messages', code: 'unknown_parameter' });
      expect(err.message).toBe("Unknown parameter: 'messages'.");
      for (const name of ['max_tokens', 'n', 'response_format', 'max_completion_tokens']) {
        expect(fields(refusal(body({ [name]: 1 }), APP, strictPolicy))).toEqual({
          status: 400,
          param: name,
          code: 'unknown_parameter',
        });
      }
    });

    it('accepts every known parameter it does not refuse', () => {
      const known = {
        conversation: 'conv_1',
        include: [],
        instructions: 'x',
        max_output_tokens: 10,
        max_tool_calls: 2,
        metadata: {},
        parallel_tool_calls: true,
        prompt_cache_key: 'k',
        prompt_cache_retention: '24h',
        reasoning: { effort: 'low' },
        safety_identifier: 's',
        service_tier: 'auto',
        store: true,
        stream: true,
        stream_options: { include_obfuscation: false },
        temperature: 1,
        text: { verbosity: 'low' },
        tool_choice: 'auto',
        tools: [],
        top_logprobs: 0,
        top_p: 1,
        truncation: 'disabled',
        user: 'u',
        background: false,
        prompt: null,
      };
      expect(() => prepare(body(known), APP, strictPolicy)).not.toThrow();
      expect(fields(refusal(body({ ...known, previous_response_id: 5 }), APP, strictPolicy)).param).toBe(
        'previous_response_id',
      );
    });

    it('forwards an unknown field when strict parameters are off', () => {
      expect(prepare(body({ messages: [] })).body.messages).toEqual([]);
    });
  });

  describe('max_output_tokens', () => {
    it('applies the default when absent or null', () => {
      for (const extra of [{}, { max_output_tokens: null }]) {
        const prepared = prepare(body(extra));
        expect(prepared.body.max_output_tokens).toBe(100);
        expect(prepared.completionTokens).toBe(100);
      }
    });

    it('keeps a cap up to the gateway limit as sent', () => {
      expect(prepare(body({ max_output_tokens: 300 }))).toMatchObject({
        completionTokens: 300,
        body: { max_output_tokens: 300 },
      });
      expect(prepare(body({ max_output_tokens: 1000 })).completionTokens).toBe(1000);
    });

    it.each([1001, 0, -1, 1.5, '10', true])('refuses %p with 400 naming the param', (cap) => {
      expect(fields(refusal(body({ max_output_tokens: cap })))).toEqual({
        status: 400,
        param: 'max_output_tokens',
        code: null,
      });
    });
  });

  describe('reasoning.effort', () => {
    it('forwards any effort to a client with no list, and an empty or null reasoning', () => {
      expect(prepare(body({ reasoning: { effort: 'high' } })).body.reasoning).toEqual({ effort: 'high' });
      expect(prepare(body({ reasoning: {} })).body.reasoning).toEqual({});
      expect(prepare(body({ reasoning: null })).body.reasoning).toBeNull();
      expect(prepare(body({ reasoning: { effort: null } })).body.reasoning).toEqual({ effort: null });
    });

    it('refuses an effort OpenAI does not have, and one the client may not use', () => {
      expect(fields(refusal(body({ reasoning: { effort: 'ultra' } })))).toEqual({
        status: 400,
        param: 'reasoning.effort',
        code: null,
      });
      const lowOnly: Caller = { id: 'app', reasoningEfforts: ['minimal', 'low'] };
      expect(prepare(body({ reasoning: { effort: 'low' } }), lowOnly).body.reasoning).toEqual({
        effort: 'low',
      });
      expect(fields(refusal(body({ reasoning: { effort: 'high' } }), lowOnly))).toEqual({
        status: 400,
        param: 'reasoning.effort',
        code: 'reasoning_effort_not_allowed',
      });
    });
  });

  describe('service_tier', () => {
    it('meters the default tiers at standard, priority at its factor for a client allowed it', () => {
      for (const tier of ['auto', 'default', 'flex']) {
        const prepared = prepare(body({ service_tier: tier }));
        expect(prepared).not.toHaveProperty('priceFactor');
        expect(prepared.body.service_tier).toBe(tier);
      }
      const priority: Caller = { id: 'app', serviceTiers: ['default', 'priority'] };
      expect(prepare(body({ service_tier: 'priority' }), priority).priceFactor).toBe(PRIORITY_PRICE_FACTOR);
    });

    it('refuses a tier the client may not use, and one OpenAI does not have', () => {
      expect(fields(refusal(body({ service_tier: 'priority' })))).toEqual({
        status: 400,
        param: 'service_tier',
        code: 'service_tier_not_allowed',
      });
      expect(
        fields(refusal(body({ service_tier: 'flex' }), { id: 'app', serviceTiers: ['default'] })),
      ).toEqual({ status: 400, param: 'service_tier', code: 'service_tier_not_allowed' });
      expect(fields(refusal(body({ service_tier: 'turbo' })))).toEqual({
        status: 400,
        param: 'service_tier',
        code: null,
      });
    });
  });

  describe('safety identifier', () => {
    it('is the client id when no end user is named', () => {
      expect(prepare(body()).body.safety_identifier).toBe('app');
      expect(prepare(body({ safety_identifier: '' })).body.safety_identifier).toBe('app');
      expect(prepare(body(), { id: 'other' }).body.safety_identifier).toBe('other');
    });

    it("hashes the caller's user, drops 'user', and prefers safety_identifier", () => {
      const fromUser = prepare(body({ user: 'end-user-1' })).body;
      expect(fromUser.safety_identifier).toBe(safetyIdentifier('app', 'end-user-1'));
      expect(fromUser.safety_identifier).toMatch(/^app:[A-Za-z0-9_-]{22}$/);
      expect(fromUser).not.toHaveProperty('user');
      const both = prepare(body({ user: 'end-user-1', safety_identifier: 'end-user-2' })).body;
      expect(both.safety_identifier).toBe(safetyIdentifier('app', 'end-user-2'));
      expect(both).not.toHaveProperty('user');
      expect(prepare(body({ safety_identifier: 'end-user-1' })).body.safety_identifier).toBe(
        fromUser.safety_identifier,
      );
      // The same end user of another client is another identifier.
      expect(prepare(body({ user: 'end-user-1' }), { id: 'other' }).body.safety_identifier).not.toBe(
        fromUser.safety_identifier,
      );
    });
  });

  describe('deterministic', () => {
    it.each<[Record<string, unknown>, boolean]>([
      [{ temperature: 0, store: false }, true],
      [{ temperature: 0, store: false, stream: true }, true],
      [{ temperature: 0 }, false],
      [{ temperature: 0, store: true }, false],
      [{ temperature: 0, store: null }, false],
      [{ store: false }, false],
      [{ temperature: 0.2, store: false }, false],
      [{ temperature: 0, store: false, previous_response_id: 'resp_1' }, false],
      [{ temperature: 0, store: false, conversation: 'conv_1' }, false],
      [{ temperature: 0, store: false, conversation: { id: 'conv_1' } }, false],
    ])('%j is deterministic: %p', (extra, expected) => {
      expect(prepare(body(extra)).deterministic).toBe(expected);
    });
  });

  describe('stored objects', () => {
    it('names the previous response, and creates a response unless store is false', () => {
      expect(prepare(body({ previous_response_id: 'resp_1' })).objects).toEqual({
        names: [{ kind: 'response', id: 'resp_1', param: 'previous_response_id', carriesContext: true }],
        creates: 'response',
      });
      expect(prepare(body({ previous_response_id: 'resp_1', store: false })).objects).toEqual({
        names: [{ kind: 'response', id: 'resp_1', param: 'previous_response_id', carriesContext: true }],
      });
      expect(prepare(body({ store: false })).objects).toEqual({ names: [] });
      expect(prepare(body({ previous_response_id: null })).objects).toEqual({
        names: [],
        creates: 'response',
      });
    });

    it('names a conversation given as an id or as {id}, and both when both are given', () => {
      const conversation = {
        kind: 'conversation',
        id: 'conv_1',
        param: 'conversation',
        carriesContext: true,
      };
      expect(prepare(body({ conversation: 'conv_1' })).objects!.names).toEqual([conversation]);
      const asObject = prepare(body({ conversation: { id: 'conv_1' } }));
      expect(asObject.objects!.names).toEqual([conversation]);
      expect(asObject.body.conversation).toEqual({ id: 'conv_1' });
      expect(
        prepare(body({ previous_response_id: 'resp_1', conversation: 'conv_1' })).objects!.names.map(
          (n) => n.kind,
        ),
      ).toEqual(['response', 'conversation']);
    });

    it('leaves the context of the named objects to the pipeline: the estimate is the body alone', () => {
      expect(prepare(body({ previous_response_id: 'resp_1' })).promptTokens).toBe(
        prepare(body()).promptTokens,
      );
    });
  });

  describe('streaming', () => {
    it('streams when stream is true, and forwards stream_options as given', () => {
      const prepared = prepare(body({ stream: true, stream_options: { include_obfuscation: false } }));
      expect(prepared.stream).toBe(true);
      expect(prepared.callerWantsUsage).toBe(true);
      expect(prepared.body.stream).toBe(true);
      expect(prepared.body.stream_options).toEqual({ include_obfuscation: false });
      expect(prepare(body({ stream: false })).stream).toBe(false);
      expect(prepare(body({ stream: true, stream_options: null })).stream).toBe(true);
    });
  });

  describe('moderationInput', () => {
    const moderate = (raw: Record<string, unknown>) => responses.moderationInput!(raw);

    it('reads the instructions and a string input', () => {
      expect(moderate(body({ instructions: 'Be brief.' }))).toBe('Be brief.\nSay hello');
      expect(moderate({ model: 'm' })).toBe('');
    });

    it('reads message content, text parts, function arguments and tool outputs, then tool definitions and the text format', () => {
      const tools = [{ type: 'function', name: 'f' }];
      const text = { format: { type: 'text' } };
      const input = [
        { role: 'user', content: 'first' },
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'second' },
            { type: 'input_image', image_url: 'https://x.test/a.png' },
            { type: 'input_text', text: 'third' },
          ],
        },
        { type: 'function_call', call_id: 'c', name: 'f', arguments: '{"q":"fourth"}' },
        { type: 'function_call_output', call_id: 'c', output: 'fifth' },
        { type: 'function_call_output', call_id: 'd', output: [{ type: 'input_text', text: 'sixth' }] },
        { type: 'item_reference', id: 'msg_1' },
        'not an object',
      ];
      expect(moderate(body({ instructions: 'zeroth', input, tools, tool_choice: 'auto', text }))).toBe(
        [
          'zeroth',
          'first',
          'second',
          'third',
          '{"q":"fourth"}',
          'fifth',
          'sixth',
          JSON.stringify(tools),
          '"auto"',
          JSON.stringify(text),
        ].join('\n'),
      );
    });
  });
});
