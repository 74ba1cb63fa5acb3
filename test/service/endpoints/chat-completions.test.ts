import { parseGatewayConfig } from '../../../runtime/gateway-config';
import { createRequestPolicy } from '../../../service/endpoints';
import { chatCompletions } from '../../../service/endpoints/chat-completions';
import { safetyIdentifier } from '../../../service/endpoints/fields';
import type { Caller } from '../../../service/endpoints/spec';
import { GatewayError } from '../../../service/errors';
import { refusalOf } from '../../support/refusal';
import { testConfigDocument } from '../../support/gateway-harness';

const policy = createRequestPolicy(parseGatewayConfig(testConfigDocument()));
const APP = { id: 'app' };
const OTHER = { id: 'other' };
const LIMITED = { id: 'limited' };

const messages = [{ role: 'user', content: 'Say hello' }];
const body = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  model: 'gpt-4o-mini',
  messages,
  ...extra,
});
const prepare = (raw: unknown, client: Caller = APP) =>
  chatCompletions.prepare({ policy, client, body: raw });

const refusal = (raw: unknown, client: Caller = APP): GatewayError => refusalOf(() => prepare(raw, client));

/** The documented estimate: content bytes plus 4 framing tokens of 3 bytes a message, /3 rounded up, +3. */
const estimate = (contentBytesPerMessage: readonly number[]) =>
  Math.ceil(contentBytesPerMessage.reduce((sum, bytes) => sum + bytes + 4 * 3, 0) / 3) + 3;

describe('chat completions prepare', () => {
  describe('accepts a valid body', () => {
    it('resolves an alias to the real model for the upstream body and pricing', () => {
      const prepared = prepare(body({ model: 'fast' }));
      expect(prepared.requestedModel).toBe('fast');
      expect(prepared.model).toBe('gpt-4o-mini');
      expect(prepared.body.model).toBe('gpt-4o-mini');
      expect(prepared.spec).toBe(chatCompletions);
    });

    it('lets a client with a model list call the alias it lists', () => {
      const prepared = prepare(body({ model: 'fast' }), LIMITED);
      expect(prepared.model).toBe('gpt-4o-mini');
    });

    it('keeps a real model name as it is', () => {
      const prepared = prepare(body({ model: 'gpt-4o' }));
      expect(prepared.requestedModel).toBe('gpt-4o');
      expect(prepared.model).toBe('gpt-4o');
      expect(prepared.body.model).toBe('gpt-4o');
    });

    it('passes fields it does not check through to upstream unchanged', () => {
      const tools = [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }];
      const prepared = prepare(body({ tools, response_format: { type: 'json_object' }, seed: 7 }));
      expect(prepared.body.tools).toEqual(tools);
      expect(prepared.body.response_format).toEqual({ type: 'json_object' });
      expect(prepared.body.seed).toBe(7);
      expect(prepared.body.messages).toEqual(messages);
    });
  });

  describe('output-token cap', () => {
    it('applies the default max_completion_tokens when the caller sends neither cap', () => {
      const prepared = prepare(body());
      expect(prepared.body.max_completion_tokens).toBe(100);
      expect(prepared.body).not.toHaveProperty('max_tokens');
      expect(prepared.completionTokens).toBe(100);
    });

    it('treats a null cap as absent and applies the default', () => {
      const prepared = prepare(body({ max_tokens: null }));
      expect(prepared.body.max_completion_tokens).toBe(100);
      expect(prepared.completionTokens).toBe(100);
    });

    it('does not add max_completion_tokens when the caller sent max_tokens', () => {
      const prepared = prepare(body({ max_tokens: 300 }));
      expect(prepared.body.max_tokens).toBe(300);
      expect(prepared.body).not.toHaveProperty('max_completion_tokens');
      expect(prepared.completionTokens).toBe(300);
    });

    it('keeps a caller max_completion_tokens as sent', () => {
      const prepared = prepare(body({ max_completion_tokens: 200 }));
      expect(prepared.body.max_completion_tokens).toBe(200);
      expect(prepared.body).not.toHaveProperty('max_tokens');
      expect(prepared.completionTokens).toBe(200);
    });

    it.each([
      [{ max_tokens: 300, max_completion_tokens: 200 }, 300],
      [{ max_tokens: 200, max_completion_tokens: 300 }, 300],
    ])('counts the larger of the two caps (%j)', (caps, expected) => {
      const prepared = prepare(body(caps));
      expect(prepared.completionTokens).toBe(expected);
      expect(prepared.body.max_tokens).toBe(caps.max_tokens);
      expect(prepared.body.max_completion_tokens).toBe(caps.max_completion_tokens);
    });

    it('accepts a cap equal to the gateway limit', () => {
      expect(prepare(body({ max_tokens: 1000 })).completionTokens).toBe(1000);
    });

    it.each([
      [{}, 100],
      [{ n: 1 }, 100],
      [{ n: 2 }, 200],
      [{ n: 2, max_tokens: 300 }, 600],
      [{ n: null, max_completion_tokens: 50 }, 50],
    ])('reserves the cap times n completion tokens (%j)', (extra, expected) => {
      expect(prepare(body(extra)).completionTokens).toBe(expected);
    });
  });

  describe('prompt estimate', () => {
    it.each<[string, unknown[], number[]]>([
      ['one short message', ['Say hello'], [9]],
      ['multi-byte characters counted as UTF-8 bytes', ['héllo wörld'], [13]],
      ['an empty string', [''], [0]],
      ['a null content (assistant with tool calls)', [null], [0]],
      ['two messages', ['Be brief.', 'Hi'], [9, 2]],
    ])('%s', (_what, contents, bytes) => {
      const prepared = prepare(body({ messages: contents.map((content) => ({ role: 'user', content })) }));
      expect(prepared.promptTokens).toBe(estimate(bytes));
    });

    it('gives the literal values of the rule for the simple cases', () => {
      // 9 bytes + 12 framing = 21 bytes = 7 tokens, + 3 priming.
      expect(prepare(body()).promptTokens).toBe(10);
      // 0 bytes + 12 framing = 4 tokens, + 3 priming.
      expect(prepare(body({ messages: [{ role: 'assistant', content: null }] })).promptTokens).toBe(7);
    });

    it('counts text parts by their text and each image at the most the model bills one', () => {
      const parts = [
        { type: 'text', text: 'Describe' },
        { type: 'image_url', image_url: { url: 'https://x.test/a.png' } },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,' + 'A'.repeat(5000), detail: 'low' } },
      ];
      const prepared = prepare(body({ messages: [{ role: 'user', content: parts }] }));
      // 'Describe' is 8 bytes; gpt-4o-mini has no imageTokens in this config: 2,833 + 8 x 5,667 an image.
      expect(prepared.promptTokens).toBe(estimate([8]) + 2 * 48_169);
    });

    it('counts images at the imageTokens of the model when the config gives it', () => {
      const withImages = createRequestPolicy(
        parseGatewayConfig(
          testConfigDocument({
            models: { 'gpt-4o': { inputUsdPer1M: 2.5, outputUsdPer1M: 10, imageTokens: 1_445 } },
          }),
        ),
      );
      const content = [{ type: 'image_url', image_url: { url: 'https://x.test/a.png' } }];
      const prepared = chatCompletions.prepare({
        policy: withImages,
        client: APP,
        body: body({ model: 'gpt-4o', messages: [{ role: 'user', content }] }),
      });
      expect(prepared.promptTokens).toBe(estimate([0]) + 1_445);
    });

    it('counts tool definitions, the tool choice, the response schema and predicted output', () => {
      const tools = [{ type: 'function', function: { name: 'f', description: 'x'.repeat(4000) } }];
      const responseFormat = { type: 'json_schema', json_schema: { name: 's', schema: { type: 'object' } } };
      const prediction = { type: 'content', content: 'y'.repeat(300) };
      const extras = { tools, tool_choice: 'auto', response_format: responseFormat, prediction };
      const prepared = prepare(body(extras));
      // Each field is a piece of its own, rounded up on its own.
      const extraTokens = Object.values(extras).reduce(
        (sum: number, v) => sum + Math.ceil(Buffer.byteLength(JSON.stringify(v)) / 3),
        0,
      );
      expect(extraTokens).toBeGreaterThan(1400);
      expect(prepared.promptTokens).toBe(Math.ceil(Buffer.byteLength('Say hello') / 3) + 4 + extraTokens + 3);
    });

    it('counts the tool calls of earlier turns, arguments included, and tool results', () => {
      const args = JSON.stringify({ q: 'z'.repeat(3000) });
      const toolCalls = [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: args } }];
      const messages = [
        { role: 'user', content: 'go' },
        { role: 'assistant', content: null, tool_calls: toolCalls },
        { role: 'tool', tool_call_id: 'call_1', content: 'done' },
      ];
      const prepared = prepare(body({ messages }));
      const assistantExtra = Buffer.byteLength(JSON.stringify({ tool_calls: toolCalls }));
      const toolExtra = Buffer.byteLength(JSON.stringify({ tool_call_id: 'call_1' }));
      const t = (bytes: number) => Math.ceil(bytes / 3);
      expect(prepared.promptTokens).toBe(t(2) + 4 + (4 + t(assistantExtra)) + (t(4) + 4 + t(toolExtra)) + 3);
      expect(prepared.promptTokens).toBeGreaterThan(1000);
    });

    it('counts each file at the most one file can bill on the model, whatever its bytes', () => {
      const parts = [
        { type: 'text', text: 'Summarise' },
        {
          type: 'file',
          file: { file_data: 'data:application/pdf;base64,' + 'J'.repeat(900), filename: 'a.pdf' },
        },
        { type: 'file', file: { file_id: 'file-abc' } },
      ];
      const prepared = prepare(body({ messages: [{ role: 'user', content: parts }] }));
      // No fileTokens in this config: gpt-4.1's context window a file, since no prompt bills more.
      expect(prepared.promptTokens).toBe(estimate([9]) + 2 * 1_047_576);
      const small = createRequestPolicy(
        parseGatewayConfig(
          testConfigDocument({
            models: { 'gpt-4o': { inputUsdPer1M: 2.5, outputUsdPer1M: 10, fileTokens: 20_000 } },
          }),
        ),
      );
      const onGpt4o = chatCompletions.prepare({
        policy: small,
        client: APP,
        body: body({ model: 'gpt-4o', messages: [{ role: 'user', content: parts }] }),
      });
      expect(onGpt4o.promptTokens).toBe(estimate([9]) + 2 * 20_000);
    });

    describe('audio', () => {
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
      const clip = { type: 'input_audio', input_audio: { data: 'UklGR'.repeat(600), format: 'wav' } };
      const onAudio = (extra: Record<string, unknown>) =>
        chatCompletions.prepare({
          policy: audioPolicy,
          client: APP,
          body: body({ model: 'gpt-audio', ...extra }),
        });

      it('counts audio input by its base64 bytes and marks the call as audio, priced at the audio rates', () => {
        const prepared = onAudio({ messages: [{ role: 'user', content: [clip] }] });
        expect(prepared.audio).toBe(true);
        expect(prepared.promptTokens).toBe(estimate([Buffer.byteLength(JSON.stringify(clip))]));
        expect(prepared.promptTokens).toBeGreaterThan(1000);
      });

      it('marks a call that asks for audio output as audio', () => {
        expect(
          onAudio({ modalities: ['text', 'audio'], audio: { voice: 'alloy', format: 'wav' } }).audio,
        ).toBe(true);
        expect(onAudio({}).audio).toBeUndefined();
      });

      it('refuses audio, in or out, on a model with no audio price', () => {
        for (const extra of [
          { messages: [{ role: 'user', content: [clip] }] },
          { modalities: ['text', 'audio'] },
          { audio: { voice: 'alloy', format: 'wav' } },
        ]) {
          expect(refusal(body(extra))).toMatchObject({
            status: 400,
            param: 'model',
            code: 'unsupported_value',
          });
        }
      });
    });

    it('counts every message, whatever its role', () => {
      const prepared = prepare(
        body({
          messages: [
            { role: 'system', content: 'abc' },
            { role: 'user', content: 'defgh' },
            { role: 'assistant', content: 'i' },
          ],
        }),
      );
      // (1 + 4) + (2 + 4) + (1 + 4): each content rounded up on its own, + 3 priming.
      expect(prepared.promptTokens).toBe(19);
    });
  });

  describe('reasoning effort', () => {
    it('forwards any effort to a client with no list', () => {
      expect(prepare(body({ reasoning_effort: 'high' })).body.reasoning_effort).toBe('high');
    });

    it('refuses an effort the client may not use, and an effort OpenAI does not have', () => {
      const lowOnly = { id: 'app', reasoningEfforts: ['minimal', 'low'] as const };
      expect(prepare(body({ reasoning_effort: 'low' }), lowOnly).body.reasoning_effort).toBe('low');
      expect(refusal(body({ reasoning_effort: 'high' }), lowOnly)).toMatchObject({
        status: 400,
        param: 'reasoning_effort',
        code: 'reasoning_effort_not_allowed',
      });
      expect(refusal(body({ reasoning_effort: 'ultra' }))).toMatchObject({
        status: 400,
        param: 'reasoning_effort',
      });
    });
  });

  describe('streaming', () => {
    it('does not stream, nor add stream_options, when stream is absent', () => {
      const prepared = prepare(body());
      expect(prepared.stream).toBe(false);
      expect(prepared.callerWantsUsage).toBe(false);
      expect(prepared.body).not.toHaveProperty('stream_options');
    });

    it('does not stream when stream is false', () => {
      const prepared = prepare(body({ stream: false }));
      expect(prepared.stream).toBe(false);
      expect(prepared.body).not.toHaveProperty('stream_options');
    });

    it('always asks upstream for the usage chunk, though the caller did not', () => {
      const prepared = prepare(body({ stream: true }));
      expect(prepared.stream).toBe(true);
      expect(prepared.body.stream).toBe(true);
      expect(prepared.body.stream_options).toEqual({ include_usage: true });
      expect(prepared.callerWantsUsage).toBe(false);
    });

    it('records that the caller asked for the usage chunk', () => {
      const prepared = prepare(body({ stream: true, stream_options: { include_usage: true } }));
      expect(prepared.body.stream_options).toEqual({ include_usage: true });
      expect(prepared.callerWantsUsage).toBe(true);
    });

    it('overrides include_usage false upstream and keeps the other stream options', () => {
      const prepared = prepare(
        body({ stream: true, stream_options: { include_usage: false, include_obfuscation: false } }),
      );
      expect(prepared.body.stream_options).toEqual({ include_usage: true, include_obfuscation: false });
      expect(prepared.callerWantsUsage).toBe(false);
    });

    it('treats a null stream_options as absent on a call that does not stream', () => {
      const prepared = prepare(body({ stream_options: null }));
      expect(prepared.stream).toBe(false);
      expect(prepared.callerWantsUsage).toBe(false);
    });

    it('gives a stream reader that follows what the caller asked for', () => {
      const usageOnly = 'data: {"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2}}';
      const silent = chatCompletions.streamReader!(prepare(body({ stream: true })));
      const asked = chatCompletions.streamReader!(
        prepare(body({ stream: true, stream_options: { include_usage: true } })),
      );
      expect(silent.frame(usageOnly)).toBeUndefined();
      expect(asked.frame(usageOnly)).toBe(usageOnly);
    });
  });

  describe('deterministic (cacheable by default)', () => {
    it.each<[string, Record<string, unknown>, boolean]>([
      ['temperature 0', { temperature: 0 }, true],
      ['temperature 0 with n 2', { temperature: 0, n: 2 }, true],
      ['temperature 0 when streaming', { temperature: 0, stream: true }, true],
      ['no temperature', {}, false],
      ['a null temperature', { temperature: null }, false],
      ['temperature 0.5', { temperature: 0.5 }, false],
      ['temperature 1', { temperature: 1 }, false],
    ])('%s gives %s', (_what, extra, expected) => {
      expect(prepare(body(extra)).deterministic).toBe(expected);
    });
  });

  describe('safety identifier', () => {
    it('removes user and sends a per-client hash of it as safety_identifier', () => {
      const prepared = prepare(body({ user: 'end-user-42' }));
      expect(prepared.body).not.toHaveProperty('user');
      expect(prepared.body.safety_identifier).toBe(safetyIdentifier('app', 'end-user-42'));
      expect(prepared.body.safety_identifier).toBe('app:t0Bb3p2b32psC4mruGkZP8');
    });

    it('never sends the raw end-user id upstream', () => {
      const prepared = prepare(body({ user: 'end-user-42' }));
      expect(JSON.stringify(prepared.body)).not.toContain('end-user-42');
    });

    it('hashes the same end user differently for different clients', () => {
      const app = prepare(body({ user: 'end-user-42' }), APP).body.safety_identifier;
      const other = prepare(body({ user: 'end-user-42' }), OTHER).body.safety_identifier;
      expect(other).toBe(safetyIdentifier('other', 'end-user-42'));
      expect(other).not.toBe(app);
    });

    it('sends the client id when the caller names no end user', () => {
      expect(prepare(body()).body.safety_identifier).toBe('app');
      expect(prepare(body(), OTHER).body.safety_identifier).toBe('other');
    });

    it('hashes a safety_identifier the caller sent, in preference to user', () => {
      const prepared = prepare(body({ safety_identifier: 'end-user-43', user: 'end-user-42' }));
      expect(prepared.body.safety_identifier).toBe(safetyIdentifier('app', 'end-user-43'));
      expect(prepared.body).not.toHaveProperty('user');
      expect(JSON.stringify(prepared.body)).not.toContain('end-user-4');
    });

    it('uses the identity of a caller the config does not list', () => {
      const prepared = prepare(body({ model: 'gpt-4o' }), { id: 'batch' });
      expect(prepared.body.safety_identifier).toBe('batch');
    });
  });

  it('does not mutate the body it is given', () => {
    const raw = body({
      model: 'fast',
      user: 'end-user-42',
      stream: true,
      stream_options: { include_usage: false },
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }],
    });
    const before = structuredClone(raw);
    const prepared = prepare(raw);
    expect(raw).toEqual(before);
    expect(prepared.body).not.toBe(raw);
    expect(raw.stream_options).toEqual({ include_usage: false });
  });

  it('does not mutate a body that gets the default cap', () => {
    const raw = body();
    const before = structuredClone(raw);
    prepare(raw);
    expect(raw).toEqual(before);
    expect(raw).not.toHaveProperty('max_completion_tokens');
    expect(raw).not.toHaveProperty('safety_identifier');
  });

  describe('refuses an invalid body', () => {
    type Case = [string, unknown, { id: string }, number, string, string | null, string | null];
    const notObject = 'The request body must be a JSON object.';
    const noModel = "'model' must be a non-empty string.";
    const noMessages = "'messages' must be a non-empty array of messages.";
    const notInt = (p: string) => `'${p}' must be a positive integer.`;
    const cases: Case[] = [
      ['a null body', null, APP, 400, notObject, null, null],
      ['an array body', [body()], APP, 400, notObject, null, null],
      ['a string body', 'hello', APP, 400, notObject, null, null],
      ['a number body', 42, APP, 400, notObject, null, null],
      ['no model', { messages }, APP, 400, noModel, 'model', null],
      ['an empty model', body({ model: '' }), APP, 400, noModel, 'model', null],
      ['a model that is not a string', body({ model: 4 }), APP, 400, noModel, 'model', null],
      [
        'an unknown model',
        body({ model: 'gpt-5-unknown' }),
        APP,
        404,
        'The model `gpt-5-unknown` does not exist or you do not have access to it.',
        'model',
        'model_not_found',
      ],
      [
        'a model outside the client list',
        body({ model: 'gpt-4o' }),
        LIMITED,
        403,
        'Your application is not allowed to use the model `gpt-4o`.',
        'model',
        'model_not_allowed',
      ],
      [
        'the real model behind an alias the client may use',
        body({ model: 'gpt-4o-mini' }),
        LIMITED,
        403,
        'Your application is not allowed to use the model `gpt-4o-mini`.',
        'model',
        'model_not_allowed',
      ],
      ['no messages', { model: 'gpt-4o-mini' }, APP, 400, noMessages, 'messages', null],
      ['empty messages', body({ messages: [] }), APP, 400, noMessages, 'messages', null],
      ['messages that are not an array', body({ messages: 'hi' }), APP, 400, noMessages, 'messages', null],
      [
        'a message without a role',
        body({ messages: [{ content: 'x' }] }),
        APP,
        400,
        "'messages[0]' must be an object with a string 'role'.",
        'messages[0]',
        null,
      ],
      [
        'a second message that is not an object',
        body({ messages: [{ role: 'user', content: 'a' }, 'b'] }),
        APP,
        400,
        "'messages[1]' must be an object with a string 'role'.",
        'messages[1]',
        null,
      ],
      [
        'a message whose role is not a string',
        body({ messages: [{ role: 'user', content: 'a' }, { role: 'user' }, { role: 1 }] }),
        APP,
        400,
        "'messages[2]' must be an object with a string 'role'.",
        'messages[2]',
        null,
      ],
      [
        'stream that is a string',
        body({ stream: 'yes' }),
        APP,
        400,
        "'stream' must be a boolean.",
        'stream',
        null,
      ],
      [
        'stream that is a number',
        body({ stream: 1 }),
        APP,
        400,
        "'stream' must be a boolean.",
        'stream',
        null,
      ],
      [
        'stream_options without stream',
        body({ stream_options: { include_usage: true } }),
        APP,
        400,
        "'stream_options' is only allowed when 'stream' is true.",
        'stream_options',
        null,
      ],
      [
        'stream_options with stream false',
        body({ stream: false, stream_options: { include_usage: true } }),
        APP,
        400,
        "'stream_options' is only allowed when 'stream' is true.",
        'stream_options',
        null,
      ],
      [
        'stream_options that is not an object',
        body({ stream: true, stream_options: 'usage' }),
        APP,
        400,
        "'stream_options' must be an object.",
        'stream_options',
        null,
      ],
      [
        'stream_options that is an array',
        body({ stream: true, stream_options: [] }),
        APP,
        400,
        "'stream_options' must be an object.",
        'stream_options',
        null,
      ],
      [
        'max_tokens over the cap',
        body({ max_tokens: 5000 }),
        APP,
        400,
        "'max_tokens' is 5000; this gateway allows at most 1000.",
        'max_tokens',
        null,
      ],
      [
        'max_completion_tokens one over the cap',
        body({ max_completion_tokens: 1001 }),
        APP,
        400,
        "'max_completion_tokens' is 1001; this gateway allows at most 1000.",
        'max_completion_tokens',
        null,
      ],
      [
        'max_tokens not an integer',
        body({ max_tokens: 1.5 }),
        APP,
        400,
        notInt('max_tokens'),
        'max_tokens',
        null,
      ],
      ['max_tokens zero', body({ max_tokens: 0 }), APP, 400, notInt('max_tokens'), 'max_tokens', null],
      ['max_tokens negative', body({ max_tokens: -5 }), APP, 400, notInt('max_tokens'), 'max_tokens', null],
      [
        'max_tokens as a string',
        body({ max_tokens: '100' }),
        APP,
        400,
        notInt('max_tokens'),
        'max_tokens',
        null,
      ],
      [
        'max_completion_tokens zero',
        body({ max_completion_tokens: 0 }),
        APP,
        400,
        notInt('max_completion_tokens'),
        'max_completion_tokens',
        null,
      ],
      [
        'both caps invalid (max_completion_tokens is named first)',
        body({ max_tokens: 0, max_completion_tokens: 0 }),
        APP,
        400,
        notInt('max_completion_tokens'),
        'max_completion_tokens',
        null,
      ],
      ['n over maxN', body({ n: 3 }), APP, 400, "'n' is 3; this gateway allows at most 2.", 'n', null],
      ['n zero', body({ n: 0 }), APP, 400, "'n' must be a positive integer.", 'n', null],
      ['n not an integer', body({ n: 1.5 }), APP, 400, "'n' must be a positive integer.", 'n', null],
      [
        'too many stop sequences',
        body({ stop: ['a', 'b', 'c'] }),
        APP,
        400,
        "'stop' has 3 sequences; this gateway allows at most 2.",
        'stop',
        null,
      ],
      [
        'a stop that is not a string',
        body({ stop: [1] }),
        APP,
        400,
        "'stop' must be a string or an array of strings.",
        'stop',
        null,
      ],
      [
        'a stop that is a number',
        body({ stop: 5 }),
        APP,
        400,
        "'stop' must be a string or an array of strings.",
        'stop',
        null,
      ],
      [
        'a temperature that is not a number',
        body({ temperature: 'hot' }),
        APP,
        400,
        "'temperature' must be a number.",
        'temperature',
        null,
      ],
    ];

    it.each(cases)('%s', (_what, raw, client, status, message, param, code) => {
      const err = refusal(raw, client);
      expect({ status: err.status, message: err.message, param: err.param, code: err.code }).toEqual({
        status,
        message,
        param,
        code,
      });
      expect(err.type).toBe('invalid_request_error');
    });

    it('checks the model before the messages', () => {
      expect(refusal({}).param).toBe('model');
    });
  });
});

describe('chat completions moderation input', () => {
  const moderationInput = chatCompletions.moderationInput!;

  it('joins string contents and the text of content parts, one per line', () => {
    const text = moderationInput({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Describe this' },
            { type: 'image_url', image_url: { url: 'https://x.test/a.png' } },
            { type: 'text', text: 'and this' },
          ],
        },
        { role: 'assistant', content: null },
        { role: 'user', content: 'Thanks' },
      ],
    });
    expect(text).toBe('Be brief.\nDescribe this\nand this\nThanks');
  });

  it('skips parts that carry no text', () => {
    const text = moderationInput({
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'u' } }, 'raw', null] }],
    });
    expect(text).toBe('');
  });

  it('reads a single string message as it is', () => {
    expect(moderationInput({ messages })).toBe('Say hello');
  });
});
