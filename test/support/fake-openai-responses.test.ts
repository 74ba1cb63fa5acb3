/** The fake's Responses API, driven with the official `openai` SDK (the client whose parsing it must satisfy). */
import OpenAI from 'openai';
import { zodTextFormat } from 'openai/helpers/zod';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { z } from 'zod';
import { FakeOpenAI } from './fake-openai';

const weatherTool = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'Weather in a city',
  strict: true,
  parameters: {
    type: 'object',
    properties: { city: { type: 'string' }, days: { type: 'integer' }, metric: { type: 'boolean' } },
    required: ['city', 'days', 'metric'],
    additionalProperties: false,
  },
};

describe('fake OpenAI upstream: Responses API', () => {
  const fake = new FakeOpenAI();
  let sdk: OpenAI;

  beforeAll(async () => {
    const { url } = await fake.start();
    sdk = new OpenAI({ baseURL: url, apiKey: 'sk-test', maxRetries: 0 });
  });
  afterEach(() => fake.reset());
  afterAll(() => fake.stop());

  it('answers a full Response object, bills it, and leaves output_text to the SDK', async () => {
    const res = await sdk.responses.create({
      model: 'gpt-4o-mini',
      instructions: 'Be brief.',
      input: 'hi',
      temperature: 0.2,
      metadata: { k: 'v' },
    });
    expect(res).toMatchObject({
      object: 'response',
      status: 'completed',
      model: 'gpt-4o-mini',
      instructions: 'Be brief.',
      temperature: 0.2,
      top_p: 1,
      tool_choice: 'auto',
      tools: [],
      parallel_tool_calls: true,
      store: true,
      background: false,
      previous_response_id: null,
      metadata: { k: 'v' },
      text: { format: { type: 'text' } },
      error: null,
      incomplete_details: null,
    });
    expect(res.id).toMatch(/^resp_[0-9a-f]+$/);
    expect(res.output).toEqual([
      {
        type: 'message',
        id: expect.stringMatching(/^msg_/),
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'output_text', text: fake.behaviour.text, annotations: [], logprobs: [] }],
      },
    ]);
    expect(res.output_text).toBe(fake.behaviour.text);
    const raw = await (await fetch(`${fake.url}/responses/${res.id}`, auth())).json();
    expect(raw).not.toHaveProperty('output_text');

    const usage = res.usage!;
    expect(usage.total_tokens).toBe(usage.input_tokens + usage.output_tokens);
    expect(usage.input_tokens_details.cached_tokens).toBe(0);
    expect(usage.output_tokens_details.reasoning_tokens).toBe(0);
    expect(fake.billed).toEqual([
      {
        model: 'gpt-4o-mini',
        endpoint: 'responses',
        usage: expect.objectContaining({
          prompt_tokens: usage.input_tokens,
          completion_tokens: usage.output_tokens,
        }),
      },
    ]);
  });

  it('streams typed events numbered from 0, ending with response.completed and no [DONE]', async () => {
    const stream = await sdk.responses.create({ model: 'gpt-4o-mini', input: 'hi', stream: true });
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const types = [...new Set(events.map((e) => e.type))];
    expect(types).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const deltas = events.filter((e) => e.type === 'response.output_text.delta');
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.map((d) => d.delta).join('')).toBe(fake.behaviour.text);
    expect(deltas[0]).toMatchObject({ output_index: 0, content_index: 0, logprobs: [] });
    const last = events[events.length - 1];
    expect(last.type === 'response.completed' && last.response.usage?.total_tokens).toBeGreaterThan(0);

    const raw = await fetch(`${fake.url}/responses`, {
      method: 'POST',
      ...auth(),
      body: JSON.stringify({ model: 'm', input: 'x', stream: true }),
    }).then((r) => r.text());
    expect(raw).toMatch(/^event: response\.created\ndata: \{"type":"response\.created","sequence_number":0,/);
    expect(raw).not.toContain('[DONE]');
  });

  it('gives responses.stream() a final response', async () => {
    const final = await sdk.responses.stream({ model: 'gpt-4o-mini', input: 'hi' }).finalResponse();
    expect(final.output_text).toBe(fake.behaviour.text);
    expect(final.status).toBe('completed');
  });

  it('answers a json_schema format with a document responses.parse() accepts', async () => {
    const Answer = z.object({
      city: z.string(),
      score: z.number(),
      ok: z.boolean(),
      tags: z.array(z.string()),
      where: z.object({ lat: z.number(), label: z.string() }),
    });
    const res = await sdk.responses.parse({
      model: 'gpt-4o-mini',
      input: 'hi',
      text: { format: zodTextFormat(Answer, 'answer') },
    });
    expect(res.output_parsed).toEqual({
      city: 'x',
      score: 1,
      ok: true,
      tags: [],
      where: { lat: 1, label: 'x' },
    });
  });

  it('calls a function tool, then answers with text once the tool output comes back', async () => {
    const first = await sdk.responses.create({
      model: 'gpt-4o-mini',
      input: 'weather?',
      tools: [weatherTool],
    });
    const call = first.output[0];
    expect(call).toEqual({
      type: 'function_call',
      id: expect.stringMatching(/^fc_/),
      call_id: expect.stringMatching(/^call_/),
      name: 'get_weather',
      arguments: '{"city":"x","days":1,"metric":true}',
      status: 'completed',
    });
    expect(first.tools[0]).toMatchObject({ type: 'function', name: 'get_weather', strict: true });
    if (call.type !== 'function_call') throw new Error('expected a call');

    const second = await sdk.responses.create({
      model: 'gpt-4o-mini',
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: '{"temp":20}' }],
      tools: [weatherTool],
    });
    expect(second.output_text).toBe(fake.behaviour.text);
    // The chained call bills the whole context: the first call's input and output, then the tool output.
    expect(second.usage!.input_tokens).toBeGreaterThan(first.usage!.input_tokens);

    fake.enqueue({ path: '/v1/responses', functionCall: false });
    const forcedText = await sdk.responses.create({ model: 'm', input: 'x', tools: [weatherTool] });
    expect(forcedText.output[0].type).toBe('message');
    fake.enqueue({ path: '/v1/responses', functionCall: { name: 'lookup', arguments: '{"q":1}' } });
    const forcedCall = await sdk.responses.create({ model: 'm', input: 'x' });
    expect(forcedCall.output[0]).toMatchObject({
      type: 'function_call',
      name: 'lookup',
      arguments: '{"q":1}',
    });
  });

  it('streams a function call: item added with empty arguments, argument deltas, done', async () => {
    const stream = await sdk.responses.create({
      model: 'gpt-4o-mini',
      input: 'weather?',
      tools: [weatherTool],
      stream: true,
    });
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const added = events.find((e) => e.type === 'response.output_item.added');
    expect(added?.type === 'response.output_item.added' && added.item).toMatchObject({
      type: 'function_call',
      arguments: '',
      status: 'in_progress',
    });
    const args = events.flatMap((e) =>
      e.type === 'response.function_call_arguments.delta' ? [e.delta] : [],
    );
    expect(args.join('')).toBe('{"city":"x","days":1,"metric":true}');
    expect(events.find((e) => e.type === 'response.function_call_arguments.done')).toMatchObject({
      name: 'get_weather',
      arguments: '{"city":"x","days":1,"metric":true}',
    });
    expect(events[events.length - 1].type).toBe('response.completed');
  });

  it('truncates at max_output_tokens: status incomplete, terminal response.incomplete', async () => {
    const text = 'word '.repeat(40);
    fake.enqueue({ path: '/v1/responses', text });
    const res = await sdk.responses.create({ model: 'gpt-4o-mini', input: 'x', max_output_tokens: 16 });
    expect(res).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } });
    expect(res.usage!.output_tokens).toBe(16);
    expect(res.output_text).toBe(text.slice(0, 64));

    fake.enqueue({ path: '/v1/responses', text });
    const stream = await sdk.responses.create({
      model: 'm',
      input: 'x',
      max_output_tokens: 16,
      stream: true,
    });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types[types.length - 1]).toBe('response.incomplete');

    await expect(
      sdk.responses.create({ model: 'm', input: 'x', max_output_tokens: 5 }),
    ).rejects.toMatchObject({
      status: 400,
      param: 'max_output_tokens',
      code: 'integer_below_min_value',
    });
  });

  it('reports reasoning tokens inside output tokens for reasoning models, within max_output_tokens', async () => {
    const res = await sdk.responses.create({ model: 'o4-mini', input: 'x' });
    expect(res.output.map((o) => o.type)).toEqual(['reasoning', 'message']);
    const { output_tokens, output_tokens_details } = res.usage!;
    expect(output_tokens_details.reasoning_tokens).toBe(fake.behaviour.reasoningTokens);
    expect(output_tokens).toBeGreaterThan(output_tokens_details.reasoning_tokens);
    expect(res.reasoning).toMatchObject({ effort: 'medium' });

    const capped = await sdk.responses.create({ model: 'gpt-5', input: 'x', max_output_tokens: 20 });
    expect(capped.usage!.output_tokens).toBeLessThanOrEqual(20);
    expect(capped.status).toBe('incomplete');
  });

  it('fails as scripted (response.failed) and overrides usage in Responses names', async () => {
    fake.enqueue({ path: '/v1/responses', failed: { code: 'server_error', message: 'boom' } });
    const failed = await sdk.responses.create({ model: 'm', input: 'x' });
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'server_error', message: 'boom' } });

    fake.enqueue({ path: '/v1/responses', failed: true });
    const stream = await sdk.responses.create({ model: 'm', input: 'x', stream: true });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types).toEqual(['response.created', 'response.in_progress', 'response.failed']);

    fake.enqueue({
      path: '/v1/responses',
      usage: { input_tokens: 11, output_tokens: 7, reasoning_tokens: 3 },
    });
    const scripted = await sdk.responses.create({ model: 'm', input: 'x' });
    expect(scripted.usage).toEqual({
      input_tokens: 11,
      input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
      output_tokens: 7,
      output_tokens_details: { reasoning_tokens: 3 },
      total_tokens: 18,
    });
    expect(fake.billed[fake.billed.length - 1].usage).toMatchObject({
      prompt_tokens: 11,
      completion_tokens: 7,
    });
  });

  it('bills images and tools on the same rule as chat', async () => {
    const image = { type: 'input_image' as const, image_url: 'https://x/y.png', detail: 'high' as const };
    const count = async (content: OpenAI.Responses.ResponseInputMessageContentList) =>
      (await sdk.responses.inputTokens.count({ model: 'gpt-4o', input: [{ role: 'user', content }] }))
        .input_tokens;
    const withImage = await count([{ type: 'input_text', text: 'look' }, image]);
    const without = await count([{ type: 'input_text', text: 'look' }]);
    expect(withImage - without).toBe(85 + 8 * 170);
    const withTools = await sdk.responses.inputTokens.count({ model: 'm', input: 'x', tools: [weatherTool] });
    const noTools = await sdk.responses.inputTokens.count({ model: 'm', input: 'x' });
    expect(withTools.input_tokens - noTools.input_tokens).toBe(
      Math.ceil(JSON.stringify([weatherTool]).length / 4),
    );
    expect(withTools.object).toBe('response.input_tokens');
  });

  it('plays the scripted stream options: chunks, a cut stream without terminal event, 429 with Retry-After', async () => {
    fake.enqueue({ path: '/v1/responses', chunks: 6, chunkDelayMs: 5 });
    const stream = await sdk.responses.create({ model: 'm', input: 'x', stream: true });
    let deltas = 0;
    for await (const e of stream) if (e.type === 'response.output_text.delta') deltas++;
    expect(deltas).toBe(6);

    fake.enqueue({ path: '/v1/responses', chunks: 6, cutAfterChunks: 2 });
    const cut = await sdk.responses.create({ model: 'm', input: 'x', stream: true });
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const e of cut) seen.push(e.type);
      })(),
    ).rejects.toThrow();
    expect(seen.filter((t) => t === 'response.output_text.delta')).toHaveLength(2);
    expect(seen).not.toContain('response.completed');
    expect(fake.aborted).toBe(0);

    fake.enqueue({ path: '/v1/responses', status: 429, retryAfter: '2' });
    const limited = await sdk.responses.create({ model: 'm', input: 'x' }).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect((limited as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after')).toBe('2');
  });

  it('bills a response whose client left during the delay', async () => {
    fake.enqueue({ path: '/v1/responses', delayMs: 300 });
    const controller = new AbortController();
    const pending = sdk.responses
      .create({ model: 'gpt-4o-mini', input: 'x' }, { signal: controller.signal })
      .catch((e: unknown) => e);
    await fake.waitFor(() => fake.requests.length === 1);
    controller.abort();
    expect(await pending).toBeInstanceOf(OpenAI.APIUserAbortError);
    await fake.waitFor(() => fake.billed.length === 1);
    expect(fake.billed[0]).toMatchObject({ model: 'gpt-4o-mini', endpoint: 'responses' });
  });

  it('retrieves, replays after starting_after, lists input items, and deletes stored responses', async () => {
    const res = await sdk.responses.create({
      model: 'gpt-4o-mini',
      input: [
        { role: 'user', content: 'one' },
        { role: 'user', content: 'two' },
        { role: 'user', content: 'three' },
      ],
    });
    expect((await sdk.responses.retrieve(res.id)).output_text).toBe(fake.behaviour.text);

    const replay = await sdk.responses.retrieve(res.id, { stream: true, starting_after: 2 });
    const seqs: number[] = [];
    for await (const e of replay) seqs.push(e.sequence_number);
    expect(seqs[0]).toBe(3);
    expect(seqs).toEqual(seqs.map((_, i) => i + 3));

    const page = await sdk.responses.inputItems.list(res.id, { limit: 2, order: 'asc' });
    expect(page.data.map((i) => i.type === 'message' && i.content)).toEqual([
      [{ type: 'input_text', text: 'one' }],
      [{ type: 'input_text', text: 'two' }],
    ]);
    expect(page.data.every((i) => typeof i.id === 'string' && i.id.startsWith('msg_'))).toBe(true);
    expect(page.has_more).toBe(true);
    const all: string[] = [];
    for await (const item of sdk.responses.inputItems.list(res.id, { limit: 1 })) all.push(item.id!);
    // Newest first by default.
    expect(all).toHaveLength(3);
    expect(all.slice(1).reverse()).toEqual(page.data.map((i) => i.id));
    const raw = (await (
      await fetch(`${fake.url}/responses/${res.id}/input_items?limit=1`, auth())
    ).json()) as {
      data: Array<{ id: string }>;
    };
    expect(raw).toMatchObject({
      object: 'list',
      has_more: true,
      first_id: raw.data[0].id,
      last_id: raw.data[0].id,
    });

    const deleted = await fetch(`${fake.url}/responses/${res.id}`, { method: 'DELETE', ...auth() });
    expect(await deleted.json()).toEqual({ id: res.id, object: 'response', deleted: true });
    await expect(sdk.responses.retrieve(res.id)).rejects.toMatchObject({
      status: 404,
      error: {
        message: `Response with id '${res.id}' not found.`,
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    });
    await expect(sdk.responses.delete(res.id)).rejects.toMatchObject({ status: 404 });
  });

  it('resolves item_reference inputs to stored items, and refuses unknown ones', async () => {
    const first = await sdk.responses.create({ model: 'm', input: 'remember 42' });
    const withRef = await sdk.responses.inputTokens.count({
      model: 'm',
      input: [
        { type: 'item_reference', id: first.output[0].id! },
        { role: 'user', content: 'and?' },
      ],
    });
    const without = await sdk.responses.inputTokens.count({ model: 'm', input: 'and?' });
    expect(withRef.input_tokens).toBeGreaterThan(without.input_tokens);
    await expect(
      sdk.responses.create({ model: 'm', input: [{ type: 'item_reference', id: 'msg_nope' }] }),
    ).rejects.toMatchObject({ status: 404, param: 'input' });
  });

  it('refuses previous_response_id naming an unknown, deleted or unstored response', async () => {
    const unstored = await sdk.responses.create({ model: 'm', input: 'x', store: false });
    expect(unstored).toMatchObject({ store: false });
    const deleted = await sdk.responses.create({ model: 'm', input: 'x' });
    await sdk.responses.delete(deleted.id);
    for (const id of ['resp_nope', unstored.id, deleted.id]) {
      await expect(
        sdk.responses.create({ model: 'm', input: 'x', previous_response_id: id }),
      ).rejects.toMatchObject({
        status: 400,
        error: {
          message: `Previous response with id '${id}' not found.`,
          type: 'invalid_request_error',
          param: 'previous_response_id',
          code: 'previous_response_not_found',
        },
      });
    }
  });

  it('runs a background response: queued, then completed after backgroundMs, billed on completion', async () => {
    fake.reset({ backgroundMs: 30 });
    const queued = await sdk.responses.create({ model: 'gpt-4o-mini', input: 'x', background: true });
    expect(queued).toMatchObject({ status: 'queued', background: true, output: [], usage: null });
    expect(fake.billed).toHaveLength(0);
    let done = queued;
    while (done.status === 'queued' || done.status === 'in_progress') {
      await new Promise((r) => setTimeout(r, 10));
      done = await sdk.responses.retrieve(queued.id);
    }
    expect(done.status).toBe('completed');
    expect(done.output_text).toBe(fake.behaviour.text);
    expect(fake.billed).toHaveLength(1);
    // Cancelling a finished background response answers it as it ended.
    expect((await sdk.responses.cancel(queued.id)).status).toBe('completed');

    await expect(
      sdk.responses.create({ model: 'm', input: 'x', background: true, store: false }),
    ).rejects.toMatchObject({
      status: 400,
      param: 'store',
    });
  });

  it('cancels a background response before it completes, billing nothing', async () => {
    fake.reset({ backgroundMs: 5_000 });
    const queued = await sdk.responses.create({ model: 'gpt-4o-mini', input: 'x', background: true });
    const cancelled = await sdk.responses.cancel(queued.id);
    expect(cancelled.status).toBe('cancelled');
    expect((await sdk.responses.retrieve(queued.id)).status).toBe('cancelled');
    expect(fake.billed).toHaveLength(0);

    const foreground = await sdk.responses.create({ model: 'm', input: 'x' });
    await expect(sdk.responses.cancel(foreground.id)).rejects.toMatchObject({
      status: 400,
      error: { message: 'Only background responses can be cancelled.' },
    });
  });

  it('streams a background response and replays it from the store', async () => {
    const stream = await sdk.responses.create({ model: 'm', input: 'x', background: true, stream: true });
    const types: string[] = [];
    let id = '';
    for await (const e of stream) {
      types.push(e.type);
      if (e.type === 'response.created') id = e.response.id;
    }
    expect(types.slice(0, 3)).toEqual(['response.created', 'response.queued', 'response.in_progress']);
    expect(types[types.length - 1]).toBe('response.completed');
    const replayed = await sdk.responses.stream({ response_id: id, starting_after: 3 }).finalResponse();
    expect(replayed.output_text).toBe(fake.behaviour.text);
  });

  it('compacts a context into its user messages and a compaction item, billed', async () => {
    const first = await sdk.responses.create({ model: 'gpt-4o-mini', input: 'remember 42' });
    const compacted = await sdk.responses.compact({
      model: 'gpt-4o-mini',
      previous_response_id: first.id,
      input: 'and 43',
    });
    expect(compacted.object).toBe('response.compaction');
    expect(compacted.output.map((o) => o.type)).toEqual(['message', 'message', 'compaction']);
    expect(compacted.usage.input_tokens).toBeGreaterThan(0);
    expect(fake.billed.map((b) => b.endpoint)).toEqual(['responses', 'responses.compact']);
    const next = await sdk.responses.create({
      model: 'gpt-4o-mini',
      input: [...compacted.output, { role: 'user', content: 'sum?' }] as OpenAI.Responses.ResponseInput,
    });
    expect(next.status).toBe('completed');
  });

  it('refuses a parameter the Responses API does not know, e.g. chat messages', async () => {
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };
    const err = await sdk.responses.create(body as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).error).toEqual({
      message: "Unknown parameter: 'messages'.",
      type: 'invalid_request_error',
      param: 'messages',
      code: 'unknown_parameter',
    });
    await expect(sdk.responses.compact({ model: 'm', input: 'x', tools: [] } as never)).rejects.toMatchObject(
      {
        status: 400,
        param: 'tools',
      },
    );
    await expect(sdk.responses.inputTokens.count({ model: 'm', store: true } as never)).rejects.toMatchObject(
      {
        status: 400,
        param: 'store',
      },
    );
    expect(fake.billed).toHaveLength(0);
  });
});

const auth = () => ({ headers: { authorization: 'Bearer sk-test', 'content-type': 'application/json' } });
