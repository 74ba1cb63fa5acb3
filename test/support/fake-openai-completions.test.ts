/** The fake's legacy completions and its unknown-parameter refusals on chat and embeddings, via the `openai` SDK. */
import OpenAI from 'openai';
import { FakeOpenAI } from './fake-openai';

describe('fake OpenAI upstream: legacy completions', () => {
  const fake = new FakeOpenAI();
  let sdk: OpenAI;

  beforeAll(async () => {
    const { url } = await fake.start();
    sdk = new OpenAI({ baseURL: url, apiKey: 'sk-test', maxRetries: 0 });
  });
  afterEach(() => fake.reset());
  afterAll(() => fake.stop());

  it('answers a text_completion, cut at 16 tokens by default', async () => {
    fake.enqueue({ path: '/v1/completions', text: 'y'.repeat(100) });
    const res = await sdk.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Say hi' });
    expect(res).toMatchObject({
      id: expect.stringMatching(/^cmpl-/),
      object: 'text_completion',
      model: 'gpt-3.5-turbo-instruct',
      choices: [{ text: 'y'.repeat(64), index: 0, logprobs: null, finish_reason: 'length' }],
      usage: { prompt_tokens: 2, completion_tokens: 16, total_tokens: 18 },
    });
    const short = await sdk.completions.create({ model: 'm', prompt: 'x', max_tokens: 100 });
    expect(short.choices[0]).toMatchObject({ text: fake.behaviour.text, finish_reason: 'stop' });
    expect(fake.billed.map((b) => b.endpoint)).toEqual(['completions', 'completions']);
  });

  it('answers one choice per prompt x n, indexed over all, and echoes, with logprobs', async () => {
    const res = await sdk.completions.create({
      model: 'm',
      prompt: ['a', 'b'],
      n: 2,
      echo: true,
      logprobs: 1,
      max_tokens: 100,
    });
    expect(res.choices.map((c) => c.index)).toEqual([0, 1, 2, 3]);
    expect(res.choices.map((c) => c.text)).toEqual(['a', 'a', 'b', 'b'].map((p) => p + fake.behaviour.text));
    expect(res.choices[0].logprobs?.tokens?.join('')).toBe(res.choices[0].text);
    const tokens = await sdk.completions.create({ model: 'm', prompt: [[1, 2, 3], [4]], max_tokens: 100 });
    expect(tokens.choices).toHaveLength(2);
    expect(tokens.usage?.prompt_tokens).toBe(4);
  });

  it('bills best_of candidates per prompt, and refuses best_of < n or streamed best_of', async () => {
    const res = await sdk.completions.create({ model: 'm', prompt: ['a', 'b'], best_of: 3, max_tokens: 100 });
    expect(res.choices).toHaveLength(2);
    const one = Math.ceil(fake.behaviour.text.length / 4);
    expect(res.usage?.completion_tokens).toBe(one * 3 * 2);
    expect(fake.billed[0].usage.completion_tokens).toBe(one * 3 * 2);

    await expect(sdk.completions.create({ model: 'm', prompt: 'x', n: 3, best_of: 2 })).rejects.toMatchObject(
      {
        status: 400,
        param: 'best_of',
      },
    );
    await expect(
      sdk.completions.create({ model: 'm', prompt: 'x', best_of: 2, stream: true }),
    ).rejects.toMatchObject({ status: 400, param: 'best_of' });
  });

  it('streams text_completion chunks, a usage chunk with empty choices, then [DONE]', async () => {
    const stream = await sdk.completions.create({
      model: 'm',
      prompt: 'x',
      max_tokens: 100,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    const usage: unknown[] = [];
    const finish: unknown[] = [];
    for await (const chunk of stream) {
      expect(chunk.object).toBe('text_completion');
      text += chunk.choices[0]?.text ?? '';
      if (chunk.choices[0]?.finish_reason) finish.push(chunk.choices[0].finish_reason);
      if (chunk.usage) {
        expect(chunk.choices).toEqual([]);
        usage.push(chunk.usage);
      }
    }
    expect(text).toBe(fake.behaviour.text);
    expect(finish).toEqual(['stop']);
    expect(usage).toHaveLength(1);
    const raw = await fetch(`${fake.url}/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', prompt: 'x', stream: true }),
    }).then((r) => r.text());
    expect(raw.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('refuses unknown parameters on completions, chat completions and embeddings', async () => {
    const cases: Array<[Promise<unknown>, string]> = [
      [sdk.completions.create({ model: 'm', prompt: 'x', messages: [] } as never), 'messages'],
      [
        sdk.chat.completions.create({
          model: 'm',
          messages: [{ role: 'user', content: 'x' }],
          input: 'x',
        } as never),
        'input',
      ],
      [sdk.embeddings.create({ model: 'm', input: 'x', prompt: 'x' } as never), 'prompt'],
    ];
    for (const [call, param] of cases) {
      const err = await call.catch((e: unknown) => e);
      expect((err as InstanceType<typeof OpenAI.BadRequestError>).error).toEqual({
        message: `Unknown parameter: '${param}'.`,
        type: 'invalid_request_error',
        param,
        code: 'unknown_parameter',
      });
    }
    expect(fake.billed).toHaveLength(0);
  });
});
