import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import { boundYoungGeneration, YOUNG_SEMI_SPACE_CAP_BYTES } from '../../service/heap';

/** heap.ts as plain JavaScript, to run in a fresh node process (the flags it sets are process-wide). */
const heapJs = transformSync(readFileSync(join(__dirname, '../../service/heap.ts'), 'utf8'), {
  loader: 'ts',
  format: 'cjs',
}).code;

/** Allocates garbage with a share that survives a while, then prints the young generation's size. */
function youngGenerationAfterLoad(bound: boolean, nodeFlags: string[] = []): number {
  const script = `
    const heap = (() => { const module = { exports: {} }; ${heapJs}; return module.exports; })();
    const applied = ${bound} ? heap.boundYoungGeneration() : false;
    let kept = [];
    let rounds = 0;
    const step = () => {
      for (let i = 0; i < 2000; i++) kept.push({ i, text: 'x' + i, list: [i, i] });
      if (kept.length > 100000) kept = [];
      if (++rounds < 2000) setImmediate(step);
      else {
        const space = require('v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
        process.stdout.write(JSON.stringify({ applied, newSpace: space.space_size }));
      }
    };
    step();`;
  // A file, not `node -e`: the script text would be in process.execArgv.
  const dir = mkdtempSync(join(tmpdir(), 'heap-test-'));
  const file = join(dir, 'load.js');
  writeFileSync(file, script);
  const out = spawnSync(process.execPath, [...nodeFlags, file], { encoding: 'utf8' });
  rmSync(dir, { recursive: true, force: true });
  if (out.status !== 0) throw new Error(out.stderr);
  const result = JSON.parse(out.stdout) as { applied: boolean; newSpace: number };
  expect(result.applied).toBe(bound && nodeFlags.length === 0);
  return result.newSpace;
}

describe('boundYoungGeneration', () => {
  it('keeps the young generation at two semi-spaces of at most the cap, where the default grows past it', () => {
    expect(youngGenerationAfterLoad(false)).toBeGreaterThan(4 * YOUNG_SEMI_SPACE_CAP_BYTES);
    expect(youngGenerationAfterLoad(true)).toBeLessThanOrEqual(2 * YOUNG_SEMI_SPACE_CAP_BYTES + 256 * 1024);
  });

  it('leaves an explicit semi-space setting alone', () => {
    expect(boundYoungGeneration(['--max-semi-space-size=8'], '')).toBe(false);
    expect(boundYoungGeneration([], '--max-semi-space-size=8 --enable-source-maps')).toBe(false);
    expect(youngGenerationAfterLoad(true, ['--max-semi-space-size=8'])).toBeGreaterThan(
      2 * YOUNG_SEMI_SPACE_CAP_BYTES + 256 * 1024,
    );
  });
});
