/**
 * `POST /v1/moderations` through the gateway with the openai SDK: text and image inputs, free (nothing
 * billed, nothing spent), yet counted toward RPM and by its input estimate toward TPM; the model is
 * allowed per client; bad inputs are 400 naming the param; a client without the family gets 404.
 */
import { createHash } from 'node:crypto';
import { apiErrorOf } from '../../support/refusal';
import { GatewayHarness, KEYS } from '../../support/gateway-harness';
import { MEDIA_MODELS } from '../../support/media-config';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('moderations through the gateway', () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await GatewayHarness.start({
      config: {
        models: MEDIA_MODELS,
        limits: { strictParameters: true },
        clients: [
          { id: 'app', keySha256: sha(KEYS.app), rpm: 1000, tpm: 1_000_000, monthlyBudgetUsd: 10 },
          // TPM of 10: an input estimated above it is refused before upstream.
          { id: 'other', keySha256: sha(KEYS.other), rpm: 2, tpm: 10, monthlyBudgetUsd: 10 },
          {
            id: 'limited',
            keySha256: sha(KEYS.limited),
            rpm: 1000,
            tpm: 1_000_000,
            monthlyBudgetUsd: 10,
            apiFamilies: ['chat'],
          },
        ],
      },
    });
  });
  afterAll(() => h.stop());
  afterEach(() => h.fake.reset());

  it('classifies text, free: nothing billed upstream and nothing spent', async () => {
    const before = (await h.store.monthToDateSpendNanos()) ?? 0;
    const answer = await h.client().moderations.create({ input: ['hello', 'FLAG_ME now'] });
    expect(answer.results.map((r) => r.flagged)).toEqual([false, true]);
    // No model named: the stage's moderation model is sent.
    expect(h.fake.requestsTo('/v1/moderations')[0].body).toEqual({
      model: 'omni-moderation-latest',
      input: ['hello', 'FLAG_ME now'],
    });
    expect(h.fake.billed).toHaveLength(0);
    expect((await h.store.monthToDateSpendNanos()) ?? 0).toBe(before);
  });

  it('classifies text and an image together', async () => {
    const answer = await h.client().moderations.create({
      model: 'omni-moderation-latest',
      input: [
        { type: 'text', text: 'a picture' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
      ],
    });
    expect(answer.results).toHaveLength(1);
    expect(answer.results[0].category_applied_input_types.violence).toEqual(['text', 'image']);
  });

  it('counts toward TPM by its input estimate and toward RPM', async () => {
    const big = await apiErrorOf(h.client(KEYS.other).moderations.create({ input: 'x'.repeat(100) }));
    expect(big).toMatchObject({ status: 400, code: 'request_too_large' });
    await h.client(KEYS.other).moderations.create({ input: 'hi' });
    await h.client(KEYS.other).moderations.create({ input: 'hi' });
    const third = await apiErrorOf(h.client(KEYS.other).moderations.create({ input: 'hi' }));
    expect(third).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    expect(h.fake.requestsTo('/v1/moderations')).toHaveLength(2);
  });

  it.each([
    [{ input: '' }, 'input'],
    [{ input: [] }, 'input'],
    [{ input: [{ type: 'image_url', image_url: {} }] }, 'input[0]'],
    [{ input: [{ type: 'audio' }] }, 'input[0]'],
    [{ input: 'x', model: 7 }, 'model'],
    [{ input: 'x', user: 'u' }, 'user'],
  ])('answers 400 naming the param to %j', async (body, param) => {
    const res = await h.post('/moderations', JSON.stringify(body));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe(param);
    expect(h.fake.received).toBe(0);
  });

  it('refuses a model the stage does not price, and 404s a client without the family', async () => {
    const unknown = await apiErrorOf(h.client().moderations.create({ model: 'gpt-9', input: 'x' }));
    expect(unknown).toMatchObject({ status: 404, code: 'model_not_found' });
    const family = await apiErrorOf(h.client(KEYS.limited).moderations.create({ input: 'x' }));
    expect(family).toMatchObject({ status: 404, code: 'unknown_url' });
    expect(h.fake.received).toBe(0);
  });
});
