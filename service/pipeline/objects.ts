/**
 * The ownership rules of stored objects. A call that names an object (`previous_response_id`,
 * `conversation`, a retrieve or delete by id) is answered 404 unless its caller created that object
 * through the gateway: the same 404 as for an object that does not exist, so nothing leaks. The context
 * a named object carries into the call (upstream bills it again as input) joins the prompt estimate.
 * An object a call creates is recorded as its caller's before the caller can learn its id.
 */
import { CONTEXT_WINDOW_TOKENS } from '../../runtime/gateway-config';
import type { TokenUsage } from '../../runtime/pricing';
import type { PreparedCall } from '../endpoints';
import type { NamedObject, StoredObjectKind } from '../endpoints/spec';
import { objectNotFound, unavailable } from '../errors';
import type { ObjectOwner, ObjectOwners } from '../store/types';
import type { Metered } from './metering';

/** How long the owner of each kind of object is kept (0: as long as the store keeps it). */
export const OWNER_TTL_SECONDS: Readonly<Record<StoredObjectKind, number>> = {
  // OpenAI keeps a stored response 30 days.
  response: 31 * 24 * 3600,
  // Conversations, files and batches are kept until deleted (files and batches may expire sooner).
  conversation: 0,
  file: 0,
  batch: 0,
};

const KIND_NAMES: Readonly<Record<StoredObjectKind, string>> = {
  response: 'response',
  conversation: 'conversation',
  file: 'file',
  batch: 'batch',
};

/** The owner record of `named`, if the caller owns it. @throws GatewayError 404 if not, 503 if unknown */
export async function ownedBy(
  owners: ObjectOwners,
  clientId: string,
  named: Pick<NamedObject, 'kind' | 'id'> & { readonly param: string | null },
): Promise<ObjectOwner> {
  let owner: ObjectOwner | undefined;
  try {
    owner = await owners.lookup(named.id);
  } catch {
    throw unavailable('The gateway cannot check who owns this object right now. Please try again shortly.');
  }
  if (owner?.clientId !== clientId) throw objectNotFound(KIND_NAMES[named.kind], named.id, named.param);
  return owner;
}

/**
 * A call that reads a conversation's context and extends it (upstream appends its input and output):
 * what it read, so the conversation's record can grow once the call's usage is known.
 */
export interface ContextTurn {
  /** The conversation's id. */
  readonly id: string;
  /** The record's revision when the call read it. */
  readonly revision: number;
  /** The call's own prompt estimate, without the context it carries. */
  readonly ownPromptTokens: number;
}

/** A prepared call whose named objects are all the caller's. */
export interface AuthorizedCall {
  /** The prepared call, its prompt estimate raised by the context its named objects carry. */
  readonly prepared: PreparedCall;
  /** The conversation the call extends. @default none */
  readonly turn?: ContextTurn;
}

/**
 * The prepared call once every object it names is the caller's, its prompt estimate raised by the
 * context they carry (a context of unknown size counts as a whole context window).
 */
export async function authorizeNamedObjects(
  owners: ObjectOwners,
  clientId: string,
  prepared: PreparedCall,
): Promise<AuthorizedCall> {
  const names = prepared.objects?.names ?? [];
  if (names.length === 0) return { prepared };
  let context = 0;
  let conversation: { readonly id: string; readonly owner: ObjectOwner } | undefined;
  for (const named of names) {
    const owner = await ownedBy(owners, clientId, named);
    if (named.carriesContext) context += owner.contextTokens ?? CONTEXT_WINDOW_TOKENS;
    if (named.kind === 'conversation' && named.carriesContext) conversation = { id: named.id, owner };
  }
  const raised = context === 0 ? prepared : { ...prepared, promptTokens: prepared.promptTokens + context };
  if (conversation === undefined) return { prepared: raised };
  const turn: ContextTurn = {
    id: conversation.id,
    revision: conversation.owner.revision ?? 0,
    ownPromptTokens: prepared.promptTokens,
  };
  return { prepared: raised, turn };
}

/**
 * Grows the conversation a turn extended by what the turn was metered (`calls` upstream calls that
 * may each have appended to it). A turn that never reached the model (nothing metered) leaves it as
 * is. A growth the store cannot write leaves the record smaller than the conversation: the next turn
 * reserves less than upstream bills it, and settles to the bill all the same.
 */
export async function growContext(
  owners: ObjectOwners,
  turn: ContextTurn,
  metered: Pick<Metered, 'promptTokens' | 'completionTokens'>,
  calls = 1,
): Promise<void> {
  if (metered.promptTokens === 0) return;
  const growth = {
    addedTokens: turn.ownPromptTokens * calls + metered.completionTokens,
    exact: { revision: turn.revision, tokens: metered.promptTokens + metered.completionTokens },
  };
  await owners.extend(turn.id, growth).catch(() => undefined);
}

/** Records who created an object: once when its id is known, again when its usage is. */
export type CreatedObjectRecorder = (id: string, usage: TokenUsage | undefined) => Promise<void>;

/** What a call records of the objects it creates and extends, as it learns their ids and its usage. */
export interface CallObjectsRecorder {
  /** For the upstream step: the created object's owner, and the turn's growth once usage is known. */
  readonly onCreated?: CreatedObjectRecorder;
  /** After settlement: the turn's growth from what was metered, unless usage already grew it. */
  settled(metered: Metered, calls: number): Promise<void>;
}

/**
 * The recorder of a call. A record that cannot be written leaves the object unreachable through the
 * gateway (404 to everyone); the answer still goes to the caller.
 */
export function callObjectsRecorder(
  owners: ObjectOwners,
  clientId: string,
  authorized: AuthorizedCall,
): CallObjectsRecorder {
  const { prepared, turn } = authorized;
  const kind = prepared.objects?.creates;
  let grew = false;
  const grow = async (metered: Pick<Metered, 'promptTokens' | 'completionTokens'>, calls: number) => {
    if (turn === undefined || grew) return;
    grew = true;
    await growContext(owners, turn, metered, calls);
  };
  const onCreated: CreatedObjectRecorder | undefined =
    kind === undefined
      ? undefined
      : async (id, usage) => {
          const contextTokens = usage ? usage.prompt_tokens + (usage.completion_tokens ?? 0) : undefined;
          const owner = contextTokens === undefined ? { clientId } : { clientId, contextTokens };
          await owners.record(id, owner, OWNER_TTL_SECONDS[kind]).catch(() => undefined);
          if (usage)
            await grow(
              { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens ?? 0 },
              1,
            );
        };
  return { ...(onCreated ? { onCreated } : {}), settled: (metered, calls) => grow(metered, calls) };
}
