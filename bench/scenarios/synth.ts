import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../lib/bundle';
import { median, round } from '../lib/stats';
import type { BenchContext } from './context';

export interface SynthRun {
  readonly wallS: number;
  /** Largest resident set of any process in the synth (GNU time's %M), MB. */
  readonly peakRssMb: number;
}

export interface SynthFigure {
  readonly wallS: number;
  readonly peakRssMb: number;
  readonly runs: readonly SynthRun[];
  /** The cloud assembly of the last run (the Lambda figure reads its bundles). */
  readonly cloudAssembly?: string;
  readonly error?: string;
}

/**
 * Figure 7: `cdk synth '**' --no-lookups --quiet` (both stages, as `npm run synth`), into a scratch
 * cloud assembly so a developer's cdk.out is left alone. Not pinned: synth is what a developer runs on
 * the whole machine.
 */
export function runSynth(ctx: BenchContext, log: (line: string) => void): SynthFigure {
  if (!existsSync(join(REPO_ROOT, 'bin', 'app.ts'))) {
    return { wallS: NaN, peakRssMb: NaN, runs: [], error: 'bin/app.ts does not exist yet' };
  }
  const runs: SynthRun[] = [];
  let cloudAssembly: string | undefined;
  for (let rep = 0; rep < ctx.settings.repetitions; rep++) {
    const out = join(ctx.workDir, `cdk.out.${rep}`);
    rmSync(out, { recursive: true, force: true });
    // This process is pinned to the load core and children inherit that: give synth every core back.
    const result = spawnSync(
      'taskset',
      [
        '-c',
        `0-${cpus().length - 1}`,
        '/usr/bin/time',
        '-f',
        'BENCH_TIME %e %M',
        join(REPO_ROOT, 'node_modules', '.bin', 'cdk'),
        'synth',
        '**',
        '--no-lookups',
        '--quiet',
        '-o',
        out,
      ],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1', CI: 'true' },
        encoding: 'utf8',
        timeout: 180_000,
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    const match = /BENCH_TIME ([\d.]+) (\d+)/.exec(result.stderr ?? '');
    if (result.status !== 0 || !match) {
      const tail = (result.stderr ?? String(result.error)).trim().split('\n').slice(-6).join('\n');
      log(`  synth failed (exit ${result.status}):\n${tail}`);
      return {
        wallS: NaN,
        peakRssMb: NaN,
        runs,
        error: `cdk synth failed: ${tail.split('\n').slice(-2).join(' ')}`,
      };
    }
    const run = { wallS: Number(match[1]), peakRssMb: Number(match[2]) / 1024 };
    runs.push(run);
    cloudAssembly = out;
    log(`  rep ${rep + 1} ${round(run.wallS, 1)} s, peak ${round(run.peakRssMb, 0)} MB`);
  }
  return {
    wallS: median(runs.map((r) => r.wallS)),
    peakRssMb: median(runs.map((r) => r.peakRssMb)),
    runs,
    cloudAssembly,
  };
}
