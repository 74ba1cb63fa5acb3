import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { APIError, toFile } from 'openai';
import { BatchMetric } from '../../runtime/metric-names';
import { nanosToUsd } from '../../runtime/pricing';
import { s3Sdk } from '../shared/aws-sdk';
import { describeFailure } from '../shared/failure';
import type { BatchContext } from './context';
import { INPUT_PREFIX, outputKey } from './events';
import { jobKey } from './jobs';
import { BATCH_ENDPOINT, BATCH_PRICE_FACTOR, validateBatchInput } from './validate';

/** Largest input file read into memory. OpenAI allows 200 MB; a Lambda function has less to spare. */
export const MAX_INPUT_BYTES = 100 * 1024 * 1024;

export type SubmitOutcome = 'submitted' | 'duplicate' | 'rejected' | 'ignored' | 'unknown';

/** A submission failed before anything was created at OpenAI; the event may be retried safely. */
export class RetryableSubmitError extends Error {
  override readonly name = 'RetryableSubmitError';
}

/**
 * Validates one input file and submits it to OpenAI's Batch API, at most once per object version.
 * Throws RetryableSubmitError only when a retry cannot create a second batch.
 */
export async function submitInputFile(
  ctx: BatchContext,
  bucket: string,
  key: string,
  eventEtag?: string,
): Promise<SubmitOutcome> {
  const { logger, metrics, jobs } = ctx;
  if (bucket !== ctx.bucket || !key.startsWith(INPUT_PREFIX) || key.endsWith('/')) {
    logger.warn('ignoring an object outside the batch input prefix', { bucket, key });
    return 'ignored';
  }
  const config = ctx.config();
  const s3 = await ctx.s3();
  const { GetObjectCommand, HeadObjectCommand } = s3Sdk();
  const etag =
    eventEtag ?? (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ETag ?? 'none';
  const pk = jobKey(key, etag);
  const existing = await jobs.claim(pk, key, ctx.clock());
  if (existing) {
    logger.info('input file already claimed; not submitting again', { key, status: existing.status });
    return 'duplicate';
  }

  let text: string;
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if ((object.ContentLength ?? 0) > MAX_INPUT_BYTES) {
      return await reject(ctx, pk, key, [
        { line: 0, message: `the file is larger than ${MAX_INPUT_BYTES} bytes` },
      ]);
    }
    text = (await object.Body?.transformToString('utf8')) ?? '';
  } catch (err) {
    await jobs.update(pk, 'submit_failed', ctx.clock(), { error: (err as Error)?.name ?? 'Error' });
    throw new RetryableSubmitError(`could not read s3://${bucket}/${key}: ${(err as Error)?.message}`, {
      cause: err,
    });
  }

  const validation = validateBatchInput(text, config);
  if (!validation.ok) return await reject(ctx, pk, key, validation.errors);

  const client = await ctx.openai();
  let inputFileId: string;
  try {
    const fileName = key.slice(key.lastIndexOf('/') + 1) || 'batch.jsonl';
    const file = await client.files.create({
      file: await toFile(Buffer.from(validation.lines.join('\n') + '\n', 'utf8'), fileName, {
        type: 'application/jsonl',
      }),
      purpose: 'batch',
    });
    inputFileId = file.id;
  } catch (err) {
    // No batch exists yet: a retry is safe.
    await jobs.update(pk, 'submit_failed', ctx.clock(), { error: describeFailure(err).cause });
    throw new RetryableSubmitError(`could not upload the batch input file: ${(err as Error)?.message}`, {
      cause: err,
    });
  }

  let batchId: string;
  try {
    const batch = await client.batches.create({
      input_file_id: inputFileId,
      endpoint: BATCH_ENDPOINT,
      completion_window: '24h',
      metadata: { source: key.slice(-500) },
    });
    batchId = batch.id;
  } catch (err) {
    const failure = describeFailure(err);
    const status = err instanceof APIError ? err.status : undefined;
    if (status === 400 || status === 404 || status === 422) {
      return await reject(ctx, pk, key, [
        { line: 0, message: `OpenAI refused the batch: ${failure.detail}` },
      ]);
    }
    if (status === 401 || status === 403 || status === 429) {
      await jobs.update(pk, 'submit_failed', ctx.clock(), { error: failure.cause });
      throw new RetryableSubmitError(`OpenAI did not create the batch (${status}); retrying is safe`, {
        cause: err,
      });
    }
    // A 5xx or a lost connection may have created the batch anyway: never risk a second one.
    await jobs.update(pk, 'submit_unknown', ctx.clock(), { error: failure.cause, inputFileId });
    metrics.addMetric(BatchMetric.failed, MetricUnit.Count, 1);
    logger.error(
      'batch creation outcome unknown; not retrying. Check the OpenAI batches list and resubmit by hand',
      {
        key,
        inputFileId,
        ...failure,
      },
    );
    return 'unknown';
  }

  await jobs.update(pk, 'submitted', ctx.clock(), {
    batchId,
    inputFileId,
    model: validation.model,
    requests: validation.requests,
  });
  metrics.addMetric(BatchMetric.submitted, MetricUnit.Count, 1);
  logger.info('batch submitted', {
    key,
    batchId,
    model: validation.model,
    requests: validation.requests,
    worstCaseCostUsd: nanosToUsd(validation.worstCaseCostNanos),
    priceFactor: BATCH_PRICE_FACTOR,
  });
  return 'submitted';
}

async function reject(
  ctx: BatchContext,
  pk: string,
  key: string,
  errors: ReadonlyArray<{ line: number; message: string }>,
): Promise<'rejected'> {
  const reportKey = outputKey(key, 'rejected.json');
  const { PutObjectCommand } = s3Sdk();
  await (
    await ctx.s3()
  ).send(
    new PutObjectCommand({
      Bucket: ctx.bucket,
      Key: reportKey,
      Body: JSON.stringify({ input: key, errors }, null, 2),
      ContentType: 'application/json',
    }),
  );
  await ctx.jobs.update(pk, 'rejected', ctx.clock(), { errors: errors.length, report: reportKey });
  ctx.metrics.addMetric(BatchMetric.rejected, MetricUnit.Count, 1);
  ctx.logger.warn('batch input rejected', {
    key,
    errors: errors.length,
    firstError: errors[0],
    report: reportKey,
  });
  return 'rejected';
}
