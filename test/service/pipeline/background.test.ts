import { Readable } from 'node:stream';
import { BackgroundSettler, finalStatusOf, type HeldCall } from '../../../service/pipeline/background';
import { MemoryStore } from '../../../service/store';
import type { Ticket } from '../../../service/store/types';
import type { UpstreamClient } from '../../../service/upstream/client';
import { request } from '../store/store-harness';

const PRICE = { inputUsdPer1M: 1, outputUsdPer1M: 2 };
const WORST = { promptTokens: 400, cachedPromptTokens: 0, completionTokens: 100, costNanos: 600_000 };

/** An upstream that answers each GET from `answers` (status and JSON), or throws. */
function upstream(answers: Record<string, { status: number; body: unknown } | Error>) {
  const calls: string[] = [];
  const client = {
    send: async ({ path }: { path: string }) => {
      calls.push(path);
      const answer = answers[path];
      if (answer === undefined || answer instanceof Error) throw answer ?? new Error('no answer');
      return {
        status: answer.status,
        headers: {},
        body: Readable.from([Buffer.from(JSON.stringify(answer.body))]),
        headersMs: 1,
      };
    },
  };
  return { client: client as unknown as UpstreamClient, calls };
}

async function setup(answers: Parameters<typeof upstream>[0] = {}) {
  const store = new MemoryStore();
  const up = upstream(answers);
  const settler = new BackgroundSettler({ store, upstream: up.client });
  const decision = await store.admit(request({ tokens: 500, costNanos: WORST.costNanos }));
  if (!decision.ok) throw new Error('not admitted');
  const call = (id: string, extra: Partial<HeldCall> = {}): HeldCall => ({
    id,
    clientId: 'app',
    ticket: decision.ticket as Ticket,
    price: PRICE,
    worstCase: WORST,
    unanswered: 0,
    ...extra,
  });
  return { store, settler, call, calls: up.calls };
}

const completed = (usage: unknown = { input_tokens: 10, output_tokens: 5 }) => ({
  id: 'resp_1',
  status: 'completed',
  usage,
});

describe('finalStatusOf', () => {
  it('reads a final status and its usage, and nothing of a pending or unreadable answer', () => {
    expect(finalStatusOf(JSON.stringify(completed()))).toEqual({
      status: 'completed',
      usage: expect.objectContaining({ prompt_tokens: 10, completion_tokens: 5 }),
    });
    for (const status of ['incomplete', 'failed', 'cancelled'])
      expect(finalStatusOf(JSON.stringify({ status, usage: null }))?.status).toBe(status);
    expect(finalStatusOf(JSON.stringify({ status: 'queued' }))).toBeUndefined();
    expect(finalStatusOf(JSON.stringify({ status: 'in_progress' }))).toBeUndefined();
    expect(finalStatusOf('not json')).toBeUndefined();
    expect(finalStatusOf('null')).toBeUndefined();
  });
});

describe('BackgroundSettler', () => {
  it('settles a held call once, to its usage, however often its final status is seen', async () => {
    const { store, settler, call } = await setup();
    expect(await settler.hold(call('resp_1'))).toBe(true);
    expect(await store.monthToDateSpendNanos()).toBe(WORST.costNanos);
    await settler.observe('resp_1', JSON.stringify(completed()));
    await settler.observe('resp_1', JSON.stringify(completed({ input_tokens: 1, output_tokens: 1 })));
    expect(await store.monthToDateSpendNanos()).toBe(10 * 1_000 + 5 * 2_000);
    expect(await store.owners.lookup('resp_1')).toEqual({ clientId: 'app', contextTokens: 15 });
  });

  it('leaves a pending status, and a call never held, alone', async () => {
    const { store, settler, call } = await setup();
    await settler.hold(call('resp_1'));
    await settler.observe('resp_1', JSON.stringify({ status: 'in_progress' }));
    await settler.observe('resp_other', JSON.stringify(completed()));
    expect(await store.pending.list(10)).toHaveLength(1);
    expect(await store.monthToDateSpendNanos()).toBe(WORST.costNanos);
  });

  it('meters a cancelled response without usage at nothing, and each unanswered attempt at the worst case', async () => {
    const { store, settler, call } = await setup();
    await settler.hold(call('resp_1', { unanswered: 1 }));
    await settler.observe('resp_1', JSON.stringify({ status: 'cancelled', usage: null }));
    expect(await store.monthToDateSpendNanos()).toBe(WORST.costNanos);
  });

  it('meters a final status without readable usage at the worst case', async () => {
    const { store, settler, call } = await setup();
    await settler.hold(call('resp_1'));
    await settler.observe('resp_1', JSON.stringify({ status: 'failed', usage: 'x' }));
    expect(await store.pending.list(10)).toEqual([]);
    expect(await store.monthToDateSpendNanos()).toBe(WORST.costNanos);
  });

  it('polls upstream: settles the final, keeps the pending and the unreachable, settles the gone at worst case', async () => {
    const { store, settler, call, calls } = await setup({
      '/responses/resp_done': { status: 200, body: completed() },
      '/responses/resp_busy': { status: 200, body: { status: 'in_progress' } },
      '/responses/resp_down': new Error('connection refused'),
      '/responses/resp_500': { status: 500, body: { error: {} } },
      '/responses/resp_gone': { status: 404, body: { error: {} } },
    });
    for (const id of ['resp_done', 'resp_busy', 'resp_down', 'resp_500', 'resp_gone'])
      await settler.hold(call(id));
    expect(await settler.pollOnce()).toBe(2);
    expect(calls).toHaveLength(5);
    expect((await store.pending.list(10)).map((e) => e.id).sort()).toEqual([
      'resp_500',
      'resp_busy',
      'resp_down',
    ]);
  });

  it('grows the conversation a held turn extends, from the final usage', async () => {
    const { store, settler, call } = await setup();
    await store.owners.record('conv_1', { clientId: 'app', contextTokens: 8 }, 0);
    await settler.hold(call('resp_1', { turn: { id: 'conv_1', revision: 0, ownPromptTokens: 2 } }));
    await settler.observe('resp_1', JSON.stringify(completed()));
    expect(await store.owners.lookup('conv_1')).toEqual({ clientId: 'app', contextTokens: 15, revision: 1 });
  });

  it('answers false when the store cannot hold the call, and a poll finds nothing while the store cannot list', async () => {
    const { store, settler, call } = await setup();
    store.pending.hold = () => Promise.reject(new Error('down'));
    expect(await settler.hold(call('resp_1'))).toBe(false);
    store.pending.list = () => Promise.reject(new Error('down'));
    expect(await settler.pollOnce()).toBe(0);
  });

  it('keeps the entry held when the store cannot claim it, and settles it on a later look', async () => {
    const { store, settler, call } = await setup();
    await settler.hold(call('resp_1'));
    const claim = store.pending.claim.bind(store.pending);
    store.pending.claim = () => Promise.reject(new Error('down'));
    await settler.observe('resp_1', JSON.stringify(completed()));
    expect(await store.pending.list(10)).toHaveLength(1);
    expect(await store.monthToDateSpendNanos()).toBe(WORST.costNanos);
    store.pending.claim = claim;
    await settler.observe('resp_1', JSON.stringify(completed()));
    expect(await store.pending.list(10)).toEqual([]);
    expect(await store.monthToDateSpendNanos()).toBe(10 * 1_000 + 5 * 2_000);
  });
});
