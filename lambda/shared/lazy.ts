/**
 * A value created on first use and reused by every later invocation of the same Lambda environment.
 * The AWS SDK clients are created this way (see ./aws-sdk.ts). A failed creation is retried on the next call.
 */
export function lazy<T>(create: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    value ??= create().catch((err: unknown) => {
      value = undefined;
      throw err;
    });
    return value;
  };
}
