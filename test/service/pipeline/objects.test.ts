import { CONTEXT_WINDOW_TOKENS } from '../../../runtime/gateway-config';
import type { PreparedCall } from '../../../service/endpoints';
import type { NamedObject } from '../../../service/endpoints/spec';
import { GatewayError } from '../../../service/errors';
import {
  authorizeNamedObjects,
  createdObjectRecorder,
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
    completionTokens: 50,
    objects: { names, ...(creates ? { creates } : {}) },
  }) as unknown as PreparedCall;

const failing: ObjectOwners = {
  record: () => Promise.reject(new Error('down')),
  lookup: () => Promise.reject(new Error('down')),
  forget: () => Promise.reject(new Error('down')),
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
    const authorized = await authorizeNamedObjects(owners, 'app', call([previous('resp_a')]));
    expect(authorized.promptTokens).toBe(100 + 1_234);
    expect(authorized.completionTokens).toBe(50);
  });

  it('counts a context of unknown size as a whole context window, and none for an object that carries none', async () => {
    const owners = new MemoryObjectOwners();
    await owners.record('resp_a', { clientId: 'app' }, 60);
    expect((await authorizeNamedObjects(owners, 'app', call([previous('resp_a')]))).promptTokens).toBe(
      100 + CONTEXT_WINDOW_TOKENS,
    );
    const prepared = call([previous('resp_a', false)]);
    expect(await authorizeNamedObjects(owners, 'app', prepared)).toBe(prepared);
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
    expect(createdObjectRecorder(new MemoryObjectOwners(), 'app', call([]))).toBeUndefined();
  });

  it('records the creator with the context upstream billed, for as long as OpenAI keeps a response', async () => {
    const records: Array<[string, ObjectOwner, number]> = [];
    const owners: ObjectOwners = { ...failing, record: async (...args) => void records.push(args) };
    const record = createdObjectRecorder(owners, 'app', call([], 'response'))!;
    await record('resp_new', undefined);
    await record('resp_new', { prompt_tokens: 30, completion_tokens: 12 });
    expect(records).toEqual([
      ['resp_new', { clientId: 'app' }, OWNER_TTL_SECONDS.response],
      ['resp_new', { clientId: 'app', contextTokens: 42 }, OWNER_TTL_SECONDS.response],
    ]);
    expect(OWNER_TTL_SECONDS.response).toBeGreaterThanOrEqual(30 * 24 * 3600);
  });

  it('swallows a store failure: the answer still goes out, the object is nobody’s', async () => {
    const record = createdObjectRecorder(failing, 'app', call([], 'response'))!;
    await expect(record('resp_new', undefined)).resolves.toBeUndefined();
  });
});
