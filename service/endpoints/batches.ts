/**
 * The Batch API's create body (`BatchCreateParams` in the openai SDK): `input_file_id` (a file the
 * caller owns), `endpoint` (one the gateway has a spec for and the client may call), `completion_window`
 * (`24h`, the only one OpenAI offers), optional `metadata` and `output_expires_after`.
 */
import type { ClientConfig, GatewayConfig } from '../../runtime/gateway-config';
import { invalidRequest } from '../errors';
import { checkKnownParameters, objectBody, type Body } from './fields';
import { specForRoute } from './index';
import { allowsFamily } from './model-access';

const CREATE_PARAMETERS = new Set([
  'input_file_id',
  'endpoint',
  'completion_window',
  'metadata',
  'output_expires_after',
]);

/** A create body that passed its checks. */
export interface PreparedBatchCreate {
  readonly inputFileId: string;
  /** The endpoint every line calls, e.g. `/v1/chat/completions`. */
  readonly endpoint: string;
  /** The body to send upstream, less `input_file_id` (the gateway's validated copy replaces it). */
  readonly rest: Body;
}

/** @throws GatewayError 400 naming the param at fault */
export function prepareBatchCreate(
  raw: unknown,
  client: ClientConfig,
  limits: GatewayConfig['limits'],
): PreparedBatchCreate {
  const body = objectBody(raw);
  checkKnownParameters(body, CREATE_PARAMETERS, limits);
  const { input_file_id: inputFileId, endpoint, completion_window: window, ...others } = body;
  if (typeof inputFileId !== 'string' || inputFileId.length === 0) {
    throw invalidRequest("Missing required parameter: 'input_file_id'.", 'input_file_id');
  }
  const spec = typeof endpoint === 'string' ? specForRoute(endpoint) : undefined;
  if (spec === undefined || !allowsFamily(client, spec.family)) {
    throw invalidRequest(
      `Invalid value for 'endpoint': ${JSON.stringify(endpoint ?? null)} is not an endpoint this application may batch.`,
      'endpoint',
      'invalid_value',
    );
  }
  if (window !== '24h') {
    throw invalidRequest(
      "Invalid value for 'completion_window': expected '24h'.",
      'completion_window',
      'invalid_value',
    );
  }
  return {
    inputFileId,
    endpoint: spec.route,
    rest: { ...others, endpoint: spec.route, completion_window: window },
  };
}
