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
 * The prepared call once every object it names is the caller's, its prompt estimate raised by the
 * context they carry (a context of unknown size counts as a whole context window).
 */
export async function authorizeNamedObjects(
  owners: ObjectOwners,
  clientId: string,
  prepared: PreparedCall,
): Promise<PreparedCall> {
  const names = prepared.objects?.names ?? [];
  if (names.length === 0) return prepared;
  let context = 0;
  for (const named of names) {
    const owner = await ownedBy(owners, clientId, named);
    if (named.carriesContext) context += owner.contextTokens ?? CONTEXT_WINDOW_TOKENS;
  }
  return context === 0 ? prepared : { ...prepared, promptTokens: prepared.promptTokens + context };
}

/** Records who created an object: once when its id is known, again when its usage is. */
export type CreatedObjectRecorder = (id: string, usage: TokenUsage | undefined) => Promise<void>;

/**
 * The recorder of a call that creates an object, or undefined. A record that cannot be written leaves
 * the object unreachable through the gateway (404 to everyone); the answer still goes to the caller.
 */
export function createdObjectRecorder(
  owners: ObjectOwners,
  clientId: string,
  prepared: PreparedCall,
): CreatedObjectRecorder | undefined {
  const kind = prepared.objects?.creates;
  if (kind === undefined) return undefined;
  return async (id, usage) => {
    const contextTokens = usage ? usage.prompt_tokens + (usage.completion_tokens ?? 0) : undefined;
    const owner = contextTokens === undefined ? { clientId } : { clientId, contextTokens };
    await owners.record(id, owner, OWNER_TTL_SECONDS[kind]).catch(() => undefined);
  };
}
