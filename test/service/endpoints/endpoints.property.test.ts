/**
 * Property-based: any JSON body is either prepared or refused with a 4xx in OpenAI's shape (never a
 * crash, never a 5xx), and a prepared call's prompt estimate is never below what the fake upstream
 * bills for it (text, tool calls and definitions, schemas, images by OpenAI's image rules).
 */
import fc from 'fast-check';
import { parseGatewayConfig } from '../../../runtime/gateway-config';
import { createRequestPolicy } from '../../../service/endpoints';
import { chatCompletions } from '../../../service/endpoints/chat-completions';
import { completions } from '../../../service/endpoints/completions';
import { embeddings } from '../../../service/endpoints/embeddings';
import { moderations } from '../../../service/endpoints/moderations';
import { responses } from '../../../service/endpoints/responses';
import { responsesCompact } from '../../../service/endpoints/responses-compact';
import { GatewayError } from '../../../service/errors';
import { promptTokensOf } from '../../support/fake-openai/wire';
import { responsesInputTokensOf } from '../../support/fake-openai/usage';
import { testConfigDocument } from '../../support/gateway-harness';

const policy = createRequestPolicy(parseGatewayConfig(testConfigDocument()));
const client = { id: 'app' };

const text = fc.string({ unit: 'binary', maxLength: 200 });
const part = fc.oneof(
  text.map((t) => ({ type: 'text', text: t })),
  fc.record({
    type: fc.constant('image_url'),
    image_url: fc.record({ url: fc.webUrl(), detail: fc.constantFrom('low', 'high', 'auto') }),
  }),
);
const toolCall = fc.record({
  id: fc.string({ maxLength: 10 }),
  type: fc.constant('function'),
  function: fc.record({ name: fc.string({ maxLength: 10 }), arguments: text }),
});
const message = fc.oneof(
  fc.record({ role: fc.constantFrom('system', 'user', 'developer'), content: text }),
  fc.record({ role: fc.constant('user'), content: fc.array(part, { maxLength: 4 }) }),
  fc.record({
    role: fc.constant('assistant'),
    content: fc.constant(null),
    tool_calls: fc.array(toolCall, { minLength: 1, maxLength: 3 }),
  }),
  fc.record({ role: fc.constant('tool'), tool_call_id: fc.string({ maxLength: 10 }), content: text }),
);
const tool = fc.record({
  type: fc.constant('function'),
  function: fc.record({ name: fc.string({ maxLength: 10 }), description: text, parameters: fc.jsonValue() }),
});
const chatBody = fc.record(
  {
    model: fc.constantFrom('gpt-4o-mini', 'gpt-4o', 'fast'),
    messages: fc.array(message, { minLength: 1, maxLength: 6 }),
    tools: fc.array(tool, { maxLength: 3 }),
    response_format: fc.record({
      type: fc.constant('json_schema'),
      json_schema: fc.record({ name: fc.constant('s'), schema: fc.jsonValue() }),
    }),
    max_tokens: fc.integer({ min: 1, max: 1000 }),
  },
  { requiredKeys: ['model', 'messages'] },
);

const responsesPart = fc.oneof(
  text.map((t) => ({ type: 'input_text', text: t })),
  fc.record({
    type: fc.constant('input_image'),
    image_url: fc.webUrl(),
    detail: fc.constantFrom('low', 'high'),
  }),
);
const inputItem = fc.oneof(
  fc.record({ role: fc.constantFrom('user', 'system', 'developer', 'assistant'), content: text }),
  fc.record({ role: fc.constant('user'), content: fc.array(responsesPart, { maxLength: 4 }) }),
  fc.record({
    type: fc.constant('function_call'),
    call_id: fc.string({ maxLength: 10 }),
    name: fc.string({ maxLength: 10 }),
    arguments: text,
  }),
  fc.record({
    type: fc.constant('function_call_output'),
    call_id: fc.string({ maxLength: 10 }),
    output: text,
  }),
);
const responsesBody = fc.record(
  {
    model: fc.constantFrom('gpt-4o-mini', 'gpt-4o', 'fast'),
    instructions: text,
    input: fc.oneof(text, fc.array(inputItem, { minLength: 1, maxLength: 6 })),
    tools: fc.array(
      fc.record({
        type: fc.constant('function'),
        name: fc.string({ maxLength: 10 }),
        description: text,
        parameters: fc.jsonValue(),
      }),
      { maxLength: 3 },
    ),
    text: fc.record({
      format: fc.record({ type: fc.constant('json_schema'), name: fc.constant('s'), schema: fc.jsonValue() }),
    }),
    max_output_tokens: fc.integer({ min: 16, max: 1000 }),
  },
  { requiredKeys: ['model', 'input'] },
);

function outcome(prepare: () => unknown): 'ok' | 'refused' {
  try {
    prepare();
    return 'ok';
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    const e = err as GatewayError;
    expect(e.status).toBeGreaterThanOrEqual(400);
    expect(e.status).toBeLessThan(500);
    expect(Object.keys(e.toBody().error).sort()).toEqual(['code', 'message', 'param', 'type']);
    return 'refused';
  }
}

describe('request policy properties', () => {
  it('prepares or refuses with a 4xx any JSON body, on every endpoint', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (anything, messages) => {
        for (const spec of [
          chatCompletions,
          embeddings,
          responses,
          completions,
          moderations,
          responsesCompact,
        ]) {
          outcome(() => spec.prepare({ policy, client, body: anything }));
          outcome(() =>
            spec.prepare({
              policy,
              client,
              body: {
                model: 'gpt-4o-mini',
                messages,
                input: messages,
                prompt: messages,
                instructions: messages,
              },
            }),
          );
        }
      }),
      { numRuns: 500 },
    );
  });

  it('never estimates a chat prompt below what upstream bills for it', () => {
    fc.assert(
      fc.property(chatBody, (body) => {
        const prepared = chatCompletions.prepare({ policy, client, body });
        expect(prepared.promptTokens).toBeGreaterThanOrEqual(promptTokensOf(prepared.body));
        expect(prepared.completionTokens).toBeGreaterThanOrEqual(body.max_tokens ?? 1);
      }),
      {
        numRuns: 500,
        // Found by CI: short pieces (a 1-byte message, an empty `tools`) each bill a token of their own.
        examples: [[{ model: 'gpt-4o-mini', messages: [{ role: 'system', content: '\u0000' }], tools: [] }]],
      },
    );
  });

  it('never estimates a Responses prompt below what upstream bills for it', () => {
    fc.assert(
      fc.property(responsesBody, (body) => {
        const prepared = responses.prepare({ policy, client, body });
        const items = typeof body.input === 'string' ? [{ role: 'user', content: body.input }] : body.input;
        expect(prepared.promptTokens).toBeGreaterThanOrEqual(responsesInputTokensOf(prepared.body, items));
        expect(prepared.completionTokens).toBeGreaterThanOrEqual(body.max_output_tokens ?? 1);
      }),
      { numRuns: 500 },
    );
  });

  it('never estimates a compaction below what upstream bills for its input', () => {
    fc.assert(
      fc.property(responsesBody, (body) => {
        const prepared = responsesCompact.prepare({ policy, client, body });
        const items = typeof body.input === 'string' ? [{ role: 'user', content: body.input }] : body.input;
        expect(prepared.promptTokens).toBeGreaterThanOrEqual(responsesInputTokensOf(prepared.body, items));
        expect(prepared.completionTokens).toBe(policy.config.limits.maxTokens);
      }),
      // Found by this property: an empty input bills the reply's priming too.
      { numRuns: 200, examples: [[{ model: 'gpt-4o-mini', input: '' }]] },
    );
  });
});
