/**
 * One call on stored objects (see `endpoints/object-routes.ts`): admit against RPM (so probing ids
 * costs requests too) -> the caller must own every object it names, else 404 -> upstream -> relay
 * the answer as is (JSON, a stored stream replayed as SSE, or a file's bytes streamed through). An
 * object the call creates is recorded as the caller's before the answer goes out, the context the call
 * adds joins the object's record, and a delete forgets the owner. A list shows only the caller's objects
 * (`owned-answers.ts`), and an answer that carries an observed kind (a batch) is seen by its observer
 * first. These calls bill no tokens; like a model call it never throws, and returns its trace and error.
 */
import type { ClientConfig } from '../../runtime/gateway-config';
import type { ObjectRoute, PreparedObjectBody } from '../endpoints/object-routes';
import { OBJECT_ID } from '../endpoints/object-routes';
import { idOfJson } from '../endpoints/json-usage';
import { objectNotFound } from '../errors';
import { noAttempts, type UpstreamResponse } from '../upstream/client';
import { mapUpstreamError } from '../upstream/errors';
import { admitRequest } from './admit';
import { observeBatch } from './batch-settlement';
import type { CallerResponse } from './caller-response';
import { NOTHING_METERED } from './metering';
import type { CallResult, PipelineDeps } from './model-call';
import { ownedBy, OWNER_TTL_SECONDS } from './objects';
import { parseJsonObject } from '../../runtime/json';
import { listOwned } from './owned-answers';
import { MAX_JSON_ANSWER_BYTES, readCapped } from './relay-json';
import type { StoredObjectKind } from '../endpoints/spec';

/** Sees an object of its kind in an answer before the caller does, for the caller `clientId`. */
type AnswerObserver = (
  deps: PipelineDeps,
  clientId: string,
  object: Record<string, unknown>,
) => Promise<void>;

/** The observers of each kind of object an answer may carry. */
const ANSWER_OBSERVERS: Partial<Record<StoredObjectKind, AnswerObserver>> = {
  batch: async (deps, clientId, object) => void (await observeBatch(deps, clientId, object)),
};

export interface ObjectCallInput {
  readonly route: ObjectRoute;
  readonly client: ClientConfig;
  /** The `:id` path parameter, when the route has one. */
  readonly id?: string;
  /** The `:item_id` path parameter, when the route has one. */
  readonly itemId?: string;
  /** The caller's query string. */
  readonly query: URLSearchParams;
  /** The parsed JSON body, for routes that take one. */
  readonly body: unknown;
  readonly response: CallerResponse;
}

/** The call as authorized: the upstream path with its forwarded query, the body to send, its context. */
interface AuthorizedObjectCall {
  readonly path: string;
  readonly payload?: string;
  /** What the body adds to the context of the object it creates or extends. */
  readonly contextTokens: number;
}

async function authorize(deps: PipelineDeps, input: ObjectCallInput): Promise<AuthorizedObjectCall> {
  const { route, client, id, itemId } = input;
  let prepared: PreparedObjectBody | undefined;
  if (route.prepareBody) prepared = route.prepareBody({ policy: deps.policy, client, body: input.body });
  if (route.kind !== undefined) {
    if (id === undefined || !OBJECT_ID.test(id)) throw objectNotFound(route.kind, id ?? '', null);
    await ownedBy(deps.store.owners, client.id, { kind: route.kind, id, param: null });
  }
  // An id OpenAI could never have issued is absent, answered as OpenAI would without asking it.
  if (route.itemKind !== undefined && (itemId === undefined || !OBJECT_ID.test(itemId)))
    throw objectNotFound(route.itemKind, itemId ?? '', null);
  for (const named of prepared?.names ?? []) await ownedBy(deps.store.owners, client.id, named);
  const query = new URLSearchParams();
  for (const name of route.query) {
    // Repeated parameters, in either form (`include=a&include=b`, or the SDK's `include[]=a`).
    for (const form of [name, `${name}[]`])
      for (const value of input.query.getAll(form)) query.append(form, value);
  }
  const search = query.size > 0 ? `?${query.toString()}` : '';
  return {
    path: route.upstreamPath(id ?? '', itemId ?? '') + search,
    ...(prepared ? { payload: JSON.stringify(prepared.body) } : {}),
    contextTokens: prepared?.contextTokens ?? 0,
  };
}

/**
 * What a successful JSON answer changes in the owner records, before the caller sees it: the object
 * it creates becomes the caller's, the object it extends grows, the object it deletes is forgotten.
 * A record that cannot be written leaves a created object unreachable (404 to everyone) and an
 * extended one smaller than it is (its next response reserves less, and settles to its bill).
 */
async function recordOwners(
  deps: PipelineDeps,
  input: ObjectCallInput,
  answer: { readonly text: string; readonly contextTokens: number },
): Promise<void> {
  const { route, id, client } = input;
  const owners = deps.store.owners;
  if (route.creates !== undefined) {
    const created = idOfJson(answer.text);
    const owner = { clientId: client.id, contextTokens: answer.contextTokens };
    if (created !== undefined)
      await owners.record(created, owner, OWNER_TTL_SECONDS[route.creates]).catch(() => undefined);
  }
  if (id === undefined) return;
  if (route.extendsContext)
    await owners.extend(id, { addedTokens: answer.contextTokens }).catch(() => undefined);
  if (route.deletes) await owners.forget(id).catch(() => undefined);
}

/** A stored stream, replayed as it comes: nothing in it is billed, so it is not parsed. */
async function relayRawStream(
  response: CallerResponse,
  up: UpstreamResponse,
  headers: Record<string, string>,
): Promise<void> {
  response.openStream(headers);
  const decoder = new TextDecoder();
  try {
    for await (const chunk of up.body as AsyncIterable<Buffer>) {
      const text = decoder.decode(chunk, { stream: true });
      if (text.length > 0) await response.write(text);
    }
  } catch {
    up.body.destroy();
  }
  response.end();
}

/** A list route: only the caller's objects, each seen by the kind's observer. */
async function relayOwnedList(
  deps: PipelineDeps,
  input: ObjectCallInput,
  headers: Record<string, string>,
): Promise<void> {
  const { route, client } = input;
  const list = route.lists!;
  const observer = route.answers === undefined ? undefined : ANSWER_OBSERVERS[route.answers];
  const body = await listOwned(deps, {
    ...list,
    clientId: client.id,
    path: route.upstreamPath('', ''),
    query: input.query,
    signal: input.response.signal,
    ...(observer ? { observe: (object: Record<string, unknown>) => observer(deps, client.id, object) } : {}),
  });
  input.response.send({ status: 200, headers, contentType: 'json', body });
}

/** One upstream answer on its way to the caller. */
interface UpstreamAnswer {
  readonly deps: PipelineDeps;
  readonly input: ObjectCallInput;
  readonly up: UpstreamResponse;
  readonly headers: Record<string, string>;
}

/**
 * A JSON answer: seen by the observer of the kind it carries, its owner records written (see
 * `recordOwners`), then sent.
 */
async function relayJsonAnswer(
  { deps, input, up, headers }: UpstreamAnswer,
  contextTokens: number,
): Promise<void> {
  const text = await readCapped(up.body, MAX_JSON_ANSWER_BYTES);
  const observer = input.route.answers === undefined ? undefined : ANSWER_OBSERVERS[input.route.answers];
  const object = up.status === 200 && observer ? parseJsonObject(text) : undefined;
  if (object !== undefined) await observer!(deps, input.client.id, object);
  if (up.status === 200) await recordOwners(deps, input, { text, contextTokens });
  input.response.send({ status: up.status, headers, contentType: 'json', body: text });
  if (up.status === 200 && input.route.observesBackground && input.id !== undefined)
    void deps.background.observe(input.id, text);
}

export async function runObjectCall(deps: PipelineDeps, input: ObjectCallInput): Promise<CallResult> {
  const attempts = noAttempts();
  const trace = { metered: NOTHING_METERED, budgetExceeded: false, attempts };
  let headers: Record<string, string> = {};
  try {
    headers = await admitRequest({ limits: deps.limits, store: deps.store, client: input.client });
    if (input.route.lists) {
      await relayOwnedList(deps, input, headers);
      return { trace };
    }
    const authorized = await authorize(deps, input);
    const { path, payload } = authorized;
    const up = await deps.upstream.send({
      method: input.route.method,
      path,
      ...(payload === undefined ? {} : { payload }),
      ...(input.route.upstreamHeaders ? { headers: input.route.upstreamHeaders } : {}),
      signal: input.response.signal,
      attempts,
    });
    const contentType = String(up.headers['content-type'] ?? '');
    if (input.route.bytes && up.status === 200) {
      const length = up.headers['content-length'];
      input.response.sendBytes({
        status: 200,
        headers: typeof length === 'string' ? { ...headers, 'content-length': length } : headers,
        contentType: contentType || 'application/octet-stream',
        body: up.body,
      });
    } else if (contentType.startsWith('text/event-stream') && up.status === 200)
      await relayRawStream(input.response, up, headers);
    else await relayJsonAnswer({ deps, input, up, headers }, authorized.contextTokens);
    return { trace: { ...trace, upstreamMs: up.headersMs } };
  } catch (error) {
    return { trace, error: mapUpstreamError(error), headers };
  }
}
