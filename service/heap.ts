/**
 * Bounds the V8 young generation to semi-spaces of `YOUNG_SEMI_SPACE_CAP_BYTES` instead of letting it
 * double up to 16 MiB semi-spaces under load (64-bit Node's default). Under sustained traffic the
 * default young generation grows to about 32 MiB that then stays resident, a fifth of the gateway's
 * RSS, while one request's garbage is a few KiB. Measured with the benchmark (docs/performance.md):
 * 2 MiB semi-spaces keep the CPU per request of the default and cut peak RSS by about 35 MB; 1 MiB
 * (no growth at all) costs CPU at concurrency 50, because in-flight requests' objects then survive
 * scavenges and get promoted.
 *
 * `--max-semi-space-size` is read only when the heap is created, so a running process cannot set it.
 * The semi-space growth factor is read at every growth decision: the young generation starts at its
 * initial 1 MiB, a GC observer lets it double while it is below the cap and stops the growth once it
 * reaches it. An explicit semi-space flag (command line or NODE_OPTIONS) wins: nothing is changed.
 *
 * `heap-bound.ts` applies it; the entry point imports that first, so that module loading does not
 * grow the young generation.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/** Largest semi-space the gateway lets V8 grow to, bytes (the young generation is two of them). */
export const YOUNG_SEMI_SPACE_CAP_BYTES = 2 * 1024 * 1024;

/** Current capacity of one semi-space, bytes. */
function semiSpaceBytes(): number {
  const space = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  return space === undefined ? 0 : space.space_size / 2;
}

/**
 * Starts bounding the young generation.
 * @returns whether it applies (false when the operator set a semi-space flag)
 */
export function boundYoungGeneration(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? '',
): boolean {
  if (execArgv.some((arg) => arg.includes('semi-space')) || nodeOptions.includes('semi-space')) return false;
  let growthFactor = 0;
  const steer = () => {
    const wanted = semiSpaceBytes() < YOUNG_SEMI_SPACE_CAP_BYTES ? 2 : 1;
    if (wanted === growthFactor) return;
    growthFactor = wanted;
    setFlagsFromString(`--semi-space-growth-factor=${wanted}`);
  };
  // No growth while the modules load; afterwards the observer lets it grow up to the cap.
  growthFactor = 1;
  setFlagsFromString('--semi-space-growth-factor=1');
  setImmediate(steer).unref();
  new PerformanceObserver(steer).observe({ entryTypes: ['gc'] });
  return true;
}
