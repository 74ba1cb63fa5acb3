import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import { boundHeap, YOUNG_SEMI_SPACE_CAP_BYTES } from '../../service/heap';

/** heap.ts as plain JavaScript, to run in a fresh node process (the flags it sets are process-wide). */
const heapJs = transformSync(readFileSync(join(__dirname, '../../service/heap.ts'), 'utf8'), {
  loader: 'ts',
  format: 'cjs',
}).code;

interface Outcome {
  readonly bounds: { youngGeneration: boolean; oldGeneration: boolean } | null;
  /** Largest young generation seen, bytes. */
  readonly newSpace: number;
  /** Largest old generation seen, bytes. */
  readonly oldSpace: number;
}

/**
 * Runs a server-like load in a fresh process: every event-loop turn allocates a batch of short-lived
 * objects, and a share lives for a while (in-flight requests), so some survive scavenges.
 */
function heapUnderLoad(bound: boolean, nodeFlags: string[] = []): Outcome {
  const script = `
    const heap = (() => { const module = { exports: {} }; ${heapJs}; return module.exports; })();
    const bounds = ${bound} ? heap.boundHeap() : null;
    const v8 = require('v8');
    let inFlight = [];
    let newSpace = 0;
    let oldSpace = 0;
    let rounds = 0;
    const step = () => {
      for (let i = 0; i < 2000; i++) inFlight.push({ i, text: 'x' + i, list: [i, i] });
      if (inFlight.length > 200000) inFlight = [];
      for (const s of v8.getHeapSpaceStatistics()) {
        if (s.space_name === 'new_space') newSpace = Math.max(newSpace, s.space_size);
        if (s.space_name === 'old_space') oldSpace = Math.max(oldSpace, s.space_size);
      }
      if (++rounds < 3000) setImmediate(step);
      else process.stdout.write(JSON.stringify({ bounds, newSpace, oldSpace }));
    };
    step();`;
  // A file, not `node -e`: the script text would be in process.execArgv.
  const dir = mkdtempSync(join(tmpdir(), 'heap-test-'));
  const file = join(dir, 'load.js');
  writeFileSync(file, script);
  const out = spawnSync(process.execPath, [...nodeFlags, file], { encoding: 'utf8' });
  rmSync(dir, { recursive: true, force: true });
  if (out.status !== 0) throw new Error(out.stderr);
  return JSON.parse(out.stdout) as Outcome;
}

const MB = 1024 * 1024;

describe('boundHeap', () => {
  it('keeps both generations smaller than V8 lets them grow by default', () => {
    const unbounded = heapUnderLoad(false);
    const bounded = heapUnderLoad(true);
    expect(bounded.bounds).toEqual({ youngGeneration: true, oldGeneration: true });
    expect(bounded.newSpace).toBeLessThanOrEqual(2 * YOUNG_SEMI_SPACE_CAP_BYTES + MB);
    expect(unbounded.newSpace).toBeGreaterThan(2 * YOUNG_SEMI_SPACE_CAP_BYTES + MB);
    expect(bounded.oldSpace).toBeLessThan(unbounded.oldSpace);
  });

  it('leaves a setting the operator gave a flag for alone', () => {
    expect(boundHeap(['--max-semi-space-size=8', '--heap-growing-percent=50'], '')).toEqual({
      youngGeneration: false,
      oldGeneration: false,
    });
    expect(boundHeap([], '--enable-source-maps --max-semi-space-size=8 --heap-growing-percent=50')).toEqual({
      youngGeneration: false,
      oldGeneration: false,
    });
    const explicit = heapUnderLoad(true, ['--max-semi-space-size=16']);
    expect(explicit.bounds).toEqual({ youngGeneration: false, oldGeneration: true });
    expect(explicit.newSpace).toBeGreaterThan(2 * YOUNG_SEMI_SPACE_CAP_BYTES + MB);
  });
});
