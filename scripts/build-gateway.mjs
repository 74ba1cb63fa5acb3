// `npm run build:gateway`: bundles the gateway into dist/gateway with the same function the CDK app and
// the jest global setup use (service/main/build.ts, loaded through ts-node).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
require('ts-node').register({ transpileOnly: true, swc: true, compilerOptions: { module: 'commonjs' } });
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { bundleGateway } = require(join(root, 'service/main/build.ts'));
const outDir = join(root, 'dist/gateway');
bundleGateway(outDir);
console.log(`gateway bundled into ${outDir}`);
