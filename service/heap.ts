/**
 * Bounds the gateway's V8 heap for a small, steady RSS at about the same CPU per request. Both settings
 * are read by V8 at every decision, so a running process can change them (`--max-semi-space-size` and
 * `--initial-old-space-size` are read only when the heap is created):
 *
 * - Old generation: `--heap-growing-percent=20`. After each full GC V8 lets the old generation grow
 *   by a factor before the next one; by default that let it reach ~60-70 MB under load while ~21 MB
 *   was live (request objects promoted before they died). With 20% it stays at ~25 MB.
 * - Young generation: semi-spaces of at most `YOUNG_SEMI_SPACE_CAP_BYTES` instead of doubling up to
 *   16 MiB (~32 MiB resident). V8 grows them by its growth factor; a GC observer sets that factor to
 *   1 once the cap is reached (and stops observing), and a slow timer lets growth resume if V8 shrank
 *   them, so in steady state nothing runs per GC. Smaller semi-spaces cost CPU: objects of in-flight
 *   requests survive scavenges and get promoted.
 *
 * Measured under closed-loop load at concurrency 10 and 50 (the docs/performance.md set-up): peak RSS
 * 170-180 MB -> 120-130 MB; CPU per request within run-to-run noise of the default (+0-10%). A flag
 * the operator gave on the command line or in NODE_OPTIONS wins: that setting is left alone.
 *
 * `heap-bound.ts` applies it; the entry point imports that first.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/** Largest semi-space the gateway lets V8 grow to, bytes (the young generation is two of them). */
export const YOUNG_SEMI_SPACE_CAP_BYTES = 8 * 1024 * 1024;

/** Old-generation growth after a full GC, percent (V8's own default is dynamic, up to 100% and more). */
export const OLD_GENERATION_GROWING_PERCENT = 20;

/** How often the young generation is re-checked once at the cap (V8 may shrink it when idle), ms. */
const RECHECK_MS = 5_000;

/** Current capacity of one semi-space, bytes. */
function semiSpaceBytes(): number {
  const space = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  return space === undefined ? 0 : space.space_size / 2;
}

/** What `boundHeap` applied. */
export interface HeapBounds {
  readonly youngGeneration: boolean;
  readonly oldGeneration: boolean;
}

/**
 * Applies the bounds.
 * @returns which ones apply (false for a setting the operator gave a flag for)
 */
export function boundHeap(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? '',
): HeapBounds {
  const given = (flag: string) => execArgv.some((arg) => arg.includes(flag)) || nodeOptions.includes(flag);
  const oldGeneration = !given('heap-growing-percent');
  if (oldGeneration) setFlagsFromString(`--heap-growing-percent=${OLD_GENERATION_GROWING_PERCENT}`);
  const youngGeneration = !given('semi-space');
  if (youngGeneration) boundYoungGeneration();
  return { youngGeneration, oldGeneration };
}

function boundYoungGeneration(): void {
  let growthFactor = 0;
  let observing = false;
  const observer = new PerformanceObserver(() => steer());
  const steer = () => {
    const below = semiSpaceBytes() < YOUNG_SEMI_SPACE_CAP_BYTES;
    const wanted = below ? 2 : 1;
    if (wanted !== growthFactor) {
      growthFactor = wanted;
      setFlagsFromString(`--semi-space-growth-factor=${wanted}`);
    }
    if (below && !observing) observer.observe({ entryTypes: ['gc'] });
    if (!below && observing) observer.disconnect();
    observing = below;
  };
  steer();
  setInterval(steer, RECHECK_MS).unref();
}
