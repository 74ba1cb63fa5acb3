import { buildSync } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { HANDLER_NAMES, type HandlerName } from '../../runtime/handler-env';
import { REPO_ROOT } from '../lib/bundle';
import { SERVER_CORE } from '../lib/processes';
import { median, round } from '../lib/stats';
import type { BenchContext } from './context';

export interface LambdaFigure {
  readonly handler: HandlerName;
  /** Where the bundle came from: the synthesized cloud assembly, or our own esbuild run with NodejsFunction's defaults. */
  readonly source: 'cdk.out' | 'esbuild';
  /** Minified `index.js` size, KB (1024 bytes). */
  readonly bundleKb: number;
  /** Median wall time of `node -e "require(bundle)"`, ms. */
  readonly loadMs: number;
  /** Median wall time of bare `node -e 0`, ms. */
  readonly bareNodeMs: number;
  /** loadMs - bareNodeMs. */
  readonly addedLoadMs: number;
  /** External packages the bundle requires (the `@aws-sdk/*` clients the Lambda runtime provides). */
  readonly externals: readonly string[];
  /** What requiring only the externals costs over bare node, ms. */
  readonly externalsLoadMs: number;
  /**
   * Whether requiring the bundle already loads the externals. When false they load on the first
   * invocation (esbuild's lazy module wrappers), so the first call pays `externalsLoadMs` instead.
   */
  readonly externalsLoadedAtRequire: boolean;
  /** Set when the bundle could not be built or loaded. */
  readonly error?: string;
}

/**
 * Figure 6: each Lambda handler's minified bundle and how much longer `node` takes to start when it
 * requires the bundle. Bundles come from the cloud assembly `cdk synth` wrote (the artifacts that
 * deploy) when the synth figure ran; otherwise from esbuild with NodejsFunction's defaults (minified,
 * `@aws-sdk/*` external as the Lambda runtime provides it). The bundle is loaded from a folder inside
 * the repository so external `@aws-sdk/*` packages resolve from node_modules and their load time counts.
 */
export function runLambda(
  ctx: BenchContext,
  cloudAssembly: string | undefined,
  log: (line: string) => void,
): LambdaFigure[] {
  const fromSynth = cloudAssembly ? lambdaAssetsByHandler(cloudAssembly) : new Map<HandlerName, string>();
  const loadDir = join(REPO_ROOT, 'dist', 'bench', 'lambda');
  const figures: LambdaFigure[] = [];
  for (const handler of HANDLER_NAMES) {
    const outDir = join(loadDir, handler);
    mkdirSync(outDir, { recursive: true });
    const bundle = join(outDir, 'index.js');
    const asset = fromSynth.get(handler);
    let source: LambdaFigure['source'] = 'cdk.out';
    try {
      if (asset) {
        copyFileSync(join(asset, 'index.js'), bundle);
      } else {
        source = 'esbuild';
        const entry = join(REPO_ROOT, 'lambda', handler, 'index.ts');
        if (!existsSync(entry)) throw new Error(`${entry} does not exist`);
        buildSync({
          entryPoints: [entry],
          outfile: bundle,
          platform: 'node',
          target: 'node22',
          format: 'cjs',
          bundle: true,
          minify: true,
          external: ['@aws-sdk/*'],
          logLevel: 'error',
        });
      }
      const externals = [
        ...new Set([...readFileSync(bundle, 'utf8').matchAll(/require\("(@[^"]+)"\)/g)].map((m) => m[1])),
      ];
      const { loadMs, bareNodeMs, externalsMs, externalsLoadedAtRequire } = measureLoad(
        bundle,
        externals,
        ctx.settings.lambdaLoadSamples,
      );
      const figure: LambdaFigure = {
        handler,
        source,
        bundleKb: statSync(bundle).size / 1024,
        loadMs,
        bareNodeMs,
        addedLoadMs: loadMs - bareNodeMs,
        externals,
        externalsLoadMs: externalsMs - bareNodeMs,
        externalsLoadedAtRequire,
      };
      figures.push(figure);
      log(
        `  ${handler.padEnd(22)} ${round(figure.bundleKb, 1)} KB (${source}), +${round(figure.addedLoadMs, 1)} ms to load; ${externals.join(' ')} +${round(figure.externalsLoadMs, 1)} ms, ${externalsLoadedAtRequire ? 'loaded at require' : 'loaded at first call'}`,
      );
    } catch (err) {
      const message = (err as Error).message.split('\n').slice(0, 3).join(' ');
      figures.push({
        handler,
        source,
        bundleKb: NaN,
        loadMs: NaN,
        bareNodeMs: NaN,
        addedLoadMs: NaN,
        externals: [],
        externalsLoadMs: NaN,
        externalsLoadedAtRequire: false,
        error: message,
      });
      log(`  ${handler}: ${message}`);
    }
  }
  return figures;
}

/** Environment a handler sees on Lambda, so a module that reads it at load does not fail here. */
const LAMBDA_LIKE_ENV = {
  AWS_REGION: 'us-east-1',
  AWS_LAMBDA_FUNCTION_NAME: 'bench',
  STAGE: 'bench',
  POWERTOOLS_SERVICE_NAME: 'bench',
  POWERTOOLS_METRICS_NAMESPACE: 'Bench',
};

/**
 * Alternates bare `node`, `node` requiring only the bundle's externals, and `node` requiring the
 * bundle, pinned to the server core, and takes medians.
 */
function measureLoad(
  bundle: string,
  externals: readonly string[],
  samples: number,
): { loadMs: number; bareNodeMs: number; externalsMs: number; externalsLoadedAtRequire: boolean } {
  const spawnNode = (script: string) =>
    spawnSync('taskset', ['-c', String(SERVER_CORE), process.execPath, '-e', script], {
      env: { ...process.env, ...LAMBDA_LIKE_ENV },
      encoding: 'utf8',
    });
  const run = (script: string): number => {
    const start = performance.now();
    const out = spawnSync('taskset', ['-c', String(SERVER_CORE), process.execPath, '-e', script], {
      env: { ...process.env, ...LAMBDA_LIKE_ENV },
      encoding: 'utf8',
    });
    const ms = performance.now() - start;
    if (out.status !== 0)
      throw new Error(`require failed: ${out.stderr.trim().split('\n').slice(-3).join(' ')}`);
    return ms;
  };
  const load = `const m = require(${JSON.stringify(bundle)}); if (typeof m.handler !== 'function') { console.error('no handler export'); process.exit(3); }`;
  const loadExternals = externals.map((m) => `require(${JSON.stringify(m)});`).join('') || '0';
  run('0');
  run(load);
  const probe = spawnNode(
    `${load}; console.log(Object.keys(require.cache).some((p) => p.includes('node_modules/@aws-sdk/')))`,
  );
  const externalsLoadedAtRequire = probe.stdout.trim() === 'true';
  const bare: number[] = [];
  const loaded: number[] = [];
  const external: number[] = [];
  for (let i = 0; i < samples; i++) {
    bare.push(run('0'));
    external.push(run(loadExternals));
    loaded.push(run(load));
  }
  return {
    loadMs: median(loaded),
    bareNodeMs: median(bare),
    externalsMs: median(external),
    externalsLoadedAtRequire,
  };
}

/** Finds each handler's asset folder in a cloud assembly through the Lambda functions' `aws:asset:path` metadata. */
function lambdaAssetsByHandler(cloudAssembly: string): Map<HandlerName, string> {
  const found = new Map<HandlerName, string>();
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory() && entry.name.startsWith('assembly-')) visit(path);
      if (!entry.isFile() || !entry.name.endsWith('.template.json')) continue;
      const template = JSON.parse(readFileSync(path, 'utf8')) as {
        Resources?: Record<string, { Type: string; Metadata?: Record<string, string> }>;
      };
      for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
        if (resource.Type !== 'AWS::Lambda::Function') continue;
        const assetPath = resource.Metadata?.['aws:asset:path'];
        const cdkPath = `${resource.Metadata?.['aws:cdk:path'] ?? ''}/${logicalId}`
          .toLowerCase()
          .replace(/[^a-z]/g, '');
        if (!assetPath) continue;
        const handler = HANDLER_NAMES.find((h) => cdkPath.includes(h.replace(/[^a-z]/g, '')));
        const assetDir = join(dir, assetPath);
        if (handler && !found.has(handler) && existsSync(join(assetDir, 'index.js')))
          found.set(handler, assetDir);
      }
    }
  };
  visit(cloudAssembly);
  return found;
}
