/**
 * Legacy completions through the gateway with the openai SDK: a batch of prompts in one call, `n` and
 * `best_of`, streaming with the usage chunk, and the refusals OpenAI gives. Spend is what upstream billed.
 */
import { costNanos } from '../../../runtime/pricing';
import { eventually } from '../../support/eventually';
import { apiErrorOf } from '../../support/refusal';
import { GatewayHarness } from '../../support/gateway-harness';

const MINI = { inputUsdPer1M: 0.15, outputUsdPer1M: 0.6 };

describe('legacy completions through the gateway', () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await GatewayHarness.start({ config: { limits: { strictParameters: true } } });
  });
  afterAll(() => h.stop());
  afterEach(() => h.fake.reset());

  const billedNanos = () => h.fake.billed.reduce((sum, b) => sum + costNanos(MINI, b.usage), 0);

  it('answers a batch of prompts in one call, one choice a prompt and n, and meters what upstream billed', async () => {
    const before = (await h.store.monthToDateSpendNanos()) ?? 0;
    const answer = await h
      .client()
      .completions.create({ model: 'fast', prompt: ['One', 'Two', 'Three'], n: 2 });
    expect(answer.choices).toHaveLength(6);
    const sent = h.fake.requestsTo('/v1/completions')[0].body;
    expect(sent).toMatchObject({ model: 'gpt-4o-mini', max_tokens: 100, user: 'app' });
    await eventually(async () => (await h.store.monthToDateSpendNanos()) === before + billedNanos());
  });

  it('streams with the usage chunk the caller asked for, and ends with [DONE]', async () => {
    const stream = await h.client().completions.create({
      model: 'fast',
      prompt: 'Say hello',
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? '';
      usage = chunk.usage ?? usage;
    }
    expect(text.length).toBeGreaterThan(0);
    expect(usage).toMatchObject({ prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number) });
  });

  it('refuses what OpenAI refuses, and what would bill past the caps, before going upstream', async () => {
    const sdk = h.client();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ prompt: 'x', best_of: 2, stream: true }, 'best_of'],
      [{ prompt: 'x', n: 2, best_of: 1 }, 'best_of'],
      [{ prompt: 'x', best_of: 3 }, 'n'],
      [{ prompt: Array.from({ length: 21 }, () => 'x') }, 'prompt'],
      [{ prompt: 'x', max_tokens: 5000 }, 'max_tokens'],
      [{ prompt: [1, 'x'] }, 'prompt[0]'],
      [{ prompt: 'x', messages: [] }, 'messages'],
    ];
    for (const [extra, param] of cases) {
      const err = await apiErrorOf(sdk.completions.create({ model: 'fast', ...extra } as never));
      expect({ status: err?.status, param: err?.param }).toEqual({ status: 400, param });
    }
    expect(h.fake.received).toBe(0);
  });

  it('bills best_of candidates, which upstream generates, within the reservation', async () => {
    const before = (await h.store.monthToDateSpendNanos()) ?? 0;
    const answer = await h.client().completions.create({ model: 'fast', prompt: 'Pick one', best_of: 2 });
    expect(answer.choices).toHaveLength(1);
    await eventually(async () => (await h.store.monthToDateSpendNanos()) === before + billedNanos());
  });
});
