/** Prefix of the batch bucket that takes input files. */
export const INPUT_PREFIX = 'input/';
/** Prefix the handler writes results, errors and rejection reports to. */
export const OUTPUT_PREFIX = 'output/';

/** What one invocation of the batch handler is asked to do. */
export type BatchAction =
  | { readonly kind: 'submit'; readonly bucket: string; readonly key: string; readonly etag?: string }
  | { readonly kind: 'poll' };

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null;
const field = (v: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((at, name) => (isObject(at) ? at[name] : undefined), v);
const text = (v: unknown): string => (typeof v === 'string' ? v : '');

function submit(bucket: unknown, key: string, etag: unknown): BatchAction {
  return { kind: 'submit', bucket: text(bucket), key, ...(text(etag) ? { etag: text(etag) } : {}) };
}

/**
 * Reads the invocation event: an S3 event notification, an EventBridge "Object Created" event, a
 * scheduled EventBridge event (poll), or `{"action": "poll"}` for a manual run.
 */
export function actionsOf(event: unknown): BatchAction[] {
  if (!isObject(event)) return [];
  if (Array.isArray(event.Records)) {
    return event.Records.filter((r) => isObject(field(r, 's3'))).map((r) =>
      // S3 notifications URL-encode keys, with '+' for spaces.
      submit(
        field(r, 's3', 'bucket', 'name'),
        decodeURIComponent(text(field(r, 's3', 'object', 'key')).replace(/\+/g, ' ')),
        field(r, 's3', 'object', 'eTag'),
      ),
    );
  }
  if (event.source === 'aws.s3' && event['detail-type'] === 'Object Created') {
    return [
      submit(
        field(event, 'detail', 'bucket', 'name'),
        text(field(event, 'detail', 'object', 'key')),
        field(event, 'detail', 'object', 'etag'),
      ),
    ];
  }
  if (event['detail-type'] === 'Scheduled Event' || event.action === 'poll') return [{ kind: 'poll' }];
  return [];
}

/** `input/a/b.jsonl` with suffix `results.jsonl` gives `output/a/b.results.jsonl`. */
export function outputKey(inputKey: string, suffix: string): string {
  const relative = inputKey.startsWith(INPUT_PREFIX) ? inputKey.slice(INPUT_PREFIX.length) : inputKey;
  return `${OUTPUT_PREFIX}${relative.replace(/\.jsonl$/i, '')}.${suffix}`;
}
