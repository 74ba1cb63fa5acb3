/**
 * `POST /v1/responses/compact`: upstream reads a context (the `input` items, or what a
 * `previous_response_id` carries) and answers a `response.compaction` whose output stands for it, with
 * the usage it billed. A model call like any other: the prompt estimate is the Responses one (plus the
 * previous response's context, which upstream bills again), the output is reserved at `limits.maxTokens`
 * (the endpoint takes no output cap; a compaction is a summary of what it read), and the call is
 * metered from its usage. Nothing it answers is stored by id, so it creates no object and is not cached.
 */
import { invalidRequest } from '../errors';
import {
  checkKnownParameters,
  objectBody,
  REPLY_PRIMING_TOKENS,
  serviceTierFactor,
  type Body,
} from './fields';
import { responsesUsageOfJson } from './json-usage';
import { promptTokensOf } from './prompt-size';
import { moderationInput, namedObjects, promptSize } from './responses';
import type { EndpointSpec, PrepareInput, PreparedCall } from './spec';

/** The parameters of OpenAI's `POST /v1/responses/compact` (the SDK's `ResponseCompactParams`). */
const KNOWN_PARAMETERS: ReadonlySet<string> = new Set([
  'input',
  'instructions',
  'model',
  'previous_response_id',
  'prompt_cache_key',
  'prompt_cache_options',
  'prompt_cache_retention',
  'service_tier',
]);

function prepare({ policy, client, body: raw }: PrepareInput): PreparedCall {
  const body: Body = objectBody(raw);
  checkKnownParameters(body, KNOWN_PARAMETERS, policy.config.limits);
  if (body.stream !== undefined && body.stream !== false)
    throw invalidRequest("'stream' is not available on a compaction.", 'stream', 'unsupported_parameter');
  const { requestedModel, model } = policy.models.resolve(client, body.model);
  const limits = policy.config.limits;
  const size = promptSize(body, limits.maxTokens);
  const priceFactor = serviceTierFactor(body, client.serviceTiers, policy.config.models[model]);
  return {
    spec: responsesCompact,
    requestedModel,
    model,
    body: { ...body, model },
    stream: false,
    callerWantsUsage: true,
    promptTokens:
      promptTokensOf(size, { name: model, price: policy.config.models[model] }) + REPLY_PRIMING_TOKENS,
    completionTokens: limits.maxTokens,
    deterministic: false,
    objects: { names: namedObjects(body) },
    ...(size.audio ? { audio: true } : {}),
    ...(priceFactor === 1 ? {} : { priceFactor }),
  };
}

export const responsesCompact: EndpointSpec = {
  name: 'responses-compact',
  family: 'responses',
  route: '/v1/responses/compact',
  upstreamPath: '/responses/compact',
  knownParameters: KNOWN_PARAMETERS,
  prepare,
  usageOfJson: responsesUsageOfJson,
  moderationInput,
};
