/**
 * One request policy for both runtimes: every body below goes to the real gateway (in process, fake
 * upstream) and, as a batch line, to the batch handler's validation. Both must refuse it with the same
 * message and param, or both accept it and send the same body upstream.
 */
import { parseGatewayConfig } from '../../runtime/gateway-config';
import { BATCH_ENDPOINT, validateBatchInput } from '../../lambda/batch/validate';
import { GatewayHarness, testConfigDocument } from '../support/gateway-harness';

const messages = [{ role: 'user', content: 'Hello' }];
const CASES: ReadonlyArray<[string, Record<string, unknown>]> = [
  ['a plain body', { model: 'gpt-4o-mini', messages }],
  ['an alias with an allowed cap', { model: 'fast', messages, max_completion_tokens: 50 }],
  ['an unknown model', { model: 'gpt-5-unknown', messages }],
  ['no model', { messages }],
  ['no messages', { model: 'gpt-4o-mini' }],
  ['a message without a role', { model: 'gpt-4o-mini', messages: [{ content: 'x' }] }],
  ['max_tokens above the cap', { model: 'gpt-4o-mini', messages, max_tokens: 5000 }],
  [
    'max_completion_tokens that is not an integer',
    { model: 'gpt-4o-mini', messages, max_completion_tokens: 1.5 },
  ],
  ['n above the cap', { model: 'gpt-4o-mini', messages, n: 3 }],
  ['too many stop sequences', { model: 'gpt-4o-mini', messages, stop: ['a', 'b', 'c'] }],
  ['a stop that is not a string', { model: 'gpt-4o-mini', messages, stop: [1] }],
  ['a temperature that is not a number', { model: 'gpt-4o-mini', messages, temperature: 'hot' }],
  [
    'stream_options without stream',
    { model: 'gpt-4o-mini', messages, stream_options: { include_usage: true } },
  ],
  ['an end-user id', { model: 'gpt-4o-mini', messages, user: 'end-user-42' }],
];

describe('the gateway and the batch handler apply one request policy', () => {
  let h: GatewayHarness;
  const config = parseGatewayConfig(testConfigDocument());
  beforeAll(async () => {
    h = await GatewayHarness.start();
  });
  afterAll(() => h.stop());
  afterEach(() => h.fake.reset());

  it.each(CASES)('%s', async (_what, body) => {
    const res = await h.post('/chat/completions', JSON.stringify(body));
    const line = JSON.stringify({ custom_id: 'c', method: 'POST', url: BATCH_ENDPOINT, body });
    const batch = validateBatchInput(line, config);
    if (res.status === 200) {
      if (!batch.ok)
        throw new Error(`the gateway accepted, the batch refused: ${JSON.stringify(batch.errors)}`);
      const sent = h.fake.requests[0].body as Record<string, unknown>;
      const queued = JSON.parse(batch.lines[0]).body as Record<string, unknown>;
      // The same upstream body, but for whose work it is (the client's or the batch handler's).
      // Both name their caller (the client, or the batch handler): the rest is the same policy.
      const { safety_identifier: _client, prompt_cache_key: _clientKey, ...gatewayBody } = sent;
      const { safety_identifier: _batch, prompt_cache_key: _batchKey, ...batchBody } = queued;
      expect(batchBody).toEqual(gatewayBody);
      return;
    }
    const { error } = (await res.json()) as { error: { message: string; param: string | null } };
    expect(batch.ok).toBe(false);
    if (batch.ok) return;
    expect(batch.errors).toHaveLength(1);
    expect({ message: batch.errors[0].message, param: batch.errors[0].param ?? null }).toEqual({
      message: error.message,
      param: error.param,
    });
  });
});
