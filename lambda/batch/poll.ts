import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type OpenAI from 'openai';
import { BatchMetric } from '../../runtime/metric-names';
import { costNanos, nanosToUsd, readUsage } from '../../runtime/pricing';
import { s3Sdk } from '../shared/aws-sdk';
import { describeFailure } from '../shared/failure';
import type { BatchContext } from './context';
import { outputKey } from './events';
import type { BatchJob } from './jobs';
import { BATCH_PRICE_FACTOR } from './validate';

/** Batch statuses after which nothing changes. */
const FINISHED = new Set(['completed', 'failed', 'expired', 'cancelled']);

export interface PollSummary {
  /** Jobs still running at OpenAI. */
  readonly running: number;
  readonly completed: number;
  readonly failed: number;
  /** Jobs whose status could not be read this time; the next poll tries again. */
  readonly errors: number;
}

/** Collects finished batches: results and errors go to `output/`, the job record to its final state. */
export async function pollBatches(ctx: BatchContext): Promise<PollSummary> {
  const { logger } = ctx;
  const jobs = await ctx.jobs.listSubmitted();
  const summary = { running: 0, completed: 0, failed: 0, errors: 0 };
  if (jobs.length === 0) return summary;
  const client = await ctx.openai();
  for (const job of jobs) {
    try {
      const outcome = await collect(ctx, client, job);
      summary[outcome]++;
    } catch (err) {
      summary.errors++;
      logger.error('could not collect batch; the next poll retries', {
        batchId: job.batchId,
        ...describeFailure(err),
      });
    }
  }
  logger.info('batch poll finished', { ...summary });
  return summary;
}

async function collect(
  ctx: BatchContext,
  client: OpenAI,
  job: BatchJob,
): Promise<'running' | 'completed' | 'failed'> {
  if (!job.batchId) throw new Error(`job ${job.pk} is submitted but has no batchId`);
  const batch = await client.batches.retrieve(job.batchId);
  if (!FINISHED.has(batch.status)) return 'running';

  const written: string[] = [];
  let costUsd: number | undefined;
  if (batch.output_file_id) {
    const text = await (await client.files.content(batch.output_file_id)).text();
    written.push(await put(ctx, outputKey(job.inputKey, 'results.jsonl'), text, 'application/jsonl'));
    costUsd = batchCostUsd(ctx, text);
  }
  if (batch.error_file_id) {
    const text = await (await client.files.content(batch.error_file_id)).text();
    written.push(await put(ctx, outputKey(job.inputKey, 'errors.jsonl'), text, 'application/jsonl'));
  }
  const batchErrors = batch.errors?.data ?? [];
  if (batchErrors.length > 0 || (batch.status !== 'completed' && written.length === 0)) {
    const report = { batchId: batch.id, status: batch.status, errors: batchErrors };
    written.push(
      await put(
        ctx,
        outputKey(job.inputKey, 'batch-errors.json'),
        JSON.stringify(report, null, 2),
        'application/json',
      ),
    );
  }

  const succeeded = batch.status === 'completed';
  const counts = batch.request_counts ?? { total: 0, completed: 0, failed: 0 };
  const recorded = await ctx.jobs.update(
    job.pk,
    succeeded ? 'completed' : 'failed',
    ctx.clock(),
    {
      batchStatus: batch.status,
      requestsCompleted: counts.completed,
      requestsFailed: counts.failed,
      outputs: written.join(','),
      ...(costUsd === undefined ? {} : { costUsd }),
    },
    'submitted',
  );
  // Another poll finished this job first: it published the metric.
  if (!recorded) return succeeded ? 'completed' : 'failed';
  ctx.metrics.addMetric(succeeded ? BatchMetric.completed : BatchMetric.failed, MetricUnit.Count, 1);
  const log = succeeded ? ctx.logger.info.bind(ctx.logger) : ctx.logger.error.bind(ctx.logger);
  log(`batch ${batch.status}`, {
    batchId: batch.id,
    inputKey: job.inputKey,
    requestsCompleted: counts.completed,
    requestsFailed: counts.failed,
    outputs: written,
    ...(costUsd === undefined ? {} : { costUsd, priceFactor: BATCH_PRICE_FACTOR }),
  });
  return succeeded ? 'completed' : 'failed';
}

async function put(ctx: BatchContext, key: string, body: string, contentType: string): Promise<string> {
  const { PutObjectCommand } = s3Sdk();
  await (
    await ctx.s3()
  ).send(new PutObjectCommand({ Bucket: ctx.bucket, Key: key, Body: body, ContentType: contentType }));
  return key;
}

/** Cost of the answered requests from their `usage`, at batch (half) price; lines of unknown models add nothing. */
export function batchCostUsd(ctx: Pick<BatchContext, 'config'>, resultsJsonl: string): number {
  const { models } = ctx.config();
  let nanos = 0;
  for (const line of resultsJsonl.split('\n')) {
    if (line.trim().length === 0) continue;
    try {
      const body = (JSON.parse(line) as { response?: { body?: { model?: string; usage?: unknown } } })
        .response?.body;
      const price = body?.model ? (models[body.model] ?? models[baseModel(body.model, models)]) : undefined;
      const usage = readUsage(body?.usage);
      if (price && usage) nanos += costNanos(price, usage) * BATCH_PRICE_FACTOR;
    } catch {
      // A malformed result line is written out as is; it just adds no cost.
    }
  }
  return nanosToUsd(Math.ceil(nanos));
}

/** Responses name dated snapshots (`gpt-4o-mini-2024-07-18`): find the configured model they belong to. */
function baseModel(name: string, models: Readonly<Record<string, unknown>>): string {
  return Object.keys(models).find((m) => name.startsWith(`${m}-`)) ?? name;
}
