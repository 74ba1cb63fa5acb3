/**
 * Waits (bounded, on the monotonic clock) until `condition` holds: for what happens after an answer,
 * such as settlement, or a server coming back. Never reads the date.
 */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
  pollMs = 5,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise<void>((resolve) => setTimeout(resolve, pollMs));
  }
}
