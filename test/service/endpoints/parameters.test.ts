/**
 * Parameters that change the price or the privacy of a call are handled by the spec, not forwarded
 * blindly: service tiers per client, per-call hosted tools refused, and a strict mode for the rest.
 */
import { parseGatewayConfig, PRIORITY_PRICE_FACTOR } from '../../../runtime/gateway-config';
import { createRequestPolicy } from '../../../service/endpoints';
import { chatCompletions } from '../../../service/endpoints/chat-completions';
import { embeddings } from '../../../service/endpoints/embeddings';
import { refusalOf } from '../../support/refusal';
import { testConfigDocument } from '../../support/gateway-harness';

const lenient = createRequestPolicy(parseGatewayConfig(testConfigDocument()));
const strict = createRequestPolicy(
  parseGatewayConfig(testConfigDocument({ limits: { strictParameters: true } })),
);
const chat = (extra: Record<string, unknown>) => ({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'hi' }],
  ...extra,
});

describe('unknown parameters', () => {
  it('are forwarded by default', () => {
    const prepared = chatCompletions.prepare({
      policy: lenient,
      client: { id: 'app' },
      body: chat({ foo: 1 }),
    });
    expect(prepared.body.foo).toBe(1);
  });

  it("get OpenAI's 400 unknown_parameter naming them in strict mode, on every endpoint", () => {
    expect(
      refusalOf(() =>
        chatCompletions.prepare({ policy: strict, client: { id: 'app' }, body: chat({ foo: 1 }) }),
      ),
    ).toMatchObject({
      status: 400,
      message: "Unknown parameter: 'foo'.",
      param: 'foo',
      code: 'unknown_parameter',
    });
    expect(
      refusalOf(() =>
        embeddings.prepare({
          policy: strict,
          client: { id: 'app' },
          body: { model: 'text-embedding-3-small', input: 'x', messages: [] },
        }),
      ),
    ).toMatchObject({ param: 'messages', code: 'unknown_parameter' });
  });

  it('let every parameter of the spec through in strict mode', () => {
    const body = chat({
      temperature: 0.2,
      top_p: 1,
      seed: 3,
      stop: ['x'],
      n: 1,
      max_completion_tokens: 10,
      tools: [],
      tool_choice: 'auto',
      response_format: { type: 'text' },
      user: 'u',
      metadata: {},
      store: false,
      service_tier: 'auto',
      reasoning_effort: 'low',
      prompt_cache_key: 'k',
    });
    expect(() => chatCompletions.prepare({ policy: strict, client: { id: 'app' }, body })).not.toThrow();
  });
});

describe('service_tier', () => {
  it.each(['auto', 'default', 'flex'])('allows %s by default, at the standard price', (tier) => {
    const prepared = chatCompletions.prepare({
      policy: lenient,
      client: { id: 'app' },
      body: chat({ service_tier: tier }),
    });
    expect(prepared.priceFactor).toBeUndefined();
  });

  it('refuses priority unless the client may use it, then prices it at the priority factor', () => {
    expect(
      refusalOf(() =>
        chatCompletions.prepare({
          policy: lenient,
          client: { id: 'app' },
          body: chat({ service_tier: 'priority' }),
        }),
      ),
    ).toMatchObject({ status: 400, param: 'service_tier', code: 'service_tier_not_allowed' });
    const prepared = chatCompletions.prepare({
      policy: lenient,
      client: { id: 'app', serviceTiers: ['priority'] },
      body: chat({ service_tier: 'priority' }),
    });
    expect(prepared.priceFactor).toBe(PRIORITY_PRICE_FACTOR);
  });

  it("reserves flex and priority at the model's own factors, and a model without them at the safe defaults", () => {
    const tiered = createRequestPolicy(
      parseGatewayConfig(
        testConfigDocument({
          models: { 'gpt-4o-mini': { serviceTierFactors: { flex: 0.5, priority: 1.75 } } },
        }),
      ),
    );
    const client = { id: 'app', serviceTiers: ['flex', 'priority'] as const };
    const factor = (policy: typeof lenient, model: string, tier: string) =>
      chatCompletions.prepare({
        policy,
        client: { ...client, serviceTiers: [...client.serviceTiers] },
        body: chat({ model, service_tier: tier }),
      }).priceFactor;
    expect(factor(tiered, 'gpt-4o-mini', 'flex')).toBe(0.5);
    expect(factor(tiered, 'gpt-4o-mini', 'priority')).toBe(1.75);
    // gpt-4o has no factors: priority at the dearest current factor, flex at standard (never under).
    expect(factor(tiered, 'gpt-4o', 'priority')).toBe(PRIORITY_PRICE_FACTOR);
    expect(factor(tiered, 'gpt-4o', 'flex')).toBeUndefined();
  });

  it('refuses a prompt-cache retention whose write price the gateway does not know', () => {
    const prepare = (options: unknown) =>
      chatCompletions.prepare({
        policy: lenient,
        client: { id: 'app' },
        body: chat({ prompt_cache_options: options }),
      });
    expect(prepare({ mode: 'implicit', ttl: '30m' }).body.prompt_cache_options).toEqual({
      mode: 'implicit',
      ttl: '30m',
    });
    expect(refusalOf(() => prepare({ ttl: '12h' }))).toMatchObject({
      status: 400,
      param: 'prompt_cache_options.ttl',
      code: 'unsupported_value',
    });
    expect(refusalOf(() => prepare('30m'))).toMatchObject({ status: 400, param: 'prompt_cache_options' });
  });

  it('refuses a tier OpenAI does not have', () => {
    expect(
      refusalOf(() =>
        chatCompletions.prepare({
          policy: lenient,
          client: { id: 'app' },
          body: chat({ service_tier: 'gold' }),
        }),
      ),
    ).toMatchObject({ status: 400, param: 'service_tier' });
  });
});

describe('hosted tools billed per call', () => {
  it('refuses web_search_options, whose per-search fee the budgets cannot see', () => {
    expect(
      refusalOf(() =>
        chatCompletions.prepare({
          policy: lenient,
          client: { id: 'app' },
          body: chat({ web_search_options: {} }),
        }),
      ),
    ).toMatchObject({ status: 400, param: 'web_search_options', code: 'unsupported_parameter' });
  });
});
