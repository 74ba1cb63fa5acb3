/** The fake's Files and Batch APIs, driven with the official `openai` SDK. */
import OpenAI, { toFile } from 'openai';
import { eventually } from './eventually';
import { FakeOpenAI } from './fake-openai';
import { apiErrorOf } from './refusal';

describe('fake OpenAI upstream: Files and Batches', () => {
  const fake = new FakeOpenAI();
  let sdk: OpenAI;

  beforeAll(async () => {
    const { url } = await fake.start();
    sdk = new OpenAI({ baseURL: url, apiKey: 'sk-test', maxRetries: 0 });
  });
  afterEach(() => fake.reset());
  afterAll(() => fake.stop());

  const chatLine = (id: string, body: Record<string, unknown> = {}) =>
    JSON.stringify({
      custom_id: id,
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5, ...body },
    });
  const upload = async (text: string, purpose: OpenAI.FilePurpose = 'batch') =>
    sdk.files.create({ file: await toFile(Buffer.from(text), 'in.jsonl'), purpose });

  it('uploads, lists (newest first, by purpose, paged), retrieves, reads and deletes files', async () => {
    const a = await upload('a', 'user_data');
    const b = await upload('bb');
    expect(b).toEqual({
      id: expect.stringMatching(/^file-/),
      object: 'file',
      bytes: 2,
      created_at: expect.any(Number),
      expires_at: expect.any(Number),
      filename: 'in.jsonl',
      purpose: 'batch',
      status: 'processed',
      status_details: null,
    });
    expect(fake.files.uploads).toEqual([
      expect.objectContaining({ complete: true, fileId: a.id }),
      expect.objectContaining({ complete: true, fileId: b.id }),
    ]);
    expect((await sdk.files.list()).data.map((f) => f.id)).toEqual([b.id, a.id]);
    expect((await sdk.files.list({ purpose: 'user_data' })).data.map((f) => f.id)).toEqual([a.id]);
    const page = await sdk.files.list({ limit: 1, order: 'asc' });
    expect([page.data[0].id, page.has_more]).toEqual([a.id, true]);
    expect(await sdk.files.retrieve(a.id)).toEqual(a);
    expect(await (await sdk.files.content(b.id)).text()).toBe('bb');
    expect(await sdk.files.delete(a.id)).toEqual({ id: a.id, object: 'file', deleted: true });
    expect(await apiErrorOf(sdk.files.retrieve(a.id))).toMatchObject({ status: 404 });
  });

  it('refuses an unknown purpose', async () => {
    expect(await apiErrorOf(upload('x', 'nope' as 'batch'))).toMatchObject({ status: 400, param: 'purpose' });
  });

  it('runs a batch: validating, in progress, completed with its output, usage and the calls billed', async () => {
    const input = await upload([chatLine('a'), chatLine('b', { bogus: 1 })].join('\n'));
    const batch = await sdk.batches.create({
      input_file_id: input.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    expect(batch).toMatchObject({ object: 'batch', status: 'validating', input_file_id: input.id });
    let done = batch;
    await eventually(async () => (done = await sdk.batches.retrieve(batch.id)).status === 'completed');
    expect(done.request_counts).toEqual({ total: 2, completed: 1, failed: 1 });
    expect(fake.billed).toEqual([expect.objectContaining({ model: 'gpt-4o-mini', endpoint: 'batch' })]);
    const billed = fake.billed[0].usage;
    expect(done.usage).toEqual({
      input_tokens: billed.prompt_tokens,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: billed.completion_tokens,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: billed.total_tokens,
    });
    const output = JSON.parse((await (await sdk.files.content(done.output_file_id!)).text()).trim());
    expect(output).toMatchObject({ custom_id: 'a', response: { status_code: 200 } });
    const errors = JSON.parse((await (await sdk.files.content(done.error_file_id!)).text()).trim());
    expect(errors).toMatchObject({
      custom_id: 'b',
      response: { status_code: 400, body: { error: { param: 'bogus' } } },
    });
    expect((await sdk.batches.list()).data.map((b) => b.id)).toEqual([batch.id]);
  });

  it('fails a batch whose lines are not of its endpoint, and refuses bad creates', async () => {
    const input = await upload(chatLine('a'));
    const batch = await sdk.batches.create({
      input_file_id: input.id,
      endpoint: '/v1/embeddings',
      completion_window: '24h',
    });
    await eventually(async () => (await sdk.batches.retrieve(batch.id)).status === 'failed');
    expect(fake.billed).toEqual([]);
    const other = await upload('x', 'user_data');
    for (const [body, param] of [
      [
        { input_file_id: other.id, endpoint: '/v1/chat/completions', completion_window: '24h' },
        'input_file_id',
      ],
      [{ input_file_id: input.id, endpoint: '/v1/nope', completion_window: '24h' }, 'endpoint'],
      [
        { input_file_id: input.id, endpoint: '/v1/chat/completions', completion_window: '48h' },
        'completion_window',
      ],
      [
        { input_file_id: input.id, endpoint: '/v1/chat/completions', completion_window: '24h', extra: 1 },
        'extra',
      ],
    ] as const) {
      expect(await apiErrorOf(sdk.batches.create(body as unknown as OpenAI.BatchCreateParams))).toMatchObject(
        {
          status: 400,
          param,
        },
      );
    }
  });

  it('cancels a running batch: cancelling, then cancelled, nothing billed; a finished one cannot be', async () => {
    fake.reset({ batchMs: 60_000 });
    const input = await upload(chatLine('a'));
    const batch = await sdk.batches.create({
      input_file_id: input.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    expect((await sdk.batches.cancel(batch.id)).status).toBe('cancelling');
    await eventually(async () => (await sdk.batches.retrieve(batch.id)).status === 'cancelled');
    expect(fake.billed).toEqual([]);
    expect(await apiErrorOf(sdk.batches.cancel(batch.id))).toMatchObject({ status: 409 });
  });
});
