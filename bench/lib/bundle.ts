import { buildSync } from 'esbuild';
import { join } from 'node:path';

/** Repository root (bench/lib/ is two levels down). */
export const REPO_ROOT = join(__dirname, '..', '..');

/**
 * Bundles a TypeScript entry into one plain-JS file, so every server under test runs on bare `node`
 * (no ts-node in the measured process: no transpiler memory or startup in the figures).
 */
export function bundleEntry(entry: string, outFile: string): string {
  buildSync({
    entryPoints: [join(REPO_ROOT, entry)],
    outfile: outFile,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    bundle: true,
    minify: false,
    sourcemap: false,
    logLevel: 'error',
  });
  return outFile;
}
