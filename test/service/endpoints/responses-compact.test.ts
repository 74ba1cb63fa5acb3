import { parseGatewayConfig } from '../../../runtime/gateway-config';
import { createRequestPolicy } from '../../../service/endpoints';
import { responsesCompact } from '../../../service/endpoints/responses-compact';
import { GatewayError } from '../../../service/errors';
import { testConfigDocument } from '../../support/gateway-harness';
import { refusalOf } from '../../support/refusal';

const policy = createRequestPolicy(parseGatewayConfig(testConfigDocument()));
const strict = createRequestPolicy(
  parseGatewayConfig(testConfigDocument({ limits: { strictParameters: true } })),
);
const prepare = (body: unknown, p = policy, client = { id: 'app' }) =>
  responsesCompact.prepare({ policy: p, client, body });
const fields = (e: GatewayError) => ({ status: e.status, param: e.param, code: e.code });

describe('responsesCompact', () => {
  it('is a Responses-family model call on its own route, never streamed, stored or cached', () => {
    expect(responsesCompact).toMatchObject({
      family: 'responses',
      route: '/v1/responses/compact',
      upstreamPath: '/responses/compact',
    });
    expect(responsesCompact.streamReader).toBeUndefined();
    const prepared = prepare({ model: 'fast', input: 'Say hello', instructions: 'Be brief.' });
    expect(prepared).toMatchObject({
      model: 'gpt-4o-mini',
      requestedModel: 'fast',
      stream: false,
      deterministic: false,
      body: { model: 'gpt-4o-mini', input: 'Say hello', instructions: 'Be brief.' },
      objects: { names: [] },
    });
    expect(prepared.objects?.creates).toBeUndefined();
  });

  it('estimates the instructions and input, and reserves the output at the output cap', () => {
    const small = prepare({ model: 'fast', input: 'x' });
    const large = prepare({ model: 'fast', input: 'x'.repeat(3000), instructions: 'y'.repeat(300) });
    expect(large.promptTokens - small.promptTokens).toBeGreaterThanOrEqual(1000 + 100 - 1);
    expect(large.completionTokens).toBe(policy.config.limits.maxTokens);
  });

  it('names the previous response, whose context it carries', () => {
    expect(prepare({ model: 'fast', previous_response_id: 'resp_1' }).objects?.names).toEqual([
      { kind: 'response', id: 'resp_1', param: 'previous_response_id', carriesContext: true },
    ]);
  });

  it('prices the priority tier and refuses tiers and models the client may not use', () => {
    expect(prepare({ model: 'fast', input: 'x', service_tier: 'default' }).priceFactor).toBeUndefined();
    expect(fields(refusalOf(() => prepare({ model: 'fast', service_tier: 'priority' })))).toEqual({
      status: 400,
      param: 'service_tier',
      code: 'service_tier_not_allowed',
    });
    expect(fields(refusalOf(() => prepare({ model: 'gpt-4o' }, policy, { id: 'limited' })))).toMatchObject({
      status: 403,
      param: 'model',
    });
    expect(fields(refusalOf(() => prepare({ input: 'x' })))).toMatchObject({ status: 400, param: 'model' });
  });

  it('refuses a stream, and unknown parameters under strictParameters', () => {
    expect(fields(refusalOf(() => prepare({ model: 'fast', stream: true })))).toEqual({
      status: 400,
      param: 'stream',
      code: 'unsupported_parameter',
    });
    expect(fields(refusalOf(() => prepare({ model: 'fast', tools: [] }, strict)))).toEqual({
      status: 400,
      param: 'tools',
      code: 'unknown_parameter',
    });
  });

  it('reads the usage of its JSON answer', () => {
    expect(
      responsesCompact.usageOfJson(
        '{"id":"resp_1","object":"response.compaction","output":[],"usage":{"input_tokens":12,"output_tokens":3,"total_tokens":15}}',
        prepare({ model: 'fast', input: 'x' }),
      ),
    ).toMatchObject({ prompt_tokens: 12, completion_tokens: 3 });
  });
});
