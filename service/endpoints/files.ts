/**
 * The Files API's rules for an upload (`POST /v1/files`), as OpenAI states them: a `file` part, a
 * `purpose` from OpenAI's list, and an optional `expires_after` (`anchor` `created_at`, `seconds` from
 * one hour to 30 days). The multipart relay checks them once the body has passed, before its end goes
 * upstream.
 */
import type { GatewayConfig } from '../../runtime/gateway-config';
import { invalidRequest } from '../errors';
import type { MultipartParts } from '../pipeline/multipart-relay';

/** The purposes OpenAI accepts for an upload (`FilePurpose` in the openai SDK). */
export const FILE_PURPOSES = ['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals'] as const;

/** The form fields of an upload; the SDK sends `expires_after` as `expires_after[anchor]` and `[seconds]`. */
const UPLOAD_FIELDS = new Set(['file', 'purpose', 'expires_after[anchor]', 'expires_after[seconds]']);

/** OpenAI's bounds on `expires_after.seconds`: one hour to 30 days. */
const EXPIRY_SECONDS = { min: 3_600, max: 2_592_000 } as const;

/** @throws GatewayError 400 naming the field at fault */
export function validateFileUpload(parts: MultipartParts, limits: GatewayConfig['limits']): void {
  const files = parts.files.filter((f) => f.field === 'file');
  if (files.length !== 1 || parts.fields.has('file')) {
    throw invalidRequest("'file' must be exactly one uploaded file.", 'file');
  }
  const purpose = parts.fields.get('purpose');
  if (purpose === undefined) throw invalidRequest("Missing required parameter: 'purpose'.", 'purpose');
  if (!(FILE_PURPOSES as readonly string[]).includes(purpose)) {
    throw invalidRequest(
      `Invalid value for 'purpose': '${purpose}'. Supported values are: ${FILE_PURPOSES.map((p) => `'${p}'`).join(', ')}.`,
      'purpose',
      'invalid_value',
    );
  }
  checkExpiry(parts.fields);
  if (limits.strictParameters) {
    const names = [...parts.fields.keys(), ...parts.files.map((f) => f.field)];
    const unknown = names.find((name) => !UPLOAD_FIELDS.has(name));
    if (unknown !== undefined) {
      throw invalidRequest(`Unknown parameter: '${unknown}'.`, unknown, 'unknown_parameter');
    }
  }
}

function checkExpiry(fields: ReadonlyMap<string, string>): void {
  const anchor = fields.get('expires_after[anchor]');
  const seconds = fields.get('expires_after[seconds]');
  if (anchor === undefined && seconds === undefined) return;
  if (anchor !== 'created_at') {
    throw invalidRequest(
      "Invalid value for 'expires_after.anchor': expected 'created_at'.",
      'expires_after.anchor',
    );
  }
  const n = Number(seconds);
  if (seconds === undefined || !Number.isInteger(n) || n < EXPIRY_SECONDS.min || n > EXPIRY_SECONDS.max) {
    throw invalidRequest(
      `Invalid 'expires_after.seconds': expected an integer between ${EXPIRY_SECONDS.min} and ${EXPIRY_SECONDS.max}.`,
      'expires_after.seconds',
    );
  }
}
