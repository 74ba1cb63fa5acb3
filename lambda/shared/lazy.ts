/**
 * A value created on first use and reused by every later invocation of the same Lambda environment.
 * The AWS SDK clients are created this way, loaded with `import()`: requiring an SDK v3 client costs
 * 35-70 ms, so a handler loads only the clients the path it runs needs (the `lambda` benchmark and
 * docs/handlers.md have the figures). A failed creation is retried on the next call.
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
