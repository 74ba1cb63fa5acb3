/**
 * Where the upstream API key comes from: `OPENAI_API_KEY` for local runs, or the Secrets Manager secret
 * named by `OPENAI_API_KEY_SECRET_ARN` on AWS (through runtime/secrets, cached). `refresh()` bypasses every
 * cache; the upstream client calls it once after a 401, so a rotated key is picked up without a restart.
 */
import { systemClock, type Clock } from '../../runtime/clock';
import type { readSecretField } from '../../runtime/secrets';
import { SecretField } from '../../runtime/secret-fields';

export interface UpstreamKeyProvider {
  /** The current key (cached). */
  get(): Promise<string>;
  /** Reads the key again from its source, skipping caches. */
  refresh(): Promise<string>;
}

export function staticKey(key: string): UpstreamKeyProvider {
  return { get: async () => key, refresh: async () => key };
}

export interface SecretKeyOptions {
  /** Reuse the value this long before reading the secret again, ms. @default 300000 */
  readonly maxAgeMs?: number;
  /** Secret reader, replaceable in tests. @default runtime/secrets readSecretField */
  readonly read?: typeof readSecretField;
  /** Measures the age of the cached value. @default systemClock */
  readonly clock?: Clock;
}

/**
 * runtime/secrets loaded on first use: it pulls in the AWS SDK, which a local run (and its memory
 * footprint) never needs.
 */
export const readSecretFieldLazily: typeof readSecretField = async (arn, field, options) =>
  (await import('../../runtime/secrets')).readSecretField(arn, field, options);

export function secretKey(arn: string, options: SecretKeyOptions = {}): UpstreamKeyProvider {
  const read = options.read ?? readSecretFieldLazily;
  const maxAgeMs = options.maxAgeMs ?? 300_000;
  const clock = options.clock ?? systemClock;
  let cached: { value: string; at: number } | undefined;
  let inflight: Promise<string> | undefined;

  const load = (forceFetch: boolean): Promise<string> => {
    // Concurrent callers share one read; a failed read is not cached.
    inflight ??= read(arn, SecretField.apiKey, { forceFetch })
      .then((value) => {
        cached = { value, at: clock() };
        return value;
      })
      .finally(() => (inflight = undefined));
    return inflight;
  };

  return {
    get: async () => (cached && clock() - cached.at < maxAgeMs ? cached.value : load(false)),
    refresh: () => load(true),
  };
}
