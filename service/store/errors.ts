/**
 * What the store reports through `onError`. Messages never carry keys, values, client ids or the
 * AUTH token: ioredis errors can carry the command's arguments, so the store passes on only the
 * message of the original error, wrapped in one of these.
 */

/** A Redis operation failed or timed out; the request was answered by the fallback (or the write was dropped). */
export class StoreOperationError extends Error {
  constructor(
    /** `admit`, `settle`, `cacheSet`, `monthToDateSpend` or `connection`. */
    readonly operation: string,
    cause: unknown,
  ) {
    super(`redis ${operation} failed: ${messageOf(cause)}`);
    this.name = 'StoreOperationError';
  }
}

/** The circuit is open: the request was answered by the fallback without trying Redis. */
export class CircuitOpenError extends Error {
  constructor(readonly operation: string) {
    super(`redis ${operation} skipped: circuit open`);
    this.name = 'CircuitOpenError';
  }
}

function messageOf(cause: unknown): string {
  const message = cause instanceof Error ? cause.message : String(cause);
  // A Lua error names the script's sha and line; keep the first line, which holds the reason.
  return message.split('\n', 1)[0].slice(0, 200);
}
