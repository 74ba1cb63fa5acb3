import { getSecret } from '@aws-lambda-powertools/parameters/secrets';

export { SecretField } from './secret-fields';

/** A secret could not be read or holds no usable value. The message never contains the value. */
export class SecretUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SecretUnavailableError';
  }
}

export interface ReadSecretOptions {
  /** Bypass the cache, e.g. after the upstream answered 401 to a key that may have been rotated. @default false */
  readonly forceFetch?: boolean;
  /** How long a value is reused before Secrets Manager is asked again. @default 300 */
  readonly maxAgeSeconds?: number;
}

/**
 * Reads one field of a Secrets Manager secret through Powertools Parameters (cached per process).
 * The secret may hold the value as a plain string, or JSON with the value under `field`
 * (`{"apiKey": "sk-..."}`), which is how the rotation handler writes it.
 */
export async function readSecretField(
  arn: string,
  field: string,
  options: ReadSecretOptions = {},
): Promise<string> {
  let raw: string | Uint8Array | undefined;
  try {
    raw = await getSecret(arn, {
      maxAge: options.maxAgeSeconds ?? 300,
      forceFetch: options.forceFetch ?? false,
    });
  } catch (err) {
    // Powertools wraps the SDK error (GetParameterError); the SDK's own name says what is wrong.
    const name = rootCauseName(err);
    throw new SecretUnavailableError(`could not read secret ${arn} (${name}); has a value been put in it?`, {
      cause: err,
    });
  }
  const text = typeof raw === 'string' ? raw : raw ? Buffer.from(raw).toString('utf8') : '';
  return secretField(text, field, arn);
}

function rootCauseName(err: unknown): string {
  let current = err;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.name : 'Error';
}

/** Extracts `field` from a secret string that is either the plain value or a JSON object holding it. */
export function secretField(text: string, field: string, arn = 'secret'): string {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new SecretUnavailableError(`${arn} looks like JSON but does not parse`);
    }
    const value = (parsed as Record<string, unknown>)[field];
    if (typeof value !== 'string' || value.length === 0) {
      throw new SecretUnavailableError(`${arn} has no non-empty string field "${field}"`);
    }
    return value;
  }
  if (trimmed.length === 0) throw new SecretUnavailableError(`${arn} is empty`);
  return trimmed;
}
