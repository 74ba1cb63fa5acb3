/** Prefix of the batch bucket that takes input files. */
export const INPUT_PREFIX = 'input/';
/** Prefix the handler writes results, errors and rejection reports to. */
export const OUTPUT_PREFIX = 'output/';

/** What one invocation of the batch handler is asked to do. */
export type BatchAction =
  | { readonly kind: 'submit'; readonly bucket: string; readonly key: string; readonly etag?: string }
  | { readonly kind: 'poll' };

const isObject = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * Reads the invocation event: an S3 event notification, an EventBridge "Object Created" event, a
 * scheduled EventBridge event (poll), or `{"action": "poll"}` for a manual run.
 */
export function actionsOf(event: unknown): BatchAction[] {
  if (!isObject(event)) return [];
  if (Array.isArray(event.Records)) {
    return event.Records.filter((r: unknown) => isObject(r) && isObject(r.s3)).map((r: any) => ({
      // eslint-disable-line @typescript-eslint/no-explicit-any
      kind: 'submit' as const,
      bucket: String(r.s3.bucket?.name ?? ''),
      // S3 notifications URL-encode keys, with '+' for spaces.
      key: decodeURIComponent(String(r.s3.object?.key ?? '').replace(/\+/g, ' ')),
      ...(r.s3.object?.eTag ? { etag: String(r.s3.object.eTag) } : {}),
    }));
  }
  if (event.source === 'aws.s3' && event['detail-type'] === 'Object Created' && isObject(event.detail)) {
    const { bucket, object } = event.detail;
    return [
      {
        kind: 'submit',
        bucket: String(bucket?.name ?? ''),
        key: String(object?.key ?? ''),
        ...(object?.etag ? { etag: String(object.etag) } : {}),
      },
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
