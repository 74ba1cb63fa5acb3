/**
 * The Responses API through the gateway with the official openai SDK: JSON and typed-event streams,
 * structured output, the output cap, stored responses and their ownership, and the objects a response
 * names. Spend is asserted from what the fake upstream billed.
 */
import { zodTextFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { costNanos } from '../../../runtime/pricing';
import { eventually } from '../../support/eventually';
import { apiErrorOf } from '../../support/refusal';
import { GatewayHarness, KEYS } from '../../support/gateway-harness';

const MINI = { inputUsdPer1M: 0.15, outputUsdPer1M: 0.6 };

describe('the Responses API through the gateway', () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await GatewayHarness.start();
  });
  afterAll(() => h.stop());
  afterEach(() => h.fake.reset());

  const billedNanos = () => h.fake.billed.reduce((sum, b) => sum + costNanos(MINI, b.usage), 0);

  it('answers responses.create with the model output, applies the default output cap, and meters what upstream billed', async () => {
    const before = (await h.store.monthToDateSpendNanos()) ?? 0;
    const response = await h
      .client()
      .responses.create({ model: 'fast', input: 'Say hello', instructions: 'Be brief.' });
    expect(response.output_text).toBe('Hello from the fake OpenAI upstream.');
    const sent = h.fake.requestsTo('/v1/responses')[0].body;
    expect(sent.model).toBe('gpt-4o-mini');
    expect(sent.max_output_tokens).toBe(100);
    expect(sent.safety_identifier).toBe('app');
    await eventually(async () => (await h.store.monthToDateSpendNanos()) === before + billedNanos());
  });

  it('refuses max_output_tokens above the cap with 400 naming the param', async () => {
    const err = await apiErrorOf(
      h.client().responses.create({ model: 'fast', input: 'x', max_output_tokens: 5000 }),
    );
    expect(err).toMatchObject({ status: 400, param: 'max_output_tokens' });
    expect(h.fake.received).toBe(0);
  });

  it('streams typed events with sequence numbers, no [DONE], and meters the terminal event usage', async () => {
    const before = (await h.store.monthToDateSpendNanos()) ?? 0;
    const stream = await h.client().responses.create({ model: 'fast', input: 'Say hello', stream: true });
    const types: string[] = [];
    const sequence: number[] = [];
    for await (const event of stream) {
      types.push(event.type);
      sequence.push(event.sequence_number);
    }
    expect(types[0]).toBe('response.created');
    expect(types.at(-1)).toBe('response.completed');
    expect(types).toContain('response.output_text.delta');
    expect(sequence).toEqual(sequence.map((_, i) => i));
    await eventually(async () => (await h.store.monthToDateSpendNanos()) === before + billedNanos());
  });

  it('serves responses.stream() and responses.parse() with a zod schema', async () => {
    const final = await h.client().responses.stream({ model: 'fast', input: 'Say hello' }).finalResponse();
    expect(final.output_text).toContain('Hello');
    const parsed = await h.client().responses.parse({
      model: 'fast',
      input: 'A city',
      text: { format: zodTextFormat(z.object({ city: z.string(), population: z.number() }), 'city') },
    });
    expect(parsed.output_parsed).toEqual({ city: expect.any(String), population: expect.any(Number) });
  });

  it('lets the creator retrieve, list the input items of, continue and delete a response; everyone else gets 404', async () => {
    const mine = h.client();
    const theirs = h.client(KEYS.other);
    const created = await mine.responses.create({ model: 'fast', input: 'Remember 42' });
    expect((await mine.responses.retrieve(created.id)).id).toBe(created.id);
    expect((await mine.responses.inputItems.list(created.id)).data.length).toBeGreaterThan(0);
    for (const attempt of [
      theirs.responses.retrieve(created.id),
      theirs.responses.inputItems.list(created.id),
      theirs.responses.delete(created.id),
      theirs.responses.create({ model: 'fast', input: 'And?', previous_response_id: created.id }),
    ]) {
      expect(await apiErrorOf(attempt)).toMatchObject({ status: 404, code: 'not_found' });
    }
    const next = await mine.responses.create({
      model: 'fast',
      input: 'And?',
      previous_response_id: created.id,
    });
    expect(next.previous_response_id).toBe(created.id);
    await mine.responses.delete(created.id);
    expect(await apiErrorOf(mine.responses.retrieve(created.id))).toMatchObject({
      status: 404,
      code: 'not_found',
    });
    // Only the creator's retrieve, list and delete reached upstream by id; the others' calls never did.
    expect(h.fake.requests.filter((r) => r.path.includes(created.id))).toHaveLength(3);
  });

  it('answers an id the gateway never issued as 404, the same as one it issued to someone else', async () => {
    const err = await apiErrorOf(h.client().responses.retrieve('resp_does_not_exist'));
    expect(err).toMatchObject({ status: 404, code: 'not_found' });
    expect(h.fake.received).toBe(0);
  });

  it("records a streamed response as its creator's before the stream names it", async () => {
    const stream = await h.client().responses.create({ model: 'fast', input: 'Say hello', stream: true });
    let id: string | undefined;
    for await (const event of stream) {
      if (event.type === 'response.created') {
        id = event.response.id;
        // Retrieved while the stream is still open.
        expect((await h.client().responses.retrieve(id)).id).toBe(id);
      }
    }
    expect(await apiErrorOf(h.client(KEYS.other).responses.retrieve(id!))).toMatchObject({ status: 404 });
  });

  it('replays a stored stream after a sequence number to its creator', async () => {
    const created = await h.client().responses.create({ model: 'fast', input: 'Say hello', stream: true });
    let id = '';
    for await (const event of created) if (event.type === 'response.created') id = event.response.id;
    const replay = await h.client().responses.retrieve(id, { stream: true, starting_after: 2 });
    const sequence: number[] = [];
    for await (const event of replay) sequence.push(event.sequence_number);
    expect(sequence[0]).toBe(3);
    expect(sequence.at(-1)).toBeGreaterThan(3);
  });

  it("counts input tokens for free, for the caller's own previous response only", async () => {
    const created = await h.client().responses.create({ model: 'fast', input: 'Remember 42' });
    const count = await h.client().responses.inputTokens.count({ model: 'fast', input: 'How many tokens?' });
    expect(count.input_tokens).toBeGreaterThan(0);
    const err = await apiErrorOf(
      h
        .client(KEYS.other)
        .responses.inputTokens.count({ model: 'fast', input: 'x', previous_response_id: created.id }),
    );
    expect(err).toMatchObject({ status: 404, param: 'previous_response_id' });
  });

  it('refuses hosted tools that bill per call, stored prompts and background mode', async () => {
    const sdk = h.client();
    expect(
      await apiErrorOf(sdk.responses.create({ model: 'fast', input: 'x', tools: [{ type: 'web_search' }] })),
    ).toMatchObject({ status: 400, param: 'tools[0].type', code: 'unsupported_value' });
    expect(await apiErrorOf(sdk.responses.create({ model: 'fast', prompt: { id: 'pmpt_1' } }))).toMatchObject(
      {
        status: 400,
        param: 'prompt',
      },
    );
    expect(
      await apiErrorOf(sdk.responses.create({ model: 'fast', input: 'x', background: true })),
    ).toMatchObject({
      status: 400,
      param: 'background',
    });
    expect(h.fake.received).toBe(0);
  });

  it('reserves the context a previous response carries, which upstream bills again', async () => {
    const first = await h.client().responses.create({ model: 'fast', input: 'y'.repeat(3000) });
    const firstBilled = h.fake.billed[0].usage;
    const next = await h
      .client()
      .responses.create({ model: 'fast', input: 'And?', previous_response_id: first.id });
    // Upstream billed the whole context again: the first call's input and output, and the new input.
    expect(next.usage!.input_tokens).toBeGreaterThan(firstBilled.prompt_tokens);
  });

  it('compacts a context as a model call: metered what upstream billed, reserved above it', async () => {
    const before = (await h.store.monthToDateSpendNanos()) ?? 0;
    const first = await h.client().responses.create({ model: 'fast', input: 'w'.repeat(1500) });
    const { data, response } = await h
      .client()
      .responses.compact({ model: 'fast', input: 'Keep it short.', previous_response_id: first.id })
      .withResponse();
    expect(data.object).toBe('response.compaction');
    expect(data.output.at(-1)).toMatchObject({ type: 'compaction' });
    const billed = h.fake.billed.find((b) => b.endpoint === 'responses.compact')!.usage;
    expect(data.usage.input_tokens).toBe(billed.prompt_tokens);
    // The reservation covered the previous response's context, which upstream billed again.
    const reserved = 1_000_000 - Number(response.headers.get('x-ratelimit-remaining-tokens'));
    expect(reserved).toBeGreaterThanOrEqual(billed.prompt_tokens + (billed.completion_tokens ?? 0));
    expect(h.fake.requestsTo('/v1/responses/compact')[0].body.model).toBe('gpt-4o-mini');
    await eventually(async () => (await h.store.monthToDateSpendNanos()) === before + billedNanos());
  });

  it("refuses to compact someone else's response, and a model that does not exist", async () => {
    const first = await h.client().responses.create({ model: 'fast', input: 'Mine' });
    const received = h.fake.received;
    expect(
      await apiErrorOf(
        h.client(KEYS.other).responses.compact({ model: 'fast', previous_response_id: first.id }),
      ),
    ).toMatchObject({ status: 404, code: 'not_found', param: 'previous_response_id' });
    expect(await apiErrorOf(h.client().responses.compact({ model: 'gpt-9', input: 'x' }))).toMatchObject({
      status: 404,
      param: 'model',
    });
    expect(h.fake.received).toBe(received);
  });
});
