import { CONTEXT_WINDOW_TOKENS } from '../../../runtime/gateway-config';
import type { PreparedCall } from '../../../service/endpoints';
import type { NamedObject } from '../../../service/endpoints/spec';
import { GatewayError } from '../../../service/errors';
import {
  authorizeNamedObjects,
  callObjectsRecorder,
  growContext,
  ownedBy,
  OWNER_TTL_SECONDS,
} from '../../../service/pipeline/objects';
import { MemoryObjectOwners } from '../../../service/store/object-owners';
import type { ObjectOwner, ObjectOwners } from '../../../service/store/types';

const previous = (id: string, carriesContext = true): NamedObject => ({
  kind: 'response',
  id,
  param: 'previous_response_id',
  carriesContext,
});
const call = (names: NamedObject[], creates?: 'response'): PreparedCall =>
  ({
    promptTokens: 100,
    cachedPromptTokens: 0,
    completionTokens: 50,
    objects: { names, ...(creates ? { creates } : {}) },
  }) as unknown as PreparedCall;

const failing: ObjectOwners = {
  record: () => Promise.reject(new Error('down')),
  lookup: () => Promise.reject(new Error('down')),
  forget: () => Promise.reject(new Error('down')),
  extend: () => Promise.reject(new Error('down')),
};

async function errorOf(p: Promise<unknown>): Promise<GatewayError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GatewayError);
  return err as GatewayError;
}

describe('ownedBy', () => {
  it("answers another client's object and an absent one with the same 404", async () => {
    const owners = new MemoryObjectOwners();
    await owners.record('resp_a', { clientId: 'app' }, 60);
    expect(await ownedBy(owners, 'app', previous('resp_a'))).toEqual({ clientId: 'app' });
    const theirs = await errorOf(ownedBy(owners, 'other', previous('resp_a')));
    const absent = await errorOf(ownedBy(owners, 'other', previous('resp_b')));
    expect(theirs.toBody()).toEqual({
      error: {
        message: "No response found with id 'resp_a'.",
        type: 'invalid_request_error',
        param: 'previous_response_id',
        code: 'not_found',
      },
    });
    expect({ status: absent.status, code: absent.code, param: absent.param }).toEqual({
      status: 404,
      code: 'not_found',
      param: 'previous_response_id',
    });
  });

  it('answers 503 when the store cannot say, never a guess', async () => {
    const err = await errorOf(ownedBy(failing, 'app', previous('resp_a')));
    expect(err.status).toBe(503);
  });
});

describe('authorizeNamedObjects', () => {
  it('adds the context each named object carries to the prompt estimate', async () => {
    const owners = new MemoryObjectOwners();
    await owners.record('resp_a', { clientId: 'app', contextTokens: 1_234 }, 60);
    const { prepared: authorized } = await authorizeNamedObjects(owners, 'app', call([previous('resp_a')]));
    expect(authorized.promptTokens).toBe(100 + 1_234);
    expect(authorized.completionTokens).toBe(50);
  });

  it('counts a context of unknown size as a whole context window, and none for an object that carries none', async () => {
    const owners = new MemoryObjectOwners();
    await owners.record('resp_a', { clientId: 'app' }, 60);
    expect(
      (await authorizeNamedObjects(owners, 'app', call([previous('resp_a')]))).prepared.promptTokens,
    ).toBe(100 + CONTEXT_WINDOW_TOKENS);
    const prepared = call([previous('resp_a', false)]);
    expect((await authorizeNamedObjects(owners, 'app', prepared)).prepared).toBe(prepared);
  });

  it('refuses the call when any named object is not the caller’s', async () => {
    const owners = new MemoryObjectOwners();
    await owners.record('resp_a', { clientId: 'app' }, 60);
    const err = await errorOf(
      authorizeNamedObjects(owners, 'app', call([previous('resp_a'), previous('resp_x')])),
    );
    expect(err.status).toBe(404);
  });
});

describe('createdObjectRecorder', () => {
  it('is absent for a call that creates nothing', () => {
    expect(
      callObjectsRecorder(new MemoryObjectOwners(), 'app', { prepared: call([]) }).onCreated,
    ).toBeUndefined();
  });

  it('records the creator with the context upstream billed, for as long as OpenAI keeps a response', async () => {
    const records: Array<[string, ObjectOwner, number]> = [];
    const owners: ObjectOwners = { ...failing, record: async (...args) => void records.push(args) };
    const record = callObjectsRecorder(owners, 'app', { prepared: call([], 'response') }).onCreated!;
    await record('resp_new', undefined);
    await record('resp_new', { prompt_tokens: 30, completion_tokens: 12 });
    expect(records).toEqual([
      ['resp_new', { clientId: 'app' }, OWNER_TTL_SECONDS.response],
      ['resp_new', { clientId: 'app', contextTokens: 42 }, OWNER_TTL_SECONDS.response],
    ]);
    expect(OWNER_TTL_SECONDS.response).toBeGreaterThanOrEqual(30 * 24 * 3600);
  });

  it('swallows a store failure: the answer still goes out, the object is nobody’s', async () => {
    const record = callObjectsRecorder(failing, 'app', { prepared: call([], 'response') }).onCreated!;
    await expect(record('resp_new', undefined)).resolves.toBeUndefined();
  });
});

describe('ownership, value by value', () => {
  const conversation = (id: string, carriesContext = true): NamedObject => ({
    kind: 'conversation',
    id,
    param: 'conversation',
    carriesContext,
  });
  const fields = (e: GatewayError) => ({ status: e.status, param: e.param, code: e.code, type: e.type });

  it('keeps the owner of a response 31 days, and of every other kind as long as the store keeps it', () => {
    expect(OWNER_TTL_SECONDS).toEqual({ response: 2_678_400, conversation: 0, file: 0, batch: 0 });
  });

  it('names the kind and the param in the 404, or no param for a path id', async () => {
    const owners = new MemoryObjectOwners();
    const err = await errorOf(ownedBy(owners, 'app', conversation('conv_1')));
    expect(err.message).toBe("No conversation found with id 'conv_1'.");
    expect(fields(err)).toEqual({
      status: 404,
      param: 'conversation',
      code: 'not_found',
      type: 'invalid_request_error',
    });
    const byPath = await errorOf(ownedBy(owners, 'app', { kind: 'response', id: 'resp_1', param: null }));
    expect(byPath.toBody()).toEqual({
      error: {
        message: "No response found with id 'resp_1'.",
        type: 'invalid_request_error',
        param: null,
        code: 'not_found',
      },
    });
  });

  it('answers the 503 with its code and a Retry-After', async () => {
    const err = await errorOf(ownedBy(failing, 'app', conversation('conv_1')));
    expect(fields(err)).toEqual({
      status: 503,
      param: null,
      code: 'service_unavailable',
      type: 'server_error',
    });
    expect(err.headers).toEqual({ 'retry-after': '1' });
  });

  it('returns the owner record as the store keeps it', async () => {
    const owners = new MemoryObjectOwners();
    await owners.record('conv_1', { clientId: 'app', contextTokens: 7 }, 0);
    expect(await ownedBy(owners, 'app', conversation('conv_1'))).toEqual({
      clientId: 'app',
      contextTokens: 7,
    });
  });

  it('answers 404 once the owner record has expired', async () => {
    let now = 1_000_000;
    const owners = new MemoryObjectOwners(() => now);
    await owners.record('resp_a', { clientId: 'app' }, 60);
    expect(await ownedBy(owners, 'app', previous('resp_a'))).toEqual({ clientId: 'app' });
    now += 60_000;
    expect((await errorOf(ownedBy(owners, 'app', previous('resp_a')))).status).toBe(404);
  });

  it('returns the same object when nothing is named, or when the objects list is absent', async () => {
    const owners = new MemoryObjectOwners();
    const none = call([]);
    expect((await authorizeNamedObjects(owners, 'app', none)).prepared).toBe(none);
    const absent = {
      promptTokens: 100,
      cachedPromptTokens: 0,
      completionTokens: 50,
    } as unknown as PreparedCall;
    expect((await authorizeNamedObjects(failing, 'app', absent)).prepared).toBe(absent);
  });

  it('sums the context of every named object that carries one, without changing the call it was given', async () => {
    const owners = new MemoryObjectOwners();
    await owners.record('resp_a', { clientId: 'app', contextTokens: 1_000 }, 60);
    await owners.record('conv_1', { clientId: 'app', contextTokens: 250 }, 0);
    await owners.record('resp_b', { clientId: 'app', contextTokens: 9_999 }, 60);
    const prepared = call([previous('resp_a'), conversation('conv_1'), previous('resp_b', false)]);
    const { prepared: authorized } = await authorizeNamedObjects(owners, 'app', prepared);
    expect(authorized).not.toBe(prepared);
    expect(authorized).toEqual({ ...prepared, promptTokens: 100 + 1_000 + 250 });
    expect(prepared.promptTokens).toBe(100);
  });

  it('adds a whole context window per object of unknown size', async () => {
    const owners = new MemoryObjectOwners();
    await owners.record('resp_a', { clientId: 'app' }, 60);
    await owners.record('conv_1', { clientId: 'app' }, 0);
    const { prepared: authorized } = await authorizeNamedObjects(
      owners,
      'app',
      call([previous('resp_a'), conversation('conv_1')]),
    );
    expect(authorized.promptTokens).toBe(100 + 2 * CONTEXT_WINDOW_TOKENS);
  });

  it('checks ownership of an object that carries no context all the same', async () => {
    const owners = new MemoryObjectOwners();
    await owners.record('resp_a', { clientId: 'other' }, 60);
    const err = await errorOf(authorizeNamedObjects(owners, 'app', call([previous('resp_a', false)])));
    expect(fields(err)).toMatchObject({ status: 404, param: 'previous_response_id', code: 'not_found' });
  });

  it('answers 503 when the store fails, and the first refusal in order', async () => {
    expect((await errorOf(authorizeNamedObjects(failing, 'app', call([previous('resp_a')])))).status).toBe(
      503,
    );
    const owners = new MemoryObjectOwners();
    const err = await errorOf(
      authorizeNamedObjects(owners, 'app', call([conversation('conv_x'), previous('resp_x')])),
    );
    expect(err.param).toBe('conversation');
  });

  it('records the creator of a conversation with no expiry, and a usage without completion tokens', async () => {
    const records: Array<[string, ObjectOwner, number]> = [];
    const owners: ObjectOwners = { ...failing, record: async (...args) => void records.push(args) };
    const prepared = {
      promptTokens: 1,
      cachedPromptTokens: 0,
      completionTokens: 1,
      objects: { names: [], creates: 'conversation' },
    } as unknown as PreparedCall;
    const record = callObjectsRecorder(owners, 'other', { prepared }).onCreated!;
    await record('conv_new', { prompt_tokens: 30 });
    expect(records).toEqual([['conv_new', { clientId: 'other', contextTokens: 30 }, 0]]);
  });

  it('is absent for a call without objects, and records an owner a lookup then finds', async () => {
    expect(
      callObjectsRecorder(new MemoryObjectOwners(), 'app', {
        prepared: { promptTokens: 1 } as unknown as PreparedCall,
      }).onCreated,
    ).toBeUndefined();
    const owners = new MemoryObjectOwners();
    await callObjectsRecorder(owners, 'app', { prepared: call([], 'response') }).onCreated!('resp_new', {
      prompt_tokens: 120,
      completion_tokens: 30,
      prompt_tokens_details: { cached_tokens: 100 },
    });
    expect(await ownedBy(owners, 'app', previous('resp_new'))).toEqual({
      clientId: 'app',
      contextTokens: 150,
    });
  });
});

describe('growContext and the call recorder', () => {
  const conversation: NamedObject = {
    kind: 'conversation',
    id: 'conv_1',
    param: 'conversation',
    carriesContext: true,
  };

  it('reads the conversation revision and own estimate at authorization', async () => {
    const owners = new MemoryObjectOwners();
    await owners.record('conv_1', { clientId: 'app', contextTokens: 400, revision: 3 }, 0);
    const authorized = await authorizeNamedObjects(owners, 'app', call([conversation]));
    expect(authorized.prepared.promptTokens).toBe(500);
    expect(authorized.turn).toEqual({ id: 'conv_1', revision: 3, ownPromptTokens: 100 });
    expect((await authorizeNamedObjects(owners, 'app', call([]))).turn).toBeUndefined();
  });

  it('sets the context to the usage while nobody else extended it, else adds the own estimate and output', async () => {
    const owners = new MemoryObjectOwners();
    await owners.record('conv_1', { clientId: 'app', contextTokens: 400 }, 0);
    const turn = { id: 'conv_1', revision: 0, ownPromptTokens: 100 };
    await growContext(owners, turn, { promptTokens: 450, completionTokens: 30 });
    expect(await owners.lookup('conv_1')).toEqual({ clientId: 'app', contextTokens: 480, revision: 1 });
    await growContext(owners, turn, { promptTokens: 450, completionTokens: 30 }, 2);
    expect((await owners.lookup('conv_1'))?.contextTokens).toBe(480 + 2 * 100 + 30);
  });

  it('leaves the conversation alone when nothing reached the model, and swallows a store failure', async () => {
    const owners = new MemoryObjectOwners();
    await owners.record('conv_1', { clientId: 'app', contextTokens: 400 }, 0);
    const turn = { id: 'conv_1', revision: 0, ownPromptTokens: 100 };
    await growContext(owners, turn, { promptTokens: 0, completionTokens: 0 });
    expect(await owners.lookup('conv_1')).toEqual({ clientId: 'app', contextTokens: 400 });
    await expect(
      growContext(failing, turn, { promptTokens: 1, completionTokens: 1 }),
    ).resolves.toBeUndefined();
  });

  it('grows the conversation once: from the usage when it arrives, else from what was metered', async () => {
    const owners = new MemoryObjectOwners();
    await owners.record('conv_1', { clientId: 'app', contextTokens: 400 }, 0);
    const authorized = await authorizeNamedObjects(owners, 'app', call([conversation], 'response'));
    const recorder = callObjectsRecorder(owners, 'app', authorized);
    await recorder.onCreated!('resp_1', { prompt_tokens: 420, completion_tokens: 20 });
    await recorder.settled(
      { promptTokens: 420, cachedPromptTokens: 0, completionTokens: 20, costNanos: 1 },
      1,
    );
    expect(await owners.lookup('conv_1')).toEqual({ clientId: 'app', contextTokens: 440, revision: 1 });
    const again = callObjectsRecorder(
      owners,
      'app',
      await authorizeNamedObjects(owners, 'app', call([conversation])),
    );
    expect(again.onCreated).toBeUndefined();
    await again.settled({ promptTokens: 600, cachedPromptTokens: 0, completionTokens: 50, costNanos: 1 }, 1);
    expect(await owners.lookup('conv_1')).toEqual({ clientId: 'app', contextTokens: 650, revision: 2 });
  });
});
