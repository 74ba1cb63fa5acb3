/**
 * API families per client (`clients[].apiFamilies`): a route of a family the client may not call
 * answers 404 `unknown_url`, exactly as a route the gateway does not have, and reaches no upstream.
 */
import { createHash } from 'node:crypto';
import { apiErrorOf } from '../../support/refusal';
import { chatBody, GatewayHarness, KEYS } from '../../support/gateway-harness';

describe('API families per client', () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    const keySha256 = createHash('sha256').update(KEYS.app).digest('hex');
    const chatOnly = { id: 'chat-only', keySha256, rpm: 100, tpm: 100_000, monthlyBudgetUsd: 10 };
    h = await GatewayHarness.start({ config: { clients: [{ ...chatOnly, apiFamilies: ['chat'] }] } });
  });
  afterAll(() => h.stop());

  it('serves the families the client is allowed', async () => {
    const answer = await h.client().chat.completions.create(chatBody());
    expect(answer.choices[0].message.content).toBeTruthy();
  });

  it('answers 404 unknown_url to a family it is not allowed, as to an unknown route, and sends nothing upstream', async () => {
    const before = h.fake.received;
    const responses = await apiErrorOf(h.client().responses.create({ model: 'fast', input: 'x' }));
    const unknown = await fetch(`${h.url}/assistants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.app}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(responses).toMatchObject({ status: 404, code: 'unknown_url' });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('unknown_url');
    const retrieve = await apiErrorOf(h.client().responses.retrieve('resp_abc'));
    expect(retrieve).toMatchObject({ status: 404, code: 'unknown_url' });
    expect(h.fake.received).toBe(before);
  });
});
