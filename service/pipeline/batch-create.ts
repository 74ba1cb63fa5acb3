/**
 * `POST /v1/batches`: the body's rules -> the input file must be the caller's -> its content read from
 * upstream and every line prepared by the same endpoint spec the live path uses (`validateBatchInput`,
 * shared with the batch handler), a line the live path would refuse answered 400 with its line number
 * -> the worst case reserved against both budgets at the batch price (a refusal creates nothing
 * upstream) -> the lines as the gateway would send them uploaded as a new input file (aliases resolved,
 * output caps applied, the safety identifier set: upstream runs exactly what was priced) -> the batch
 * created, recorded as the caller's and as pending, so its reservation is held until it is settled at
 * its terminal status (`batch-settlement.ts`). Never throws.
 */
import { Readable } from 'node:stream';
import { validateBatchInput, type LineError } from '../../lambda/batch/validate';
import type { ClientConfig } from '../../runtime/gateway-config';
import { prepareBatchCreate } from '../endpoints/batches';
import { invalidRequest } from '../errors';
import { noAttempts, type AttemptCounts } from '../upstream/client';
import { mapUpstreamError, upstreamStatusError } from '../upstream/errors';
import { reserveCost, type ReservedCost } from './admit';
import type { CallerResponse } from './caller-response';
import { NOTHING_METERED } from './metering';
import type { CallResult, PipelineDeps } from './model-call';
import { multipartBody } from './multipart-relay';
import { ownedBy } from './objects';
import { parseJsonObject } from '../../runtime/json';
import { recordOwnedAnswer } from './owned-answers';
import { readCapped } from './relay-json';

/** Largest batch input file the gateway reads to validate: OpenAI's 200 MB. */
export const MAX_BATCH_INPUT_BYTES = 200 * 1024 * 1024;

export interface BatchCreateInput {
  readonly client: ClientConfig;
  /** The parsed JSON body. */
  readonly body: unknown;
  readonly response: CallerResponse;
}

export async function runBatchCreate(deps: PipelineDeps, input: BatchCreateInput): Promise<CallResult> {
  const attempts = noAttempts();
  const trace = { metered: NOTHING_METERED, budgetExceeded: false, attempts };
  let reserved: ReservedCost | undefined;
  /** Set once the create is sent: an attempt left unanswered since then may have created the batch. */
  let unansweredBefore: number | undefined;
  let createMayHaveRun = false;
  let headers: Record<string, string> = {};
  try {
    const create = prepareBatchCreate(input.body, input.client, deps.config.limits);
    await ownedBy(deps.store.owners, input.client.id, {
      kind: 'file',
      id: create.inputFileId,
      param: 'input_file_id',
    });
    const text = await readInputFile(deps, create.inputFileId, input.response.signal);
    const validation = validateBatchInput(text, deps.config, {
      endpoint: create.endpoint,
      caller: input.client,
      policy: deps.policy,
    });
    if (!validation.ok) throw lineRefusal(validation.errors[0]);
    reserved = await reserveCost({
      limits: deps.limits,
      store: deps.store,
      client: input.client,
      costNanos: validation.worstCaseCostNanos,
    });
    headers = reserved.headers;
    const fileId = await uploadLines(deps, input, validation.lines, attempts);
    unansweredBefore = attempts.unanswered;
    const up = await deps.upstream.send({
      path: '/batches',
      payload: JSON.stringify({ ...create.rest, input_file_id: fileId }),
      signal: input.response.signal,
      attempts,
    });
    createMayHaveRun = up.status === 200;
    const answer = await recordOwnedAnswer(deps, { clientId: input.client.id, kind: 'batch', up });
    const batchId = up.status === 200 ? parseJsonObject(answer)?.id : undefined;
    if (typeof batchId !== 'string') throw upstreamStatusError(up.status, answer);
    await holdReservation(deps, batchId, { clientId: input.client.id, model: validation.model, reserved });
    reserved = undefined;
    input.response.send({ status: 200, headers, contentType: 'json', body: answer });
    return { trace: { ...trace, upstreamMs: up.headersMs } };
  } catch (error) {
    // Refused before a batch could exist: the reservation is given back whole. A create that may have
    // run unseen (cut off, timed out) keeps its worst case: nothing tracks what it will bill.
    if (unansweredBefore !== undefined && attempts.unanswered > unansweredBefore) createMayHaveRun = true;
    reserved?.reservation.settle(
      createMayHaveRun
        ? { metered: { ...NOTHING_METERED, costNanos: reserved.reservation.ticket.costNanos } }
        : { metered: NOTHING_METERED },
    );
    const budgetExceeded = (error as { type?: string }).type === 'insufficient_quota';
    return { trace: { ...trace, budgetExceeded }, error: mapUpstreamError(error), headers };
  }
}

/** `Line N of the input file: ...` for the first refused line, with the live path's param and code. */
function lineRefusal(error: LineError) {
  const where = error.line === 0 ? 'The input file' : `Line ${error.line} of the input file`;
  return invalidRequest(`${where}: ${error.message}`, error.param ?? 'input_file_id', error.code ?? null);
}

/** The input file's text. @throws GatewayError 400 past MAX_BATCH_INPUT_BYTES, upstream's error otherwise */
async function readInputFile(deps: PipelineDeps, fileId: string, signal: AbortSignal): Promise<string> {
  const up = await deps.upstream.send({ method: 'GET', path: `/files/${fileId}/content`, signal });
  const text = await readCapped(up.body, MAX_BATCH_INPUT_BYTES).catch(() => {
    throw invalidRequest(`The input file is larger than ${MAX_BATCH_INPUT_BYTES} bytes.`, 'input_file_id');
  });
  if (up.status !== 200) throw upstreamStatusError(up.status, text);
  return text;
}

/** Uploads the prepared lines as a `batch` file, the caller's. @returns its id */
async function uploadLines(
  deps: PipelineDeps,
  input: BatchCreateInput,
  lines: readonly string[],
  attempts: AttemptCounts,
): Promise<string> {
  const { body, contentType } = multipartBody(
    { purpose: 'batch' },
    {
      field: 'file',
      filename: 'batch-input.jsonl',
      contentType: 'application/jsonl',
      content: Buffer.from(lines.join('\n') + '\n'),
    },
  );
  const up = await deps.upstream.send({
    path: '/files',
    streamed: { body: Readable.from([body]), contentType, contentLength: body.length, started: () => true },
    signal: input.response.signal,
    attempts,
  });
  const text = await recordOwnedAnswer(deps, { clientId: input.client.id, kind: 'file', up });
  const id = up.status === 200 ? parseJsonObject(text)?.id : undefined;
  if (typeof id !== 'string') throw upstreamStatusError(up.status, text);
  return id;
}

/**
 * The batch exists: its reservation stays held, recorded as pending for whichever replica sees it end.
 * A record the store cannot write leaves the reservation held (over-counted, never under).
 */
async function holdReservation(
  deps: PipelineDeps,
  batchId: string,
  pending: { readonly clientId: string; readonly model: string; readonly reserved: ReservedCost },
): Promise<void> {
  await deps.store.batches
    .hold({
      id: batchId,
      clientId: pending.clientId,
      model: pending.model,
      ticket: pending.reserved.reservation.ticket,
      heldAt: Date.now(),
    })
    .catch(() => undefined);
}
