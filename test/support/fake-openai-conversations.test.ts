/** The fake's Conversations API, driven with the official `openai` SDK. */
import OpenAI from 'openai';
import { FakeOpenAI } from './fake-openai';

describe('fake OpenAI upstream: Conversations API', () => {
  const fake = new FakeOpenAI();
  let sdk: OpenAI;

  beforeAll(async () => {
    const { url } = await fake.start();
    sdk = new OpenAI({ baseURL: url, apiKey: 'sk-test', maxRetries: 0 });
  });
  afterEach(() => fake.reset());
  afterAll(() => fake.stop());

  it('creates, retrieves, updates and deletes a conversation', async () => {
    const conv = await sdk.conversations.create({
      metadata: { topic: 'demo' },
      items: [{ type: 'message', role: 'user', content: 'hello' }],
    });
    expect(conv).toEqual({
      id: expect.stringMatching(/^conv_/),
      object: 'conversation',
      created_at: expect.any(Number),
      metadata: { topic: 'demo' },
    });
    expect(await sdk.conversations.retrieve(conv.id)).toEqual(conv);
    const updated = await sdk.conversations.update(conv.id, { metadata: { topic: 'other' } });
    expect(updated.metadata).toEqual({ topic: 'other' });
    expect(await sdk.conversations.delete(conv.id)).toEqual({
      id: conv.id,
      object: 'conversation.deleted',
      deleted: true,
    });
    await expect(sdk.conversations.retrieve(conv.id)).rejects.toMatchObject({
      status: 404,
      error: { message: `Conversation with id '${conv.id}' not found.`, type: 'invalid_request_error' },
    });
  });

  it('adds, lists (limit, order, after), retrieves and deletes items', async () => {
    const conv = await sdk.conversations.create({ items: [{ role: 'user', content: 'one' }] });
    const added = await sdk.conversations.items.create(conv.id, {
      items: [
        { type: 'message', role: 'assistant', content: 'two' },
        { type: 'message', role: 'user', content: 'three' },
      ],
    });
    expect(added).toMatchObject({ object: 'list', has_more: false });
    expect(added.data).toHaveLength(2);
    expect(added.first_id).toBe(added.data[0].id);
    expect(added.data[0]).toMatchObject({
      type: 'message',
      role: 'assistant',
      status: 'completed',
      content: [{ type: 'output_text', text: 'two', annotations: [] }],
    });

    const newest = await sdk.conversations.items.list(conv.id, { limit: 2 });
    expect(newest.data.map(textOf)).toEqual(['three', 'two']);
    expect(newest.has_more).toBe(true);
    const asc: string[] = [];
    for await (const item of sdk.conversations.items.list(conv.id, { limit: 1, order: 'asc' }))
      asc.push(textOf(item));
    expect(asc).toEqual(['one', 'two', 'three']);
    const after = await sdk.conversations.items.list(conv.id, { order: 'asc', after: added.data[0].id! });
    expect(after.data.map(textOf)).toEqual(['three']);

    const one = await sdk.conversations.items.retrieve(added.data[1].id!, { conversation_id: conv.id });
    expect(textOf(one)).toBe('three');
    const afterDelete = await sdk.conversations.items.delete(added.data[1].id!, { conversation_id: conv.id });
    expect(afterDelete).toMatchObject({ id: conv.id, object: 'conversation' });
    await expect(
      sdk.conversations.items.retrieve(added.data[1].id!, { conversation_id: conv.id }),
    ).rejects.toMatchObject({ status: 404 });
    expect((await sdk.conversations.items.list(conv.id)).data).toHaveLength(2);
  });

  it('gives a response the conversation as context, and appends its input and output', async () => {
    const conv = await sdk.conversations.create({ items: [{ role: 'user', content: 'my name is Ada' }] });
    const alone = await sdk.responses.inputTokens.count({ model: 'gpt-4o-mini', input: 'name?' });
    const res = await sdk.responses.create({ model: 'gpt-4o-mini', conversation: conv.id, input: 'name?' });
    expect(res.conversation).toEqual({ id: conv.id });
    // OpenAI bills the whole conversation, not only the new input.
    expect(res.usage!.input_tokens).toBeGreaterThan(alone.input_tokens);

    const items = await sdk.conversations.items.list(conv.id, { order: 'asc' });
    expect(items.data.map((i) => i.type === 'message' && i.role)).toEqual(['user', 'user', 'assistant']);
    expect(textOf(items.data[2])).toBe(fake.behaviour.text);

    await sdk.responses.create({ model: 'gpt-4o-mini', conversation: { id: conv.id }, input: 'again' });
    expect((await sdk.conversations.items.list(conv.id)).data).toHaveLength(5);

    await expect(
      sdk.responses.create({ model: 'm', conversation: 'conv_missing', input: 'x' }),
    ).rejects.toMatchObject({ status: 404 });
    await expect(
      sdk.responses.create({ model: 'm', conversation: conv.id, previous_response_id: res.id, input: 'x' }),
    ).rejects.toMatchObject({ status: 400 });
  });

  it('refuses a parameter the Conversations API does not know', async () => {
    const err = await sdk.conversations.create({ model: 'gpt-4o' } as never).catch((e: unknown) => e);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).error).toEqual({
      message: "Unknown parameter: 'model'.",
      type: 'invalid_request_error',
      param: 'model',
      code: 'unknown_parameter',
    });
    const conv = await sdk.conversations.create();
    await expect(
      sdk.conversations.update(conv.id, { metadata: {}, items: [] } as never),
    ).rejects.toMatchObject({ status: 400, param: 'items' });
    await expect(
      sdk.conversations.items.create(conv.id, { items: [], metadata: {} } as never),
    ).rejects.toMatchObject({ status: 400, param: 'metadata' });
  });
});

/** The text of a message item's first content part. */
function textOf(item: unknown): string {
  const content = (item as { content?: Array<{ text?: string }> }).content;
  return content?.[0]?.text ?? '';
}
