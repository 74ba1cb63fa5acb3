import { isJsonObject as isObject } from '../../runtime/json';
import type OpenAI from 'openai';
import { BadResponseError } from '../shared/failure';

/** Buckets per page: a whole month of 1-day buckets fits in one page (the API allows 1 to 180). */
const BUCKETS_PER_PAGE = 31;
/** A month has at most 31 daily buckets; far more pages than that means the cursor is not advancing. */
const MAX_PAGES = 40;

export interface ProjectCosts {
  /** Sum of every USD amount in the range. */
  readonly totalUsd: number;
  /** Pages read, 1 when no pagination was needed. */
  readonly pages: number;
  /** Daily buckets read. */
  readonly buckets: number;
}

/**
 * Month-to-date costs of one project from `GET /v1/organization/costs` (admin key), following
 * `has_more` / `next_page`. The SDK does not validate bodies, so every field used is checked here.
 * @throws BadResponseError when a page does not have the documented shape
 */
export async function readProjectCosts(
  admin: OpenAI,
  projectId: string,
  startTime: number,
  endTime: number,
): Promise<ProjectCosts> {
  // The first instant of a month: nothing has been billed yet, and the API takes no empty range.
  if (endTime <= startTime) return { totalUsd: 0, pages: 0, buckets: 0 };
  let totalUsd = 0;
  let buckets = 0;
  let pages = 0;
  let page: string | undefined;
  const seenCursors = new Set<string>();
  for (;;) {
    const body: unknown = await admin.admin.organization.usage.costs({
      start_time: startTime,
      end_time: endTime,
      bucket_width: '1d',
      project_ids: [projectId],
      limit: BUCKETS_PER_PAGE,
      ...(page ? { page } : {}),
    });
    pages++;
    const parsed = parseCostsPage(body, pages);
    totalUsd += parsed.usd;
    buckets += parsed.buckets;
    if (!parsed.nextPage) break;
    if (seenCursors.has(parsed.nextPage) || pages >= MAX_PAGES) {
      throw new BadResponseError(
        `costs pagination does not advance (page ${pages}, cursor repeated or too many pages)`,
      );
    }
    seenCursors.add(parsed.nextPage);
    page = parsed.nextPage;
  }
  return { totalUsd: roundUsd(totalUsd), pages, buckets };
}

interface ParsedPage {
  readonly usd: number;
  readonly buckets: number;
  readonly nextPage?: string;
}

/** Validates one costs page and sums its USD amounts. Exported for unit tests of the edge cases. */
export function parseCostsPage(body: unknown, pageNumber = 1): ParsedPage {
  const where = `costs page ${pageNumber}`;
  if (!isObject(body) || !Array.isArray(body.data)) throw new BadResponseError(`${where} has no data array`);
  let usd = 0;
  body.data.forEach((bucket, i) => {
    if (!isObject(bucket) || !Array.isArray(bucket.results)) {
      throw new BadResponseError(`${where}: data[${i}] has no results array`);
    }
    bucket.results.forEach((result, j) => {
      const amount = isObject(result) ? result.amount : undefined;
      // A result without an amount is a zero-cost line item.
      if (amount === undefined || amount === null) return;
      const value = isObject(amount) ? toNumber(amount.value) : undefined;
      if (value === undefined)
        throw new BadResponseError(`${where}: data[${i}].results[${j}].amount.value is not a number`);
      const currency =
        isObject(amount) && typeof amount.currency === 'string' ? amount.currency.toLowerCase() : 'usd';
      if (currency !== 'usd') {
        throw new BadResponseError(`${where}: data[${i}].results[${j}] is in ${currency}, not usd`);
      }
      usd += value;
    });
  });
  if (typeof body.has_more !== 'boolean') throw new BadResponseError(`${where} has no boolean has_more`);
  if (!body.has_more) return { usd, buckets: body.data.length };
  if (typeof body.next_page !== 'string' || body.next_page.length === 0) {
    throw new BadResponseError(`${where} says has_more but gives no next_page`);
  }
  return { usd, buckets: body.data.length, nextPage: body.next_page };
}

/** Amounts arrive as JSON numbers; a numeric string is accepted too (high-precision decimals). */
function toNumber(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** Micro-dollar precision: enough for a metric, and stable against float noise from summing. */
export const roundUsd = (usd: number): number => Math.round(usd * 1e6) / 1e6;
