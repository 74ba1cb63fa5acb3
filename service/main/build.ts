/**
 * Bundles the gateway into one self-contained file. The CDK app calls this at synth and builds the
 * container image from `outDir`; `npm run build:gateway` and the jest global setup call the same
 * function, so the container runs exactly the bundle the tests start.
 *
 * `outDir` receives `index.js` (+ map), `demo.js` (+ map) for `npm run demo`, the `Dockerfile`, and a
 * `.dockerignore` that keeps the image (and the CDK asset hash) to `index.js` and its map.
 */
import { buildSync } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Node version the bundle targets; matches the container's base image major or lower. */
export const GATEWAY_NODE_TARGET = 'node20';

/** service/: the bundle's entry points are in main/, the Dockerfile beside this folder. */
const SERVICE_DIR = join(__dirname, '..');

/** Builds `outDir/index.js` (the gateway) and `outDir/demo.js`, and copies the Dockerfile beside them. */
export function bundleGateway(outDir: string): void {
  mkdirSync(outDir, { recursive: true });
  buildSync({
    entryPoints: { index: join(SERVICE_DIR, 'main', 'index.ts'), demo: join(SERVICE_DIR, 'main', 'demo.ts') },
    outdir: outDir,
    platform: 'node',
    target: GATEWAY_NODE_TARGET,
    format: 'cjs',
    bundle: true,
    minify: true,
    sourcemap: true,
    // Mappings only: stack traces still resolve (NODE_OPTIONS=--enable-source-maps), and the map stays small.
    sourcesContent: false,
    // Keep class and function names: pino, Fastify errors and stack traces read them.
    keepNames: true,
    legalComments: 'none',
    logLevel: 'warning',
    define: { 'process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE': '"1"' },
  });
  copyFileSync(join(SERVICE_DIR, 'Dockerfile'), join(outDir, 'Dockerfile'));
  writeFileSync(join(outDir, '.dockerignore'), '*\n!Dockerfile\n!index.js\n!index.js.map\n');
}

/**
 * The node flags of the container's command (the exec-form `CMD` of service/Dockerfile, between `node`
 * and `index.js`), so the benchmark and the end-to-end tests run the bundle exactly as the image does.
 */
export function containerNodeFlags(dockerfile: string = join(SERVICE_DIR, 'Dockerfile')): string[] {
  const cmd = /^CMD\s+(\[.*\])\s*$/m.exec(readFileSync(dockerfile, 'utf8'));
  const args: unknown = cmd ? JSON.parse(cmd[1]) : undefined;
  if (!Array.isArray(args) || args[0] !== 'node' || args[args.length - 1] !== 'index.js') {
    throw new Error(`${dockerfile}: expected an exec-form CMD ["node", ...flags, "index.js"]`);
  }
  return args.slice(1, -1).map(String);
}
