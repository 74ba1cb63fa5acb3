/**
 * OpenAI's cursor lists (`GET /v1/responses/{id}/input_items`, `GET /v1/conversations/{id}/items`,
 * files, batches): `limit` (1 to 100, default 20, unless the list says otherwise), `order` (`asc` or `desc`), `after` (an item id), answered as
 * `{object:'list', data, first_id, last_id, has_more}`.
 */

export interface CursorList<T> {
  readonly object: 'list';
  readonly data: readonly T[];
  readonly first_id: string | null;
  readonly last_id: string | null;
  readonly has_more: boolean;
}

/** A list's page sizes: the default, and the largest a caller may ask for. */
export interface PageSizes {
  /** @default 20 */
  readonly defaultLimit?: number;
  /** @default 100 */
  readonly maxLimit?: number;
}

/** A page of `items` (oldest first), or the 400 to answer to a bad `limit` or `order`. */
export function cursorPage<T extends { readonly id?: unknown }>(
  items: readonly T[],
  query: URLSearchParams,
  defaultOrder: 'asc' | 'desc',
  sizes: PageSizes = {},
): { readonly page: CursorList<T> } | { readonly error: string; readonly param: string } {
  const { defaultLimit = 20, maxLimit = 100 } = sizes;
  const limitText = query.get('limit');
  const limit = limitText === null ? defaultLimit : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > maxLimit) {
    return {
      error: `Invalid 'limit': expected an integer between 1 and ${maxLimit}, but got ${limitText} instead.`,
      param: 'limit',
    };
  }
  const order = query.get('order') ?? defaultOrder;
  if (order !== 'asc' && order !== 'desc') {
    return {
      error: `Invalid value: '${order}'. Supported values are: 'asc' and 'desc'.`,
      param: 'order',
    };
  }
  const ordered = order === 'asc' ? [...items] : [...items].reverse();
  const after = query.get('after');
  const start = after === null ? 0 : ordered.findIndex((item) => item.id === after) + 1;
  // An `after` naming no item of the list starts past its end: an empty page.
  const from = after !== null && start === 0 ? ordered.length : start;
  const data = ordered.slice(from, from + limit);
  const id = (item: T | undefined) => (typeof item?.id === 'string' ? item.id : null);
  return {
    page: {
      object: 'list',
      data,
      first_id: id(data[0]),
      last_id: id(data[data.length - 1]),
      has_more: from + limit < ordered.length,
    },
  };
}

/** A whole list on one page (what a create answers with: the items it made). */
export const wholeList = <T extends { readonly id?: unknown }>(items: readonly T[]): CursorList<T> =>
  (cursorPage(items, new URLSearchParams({ limit: '100', order: 'asc' }), 'asc') as { page: CursorList<T> })
    .page;
