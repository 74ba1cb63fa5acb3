import { resolveModel, type GatewayConfig } from '../../runtime/gateway-config';
import { worstCaseCostNanos } from '../../runtime/pricing';

/** The one endpoint batch files may target: the gateway serves chat completions, so batches do too. */
export const BATCH_ENDPOINT = '/v1/chat/completions';
/** OpenAI's limit on requests in one batch file. */
export const MAX_BATCH_REQUESTS = 50_000;
/** The Batch API charges half the model's price. */
export const BATCH_PRICE_FACTOR = 0.5;
/** Errors reported per rejected file: enough to fix it, small enough for one S3 object and log line. */
const MAX_REPORTED_ERRORS = 50;

export interface LineError {
  /** 1-based line number in the input file. */
  readonly line: number;
  readonly message: string;
}

export type BatchValidation =
  | {
      readonly ok: true;
      /** The lines to upload: aliases resolved to real models and the default `max_completion_tokens` applied. */
      readonly lines: readonly string[];
      readonly model: string;
      readonly requests: number;
      /** Most the batch can cost at batch (half) price, nano-dollars. */
      readonly worstCaseCostNanos: number;
    }
  | { readonly ok: false; readonly errors: readonly LineError[] };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isPositiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1;

/**
 * Validates a JSONL batch input file against the gateway's models and request limits, the same ones a
 * caller of the gateway meets, and returns the lines to submit. Every line must be a chat completion
 * request for the same model (OpenAI's rule for one batch).
 */
export function validateBatchInput(text: string, config: GatewayConfig): BatchValidation {
  const errors: LineError[] = [];
  const lines: string[] = [];
  const customIds = new Set<string>();
  let model: string | undefined;
  let worstCase = 0;
  const rawLines = text.split('\n');
  for (let i = 0; i < rawLines.length && errors.length < MAX_REPORTED_ERRORS; i++) {
    const raw = rawLines[i].trim();
    if (raw.length === 0) continue;
    const line = i + 1;
    const fail = (message: string) => errors.push({ line, message });
    if (Buffer.byteLength(raw) > config.limits.maxBodyBytes) {
      fail(`is ${Buffer.byteLength(raw)} bytes; the limit is ${config.limits.maxBodyBytes}`);
      continue;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      fail('is not valid JSON');
      continue;
    }
    if (!isObject(parsed)) {
      fail('must be a JSON object');
      continue;
    }
    const { custom_id: customId, method, url, body } = parsed;
    if (typeof customId !== 'string' || customId.length === 0 || customId.length > 512) {
      fail('custom_id must be a non-empty string of at most 512 characters');
      continue;
    }
    if (customIds.has(customId)) {
      fail(`custom_id "${customId}" repeats an earlier line`);
      continue;
    }
    customIds.add(customId);
    if (method !== 'POST') fail('method must be "POST"');
    if (url !== BATCH_ENDPOINT) fail(`url must be "${BATCH_ENDPOINT}"`);
    if (!isObject(body)) {
      fail('body must be an object');
      continue;
    }
    const checked = checkBody(body, config, fail);
    if (!checked) continue;
    if (model !== undefined && checked.model !== model) {
      fail(`uses model "${checked.model}", but earlier lines use "${model}" (one model per batch)`);
      continue;
    }
    model = checked.model;
    worstCase += checked.worstCaseNanos;
    lines.push(
      JSON.stringify({ custom_id: customId, method: 'POST', url: BATCH_ENDPOINT, body: checked.body }),
    );
  }
  if (errors.length === 0 && lines.length === 0)
    errors.push({ line: 0, message: 'the file has no requests' });
  if (lines.length > MAX_BATCH_REQUESTS) {
    errors.push({
      line: 0,
      message: `has ${lines.length} requests; a batch allows at most ${MAX_BATCH_REQUESTS}`,
    });
  }
  if (errors.length > 0 || model === undefined) return { ok: false, errors };
  return { ok: true, lines, model, requests: lines.length, worstCaseCostNanos: Math.ceil(worstCase) };
}

interface CheckedBody {
  readonly body: Record<string, unknown>;
  readonly model: string;
  readonly worstCaseNanos: number;
}

function checkBody(
  body: Record<string, unknown>,
  config: GatewayConfig,
  fail: (message: string) => void,
): CheckedBody | undefined {
  const { limits } = config;
  let ok = true;
  const problem = (message: string) => {
    ok = false;
    fail(message);
  };
  const requested = typeof body.model === 'string' ? body.model : undefined;
  const model = requested === undefined ? undefined : resolveModel(config, requested);
  if (requested === undefined) problem('body.model must be a string');
  else if (model === undefined)
    problem(`body.model "${requested}" is not a model or alias this stage offers`);
  if (!Array.isArray(body.messages) || body.messages.length === 0)
    problem('body.messages must be a non-empty array');
  if (body.stream === true) problem('body.stream is not allowed in a batch');
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (maxTokens !== undefined && (!isPositiveInt(maxTokens) || maxTokens > limits.maxTokens)) {
    problem(`body.max_completion_tokens must be an integer from 1 to ${limits.maxTokens}`);
  }
  if (body.n !== undefined && (!isPositiveInt(body.n) || body.n > limits.maxN)) {
    problem(`body.n must be an integer from 1 to ${limits.maxN}`);
  }
  if (body.stop !== undefined && body.stop !== null) {
    const stops = typeof body.stop === 'string' ? [body.stop] : body.stop;
    if (!Array.isArray(stops) || stops.some((s) => typeof s !== 'string'))
      problem('body.stop must be a string or an array of strings');
    else if (stops.length > limits.maxStopSequences)
      problem(`body.stop allows at most ${limits.maxStopSequences} sequences`);
  }
  if (!ok || model === undefined) return undefined;

  const completionTokens = (maxTokens as number | undefined) ?? limits.defaultMaxTokens;
  const out: Record<string, unknown> = { ...body, model };
  if (maxTokens === undefined) out.max_completion_tokens = limits.defaultMaxTokens;
  // A rough prompt estimate (4 characters a token) is enough for a worst-case figure in a log line.
  const promptTokens = Math.ceil(JSON.stringify(body.messages).length / 4);
  const n = (body.n as number | undefined) ?? 1;
  const worstCaseNanos =
    worstCaseCostNanos(config.models[model], promptTokens, completionTokens * n) * BATCH_PRICE_FACTOR;
  return { body: out, model, worstCaseNanos };
}
