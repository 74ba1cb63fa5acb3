import { parseGatewayConfig } from '../../../runtime/gateway-config';
import { createRequestPolicy } from '../../../service/endpoints';
import { CONVERSATION_ROUTES, MAX_CONVERSATION_ITEMS } from '../../../service/endpoints/conversations';
import type { ObjectRoute } from '../../../service/endpoints/object-routes';
import type { Caller } from '../../../service/endpoints/spec';
import { GatewayError } from '../../../service/errors';
import { testConfigDocument } from '../../support/gateway-harness';
import { refusalOf } from '../../support/refusal';

const policy = createRequestPolicy(parseGatewayConfig(testConfigDocument()));
const strict = createRequestPolicy(
  parseGatewayConfig(testConfigDocument({ limits: { strictParameters: true } })),
);
const APP: Caller = { id: 'app' };
const fields = (e: GatewayError) => ({ status: e.status, param: e.param, code: e.code });

const routeOf = (method: ObjectRoute['method'], route: string): ObjectRoute => {
  const found = CONVERSATION_ROUTES.find((r) => r.method === method && r.route === route);
  if (!found) throw new Error(`no route ${method} ${route}`);
  return found;
};
const create = routeOf('POST', '/v1/conversations');
const update = routeOf('POST', '/v1/conversations/:id');
const addItems = routeOf('POST', '/v1/conversations/:id/items');
const prepare = (route: ObjectRoute, body: unknown, p = policy) =>
  route.prepareBody!({ policy: p, client: APP, body });
const refusal = (route: ObjectRoute, body: unknown, p = policy) =>
  fields(refusalOf(() => prepare(route, body, p)));
const message = (content: string) => ({ type: 'message', role: 'user', content });

describe('CONVERSATION_ROUTES', () => {
  it('declares the Conversations API, every route in the conversations family', () => {
    expect(CONVERSATION_ROUTES.map((r) => `${r.method} ${r.route}`)).toEqual([
      'POST /v1/conversations',
      'GET /v1/conversations/:id',
      'POST /v1/conversations/:id',
      'DELETE /v1/conversations/:id',
      'POST /v1/conversations/:id/items',
      'GET /v1/conversations/:id/items',
      'GET /v1/conversations/:id/items/:item_id',
      'DELETE /v1/conversations/:id/items/:item_id',
    ]);
    for (const r of CONVERSATION_ROUTES) expect(r.family).toBe('conversations');
  });

  it('names the conversation by :id on every route but create, which creates one', () => {
    for (const r of CONVERSATION_ROUTES) {
      expect({ route: r.route, kind: r.kind, creates: r.creates }).toEqual(
        r.route === '/v1/conversations'
          ? { route: r.route, kind: undefined, creates: 'conversation' }
          : { route: r.route, kind: 'conversation', creates: undefined },
      );
      expect(r.itemKind).toBe(r.route.includes(':item_id') ? 'item' : undefined);
    }
    expect(CONVERSATION_ROUTES.filter((r) => r.deletes).map((r) => r.route)).toEqual([
      '/v1/conversations/:id',
    ]);
    expect(CONVERSATION_ROUTES.filter((r) => r.extendsContext).map((r) => r.route)).toEqual([
      '/v1/conversations/:id/items',
    ]);
  });

  it.each<[ObjectRoute['method'], string, string]>([
    ['POST', '/v1/conversations', '/conversations'],
    ['GET', '/v1/conversations/:id', '/conversations/conv_1'],
    ['POST', '/v1/conversations/:id/items', '/conversations/conv_1/items'],
    ['GET', '/v1/conversations/:id/items/:item_id', '/conversations/conv_1/items/msg_2'],
    ['DELETE', '/v1/conversations/:id/items/:item_id', '/conversations/conv_1/items/msg_2'],
  ])('%s %s goes upstream to %s', (method, route, upstream) => {
    expect(routeOf(method, route).upstreamPath('conv_1', 'msg_2')).toBe(upstream);
  });

  it('forwards the list cursor and include on the item routes only', () => {
    expect(routeOf('GET', '/v1/conversations/:id/items').query).toEqual([
      'after',
      'include',
      'limit',
      'order',
    ]);
    expect(addItems.query).toEqual(['include']);
    expect(routeOf('GET', '/v1/conversations/:id').query).toEqual([]);
  });
});

describe('conversation bodies', () => {
  it('creates from no body, an empty one, or items and metadata, estimating what the items hold', () => {
    expect(prepare(create, undefined)).toEqual({ body: {}, names: [], contextTokens: 0 });
    expect(prepare(create, {})).toEqual({ body: {}, names: [], contextTokens: 0 });
    const body = { items: [message('x'.repeat(300))], metadata: { topic: 'a' } };
    const prepared = prepare(create, body);
    expect(prepared.body).toEqual(body);
    expect(prepared.contextTokens).toBeGreaterThanOrEqual(100);
  });

  it('counts an image at the most a model bills for one', () => {
    const image = {
      type: 'message',
      role: 'user',
      content: [{ type: 'input_image', image_url: 'https://x/y.png' }],
    };
    expect(prepare(create, { items: [image] }).contextTokens).toBeGreaterThanOrEqual(2_833 + 8 * 5_667);
  });

  it('refuses more than 20 items, items that are not objects, and a body that is not an object', () => {
    const items = Array.from({ length: MAX_CONVERSATION_ITEMS + 1 }, () => message('x'));
    expect(refusal(create, { items })).toEqual({ status: 400, param: 'items', code: null });
    expect(prepare(create, { items: items.slice(1) }).body.items).toHaveLength(20);
    expect(refusal(create, { items: 'x' })).toEqual({ status: 400, param: 'items', code: null });
    expect(refusal(create, { items: [5] })).toEqual({ status: 400, param: 'items[0]', code: null });
    expect(refusal(create, [])).toEqual({ status: 400, param: null, code: null });
  });

  it('refuses metadata OpenAI would refuse', () => {
    const many = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']));
    expect(refusal(create, { metadata: many })).toEqual({ status: 400, param: 'metadata', code: null });
    expect(refusal(create, { metadata: { ['k'.repeat(65)]: 'v' } }).param).toBe('metadata');
    expect(refusal(create, { metadata: { k: 'v'.repeat(513) } }).param).toBe('metadata.k');
    expect(refusal(create, { metadata: { k: 1 } }).param).toBe('metadata.k');
    expect(refusal(create, { metadata: [] }).param).toBe('metadata');
  });

  it('updates metadata only, which is required', () => {
    expect(prepare(update, { metadata: { a: 'b' } })).toEqual({ body: { metadata: { a: 'b' } }, names: [] });
    expect(refusal(update, {})).toEqual({
      status: 400,
      param: 'metadata',
      code: 'missing_required_parameter',
    });
    expect(refusal(update, { metadata: null }).param).toBe('metadata');
  });

  it('adds between 1 and 20 items, estimating them', () => {
    expect(prepare(addItems, { items: [message('hello')] }).contextTokens).toBeGreaterThan(0);
    expect(refusal(addItems, {})).toEqual({
      status: 400,
      param: 'items',
      code: 'missing_required_parameter',
    });
    expect(refusal(addItems, { items: [] }).param).toBe('items');
  });

  it('refuses unknown parameters under strictParameters, and forwards them otherwise', () => {
    expect(refusal(create, { items: [], name: 'x' }, strict)).toEqual({
      status: 400,
      param: 'name',
      code: 'unknown_parameter',
    });
    expect(refusal(update, { metadata: {}, items: [] }, strict).code).toBe('unknown_parameter');
    expect(refusal(addItems, { items: [message('x')], include: [] }, strict).param).toBe('include');
    expect(prepare(create, { name: 'x' }).body).toEqual({ name: 'x' });
  });
});
