/**
 * Responses / Conversations items as OpenAI stores them: every item gets an id, a message's string
 * content becomes a list of parts, `item_reference`s are replaced by the items they name.
 */
import { newId } from './wire';

export type Item = Record<string, unknown>;

/** Id prefixes OpenAI gives stored items, by type. */
const ID_PREFIX: Readonly<Record<string, string>> = {
  message: 'msg',
  function_call: 'fc',
  function_call_output: 'fco',
  reasoning: 'rs',
  compaction: 'cmp',
};

export const itemId = (type: string): string => newId(ID_PREFIX[type] ?? 'item', '_');

/** A request's `input` (a string, or a list of items) as stored items. `lookup` resolves `item_reference`s. */
export function toItems(
  input: unknown,
  lookup: (id: string) => Item | undefined = () => undefined,
): { readonly items: Item[] } | { readonly missing: string } {
  if (input == null) return { items: [] };
  const raw: unknown[] = typeof input === 'string' ? [{ role: 'user', content: input }] : [input].flat();
  const items: Item[] = [];
  for (const entry of raw) {
    const item = (entry ?? {}) as Item;
    if (item.type === 'item_reference') {
      const found = typeof item.id === 'string' ? lookup(item.id) : undefined;
      if (!found) return { missing: String(item.id) };
      items.push(found);
    } else items.push(toItem(item));
  }
  return { items };
}

function toItem(item: Item): Item {
  if (item.type !== undefined && item.type !== 'message') {
    const { type, id, ...rest } = item;
    return {
      id: typeof id === 'string' ? id : itemId(String(type)),
      type,
      ...rest,
      status: rest.status ?? 'completed',
    };
  }
  const role = String(item.role ?? 'user');
  const content =
    typeof item.content === 'string'
      ? [
          role === 'assistant'
            ? { type: 'output_text', text: item.content, annotations: [] }
            : { type: 'input_text', text: item.content },
        ]
      : item.content;
  return {
    id: typeof item.id === 'string' ? item.id : itemId('message'),
    type: 'message',
    status: item.status ?? 'completed',
    role,
    content,
  };
}

/**
 * Whether the model has a tool's result to answer from: a `function_call_output` after the last user
 * message (or anywhere, when there is no user message).
 */
export function hasToolOutputSinceUser(items: readonly Item[]): boolean {
  for (let i = items.length - 1; i >= 0; i--) {
    if (items[i].type === 'function_call_output') return true;
    if (items[i].type === 'message' && items[i].role === 'user') return false;
  }
  return false;
}
