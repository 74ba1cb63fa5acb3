import OpenAI from 'openai';
import { HandlerEnv } from './handler-env';
import { SecretField } from './secret-fields';

/** Which OpenAI credential a client carries. */
export type OpenAIKeyKind = 'project' | 'admin';

/** OpenAI's public endpoint; `OPENAI_BASE_URL` replaces it (a fake upstream in tests, a proxy). */
export const DEFAULT_OPENAI_BASE_URL = 'https://api.openai.com/v1';

export interface OpenAIKeyOptions {
  /** Skip the Parameters cache, e.g. after a 401 to a key that may have been rotated. @default false */
  readonly forceFetch?: boolean;
}

/**
 * The key of `kind`: from `OPENAI_API_KEY` / `OPENAI_ADMIN_KEY` when set (local runs, `npm run invoke`),
 * otherwise from the Secrets Manager secret named by `OPENAI_API_KEY_SECRET_ARN` /
 * `OPENAI_ADMIN_KEY_SECRET_ARN`, cached by Powertools Parameters. This is the one place that switch lives.
 * @throws SecretUnavailableError when neither is configured or the secret cannot be read
 */
export async function resolveOpenAIKey(kind: OpenAIKeyKind, options: OpenAIKeyOptions = {}): Promise<string> {
  const localVar = kind === 'admin' ? HandlerEnv.openaiAdminKey : HandlerEnv.openaiApiKey;
  const arnVar = kind === 'admin' ? HandlerEnv.openaiAdminKeySecretArn : HandlerEnv.openaiApiKeySecretArn;
  // SecretField.adminKey / SecretField.apiKey, spelled out so this module does not load ./secrets eagerly.
  const field = kind === 'admin' ? SecretField.adminKey : SecretField.apiKey;
  const local = process.env[localVar];
  if (local) return local;
  // Loaded on first use: it brings the Secrets Manager client, which a local run never needs.
  const { readSecretField, SecretUnavailableError } = await import('./secrets');
  const arn = process.env[arnVar];
  if (!arn) throw new SecretUnavailableError(`neither ${arnVar} nor ${localVar} is set`);
  return readSecretField(arn, field, { forceFetch: options.forceFetch ?? false });
}

export interface OpenAIClientOptions extends OpenAIKeyOptions {
  /** Credential the client sends. @default 'project' */
  readonly kind?: OpenAIKeyKind;
  /** Use this key instead of resolving one, e.g. the pending key under test during rotation. */
  readonly apiKey?: string;
  /** Time allowed per request (for streams: until the response headers). @default 30000 */
  readonly timeoutMs?: number;
  /** SDK retries of 408/409/429/5xx and connection errors, with backoff and `Retry-After`. @default 2 */
  readonly maxRetries?: number;
  /** Send the stage's `OpenAI-Project` header. Admin calls name the project in the path instead. @default kind === 'project' */
  readonly sendProjectHeader?: boolean;
}

/**
 * The official `openai` SDK client for the handlers, with the stage's base URL and
 * `OpenAI-Organization` / `OpenAI-Project` headers. Every option is passed explicitly so the SDK's own
 * environment defaults (`OPENAI_ORG_ID`, `OPENAI_PROJECT_ID`, ...) cannot leak in.
 */
export async function createOpenAIClient(options: OpenAIClientOptions = {}): Promise<OpenAI> {
  const kind = options.kind ?? 'project';
  const key = options.apiKey ?? (await resolveOpenAIKey(kind, options));
  const sendProject = options.sendProjectHeader ?? kind === 'project';
  return new OpenAI({
    apiKey: kind === 'project' ? key : null,
    adminAPIKey: kind === 'admin' ? key : null,
    baseURL: process.env[HandlerEnv.openaiBaseUrl] || DEFAULT_OPENAI_BASE_URL,
    organization: process.env[HandlerEnv.openaiOrganization] || null,
    project: (sendProject && process.env[HandlerEnv.openaiProject]) || null,
    webhookSecret: null,
    timeout: options.timeoutMs ?? 30_000,
    maxRetries: options.maxRetries ?? 2,
  });
}
