/** Anything thrown while serving a request, as the OpenAI-shaped error the caller receives. */
import {
  bodyTooLarge,
  callerClosed,
  GatewayError,
  internalError,
  invalidRequest,
  unparsableJson,
  unsupportedMediaType,
} from '../errors';
import { isCallerAbort } from '../upstream/errors';

export function toGatewayError(err: unknown, maxBodyBytes: number): GatewayError {
  if (err instanceof GatewayError) return err;
  const e = (err ?? {}) as { code?: string; statusCode?: number };
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return bodyTooLarge(maxBodyBytes);
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return unsupportedMediaType();
  if (e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY')
    return invalidRequest('The request body is empty; send a JSON object.');
  if (e.statusCode === 400 || err instanceof SyntaxError) return unparsableJson();
  if (isCallerAbort(err)) return callerClosed();
  return internalError();
}
