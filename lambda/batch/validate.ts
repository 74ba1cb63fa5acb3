/**
 * Validates a JSONL batch input file with the gateway's own endpoint spec, so a line the gateway would
 * refuse is refused here with the same message (and the reverse), and returns the lines to submit as
 * the gateway would send them upstream: aliases resolved, the default output cap applied, the safety
 * identifier set. What is particular to a batch is checked here: the line's envelope, no streaming, one
 * model per file (OpenAI's rule), and the file's size. The gateway's `POST /v1/batches` validates a
 * caller's input file with this same function, for the endpoint the batch names and as that caller.
 */
import { isJsonObject as isObject } from '../../runtime/json';
import type { GatewayConfig } from '../../runtime/gateway-config';
import { worstCaseCostNanos } from '../../runtime/pricing';
import {
  createRequestPolicy,
  specForRoute,
  type EndpointSpec,
  type PreparedCall,
  type RequestPolicy,
} from '../../service/endpoints';
import type { Caller } from '../../service/endpoints/spec';
import { GatewayError } from '../../service/errors';

/** The endpoint batch files target: batches run chat completions, prepared exactly as the gateway does. */
export const BATCH_ENDPOINT = '/v1/chat/completions';
/** Whose work a batch line is: the safety identifier OpenAI sees, and no client's model list applies. */
export const BATCH_CALLER: Caller = { id: 'batch' };
/** OpenAI's limit on requests in one batch file. */
export const MAX_BATCH_REQUESTS = 50_000;
/** The Batch API charges half the model's price. */
export const BATCH_PRICE_FACTOR = 0.5;
/** Errors reported per rejected file: enough to fix it, small enough for one S3 object and log line. */
const MAX_REPORTED_ERRORS = 50;

export interface LineError {
  /** 1-based line number in the input file; 0 for the file as a whole. */
  readonly line: number;
  readonly message: string;
  /** The body field at fault, as the gateway names it. */
  readonly param?: string;
  /** The live path's error code for the line, when it has one (e.g. `unknown_parameter`). */
  readonly code?: string;
}

export type BatchValidation =
  | {
      readonly ok: true;
      /** The lines to upload, as the gateway would send their bodies upstream. */
      readonly lines: readonly string[];
      readonly model: string;
      readonly requests: number;
      /** Most the batch can cost at batch (half) price, nano-dollars. */
      readonly worstCaseCostNanos: number;
    }
  | { readonly ok: false; readonly errors: readonly LineError[] };

/** What one valid line contributes. */
interface CheckedLine {
  readonly customId: string;
  readonly prepared: PreparedCall;
}

/** Whose lines these are, and which endpoint they call. */
export interface BatchInputOptions {
  /** The endpoint every line must call, prepared by its spec. @default BATCH_ENDPOINT */
  readonly endpoint?: string;
  /** Whom the lines are prepared for (model access, tiers, safety identifier). @default BATCH_CALLER */
  readonly caller?: Caller;
  /** The policy to prepare against, when the caller has one built. @default built from `config` */
  readonly policy?: RequestPolicy;
}

/** The file being read: its policy, what was found so far, and the custom ids seen. */
interface FileState {
  readonly config: GatewayConfig;
  readonly policy: RequestPolicy;
  readonly endpoint: string;
  readonly spec: EndpointSpec;
  readonly caller: Caller;
  readonly errors: LineError[];
  readonly customIds: Set<string>;
}

export function validateBatchInput(
  text: string,
  config: GatewayConfig,
  options: BatchInputOptions = {},
): BatchValidation {
  const endpoint = options.endpoint ?? BATCH_ENDPOINT;
  const spec = specForRoute(endpoint);
  if (spec === undefined) return { ok: false, errors: [{ line: 0, message: `cannot batch ${endpoint}` }] };
  const state: FileState = {
    config,
    policy: options.policy ?? createRequestPolicy(config),
    endpoint,
    spec,
    caller: options.caller ?? BATCH_CALLER,
    errors: [],
    customIds: new Set(),
  };
  const lines: string[] = [];
  let model: string | undefined;
  let worstCase = 0;
  const rawLines = text.split('\n');
  for (let i = 0; i < rawLines.length && state.errors.length < MAX_REPORTED_ERRORS; i++) {
    const raw = rawLines[i].trim();
    if (raw.length === 0) continue;
    const checked = checkLine(state, i + 1, raw);
    if (!checked) continue;
    const { prepared } = checked;
    if (model !== undefined && prepared.model !== model) {
      state.errors.push({
        line: i + 1,
        message: `uses model "${prepared.model}", but earlier lines use "${model}" (one model per batch)`,
      });
      continue;
    }
    model = prepared.model;
    worstCase += worstCaseCostNanos(config.models[model], prepared) * BATCH_PRICE_FACTOR;
    lines.push(
      JSON.stringify({
        custom_id: checked.customId,
        method: 'POST',
        url: endpoint,
        body: prepared.body,
      }),
    );
  }
  return outcome(state.errors, { lines, model, worstCase });
}

function outcome(
  errors: LineError[],
  found: { readonly lines: string[]; readonly model?: string; readonly worstCase: number },
): BatchValidation {
  if (errors.length === 0 && found.lines.length === 0)
    errors.push({ line: 0, message: 'the file has no requests' });
  if (found.lines.length > MAX_BATCH_REQUESTS) {
    errors.push({
      line: 0,
      message: `has ${found.lines.length} requests; a batch allows at most ${MAX_BATCH_REQUESTS}`,
    });
  }
  if (errors.length > 0 || found.model === undefined) return { ok: false, errors };
  const { lines, model, worstCase } = found;
  return { ok: true, lines, model, requests: lines.length, worstCaseCostNanos: Math.ceil(worstCase) };
}

/** The line's envelope, then its body through the gateway's spec. */
function checkLine(state: FileState, line: number, raw: string): CheckedLine | undefined {
  const fail = (message: string, param?: string, code?: string) => {
    state.errors.push({ line, message, ...(param ? { param } : {}), ...(code ? { code } : {}) });
    return undefined;
  };
  const maxBodyBytes = state.config.limits.maxBodyBytes;
  if (Buffer.byteLength(raw) > maxBodyBytes)
    return fail(`is ${Buffer.byteLength(raw)} bytes; the limit is ${maxBodyBytes}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return fail('is not valid JSON');
  }
  if (!isObject(parsed)) return fail('must be a JSON object');
  const { custom_id: customId, method, url, body } = parsed;
  if (typeof customId !== 'string' || customId.length === 0 || customId.length > 512) {
    return fail('custom_id must be a non-empty string of at most 512 characters');
  }
  if (state.customIds.has(customId)) return fail(`custom_id "${customId}" repeats an earlier line`);
  state.customIds.add(customId);
  if (method !== 'POST') return fail('method must be "POST"');
  if (url !== state.endpoint) return fail(`url must be "${state.endpoint}"`);
  try {
    const prepared = state.spec.prepare({ policy: state.policy, client: state.caller, body });
    if (prepared.stream) return fail("'stream' is not allowed in a batch.", 'stream');
    return { customId, prepared };
  } catch (err) {
    if (err instanceof GatewayError) return fail(err.message, err.param ?? undefined, err.code ?? undefined);
    throw err;
  }
}
