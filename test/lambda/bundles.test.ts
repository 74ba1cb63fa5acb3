/**
 * The handler bundles `cdk synth` puts in the cloud assembly are the files that deploy: each must load
 * in a plain `node` process and export `handler`, stay under the size budget, and require nothing but
 * the AWS SDK v3 the Lambda runtime provides. NODE_PATH stands in for the runtime's SDK here, as
 * /var/runtime/node_modules does on Lambda.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stagingConfig } from '../../lib/config';
import { validateStageConfig } from '../../lib/config/validate';
import { GatewayStage } from '../../lib/stages/gateway-stage';
import { HANDLER_NAMES, type HandlerName } from '../../runtime/handler-env';
import { FakeOpenAI } from '../support/fake-openai';
import { GATEWAY_IMAGE_DIRECTORY, LAMBDA_ROOT, newApp, REPO_ROOT } from '../lib/synth';

const run = promisify(execFile);
/** The bundle size budget of the handlers issue, minified. */
const MAX_BUNDLE_BYTES = 300 * 1024;

let assets: Map<HandlerName, string>;
/** The AppConfig validator's bundle: it belongs to GatewayConfigStore, not to the four handlers. */
let validatorAsset: string | undefined;

beforeAll(() => {
  const app = newApp();
  new GatewayStage(app, {
    config: stagingConfig,
    gatewayImageDirectory: GATEWAY_IMAGE_DIRECTORY,
    lambdaRoot: LAMBDA_ROOT,
  });
  const assembly = app.synth().directory;
  assets = lambdaAssets(assembly);
  validatorAsset = lambdaAssetDirs(assembly).find(([id]) =>
    id.toLowerCase().includes('gatewayconfigvalidator'),
  )?.[1];
}, 180_000);

/**
 * Each handler's asset folder: a function's `Code.S3Key` is `<asset hash>.zip`, and the assembly keeps
 * the bundle in `asset.<hash>/`; the function's logical id names its construct (`...Handlers<Name>...`).
 */
function lambdaAssets(assemblyDir: string): Map<HandlerName, string> {
  const found = new Map<HandlerName, string>();
  const letters = (s: string) => s.toLowerCase().replace(/[^a-z]/g, '');
  for (const [logicalId, assetDir] of lambdaAssetDirs(assemblyDir)) {
    const handler = HANDLER_NAMES.find((h) => letters(logicalId).includes(`handlers${letters(h)}`));
    if (handler) found.set(handler, assetDir);
  }
  return found;
}

/** A plain node process with only what Lambda gives a function: no ts-node, no jest, the SDK on NODE_PATH. */
function nodeEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    NODE_PATH: join(REPO_ROOT, 'node_modules'),
    AWS_REGION: 'us-east-1',
    AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING: '1',
    STAGE: 'bundle-test',
    ...extra,
  };
}

describe.each(HANDLER_NAMES)('the %s bundle in cdk.out', (name) => {
  const bundle = () => join(assets.get(name)!, 'index.js');

  it('is in the cloud assembly, minified and under 300 KB', () => {
    expect(assets.has(name)).toBe(true);
    expect(existsSync(bundle())).toBe(true);
    expect(statSync(bundle()).size).toBeLessThanOrEqual(MAX_BUNDLE_BYTES);
    // Minified: long lines (unminified esbuild output averages well under 100 characters a line).
    const code = readFileSync(bundle(), 'utf8');
    expect(code.length / code.split('\n').length).toBeGreaterThan(1000);
  });

  it('requires nothing outside itself but the AWS SDK v3 and Node built-ins', () => {
    const code = readFileSync(bundle(), 'utf8');
    const externals = [...code.matchAll(/(?:require|import)\("([^"]+)"\)/g)].map((m) => m[1]);
    const foreign = externals.filter(
      (m) => !m.startsWith('@aws-sdk/') && !m.startsWith('node:') && !isBuiltin(m),
    );
    expect(foreign).toEqual([]);
  });

  it('loads in a plain node process and exports handler', async () => {
    const script = `const m = require(${JSON.stringify(bundle())}); if (typeof m.handler !== 'function') process.exit(3); console.log('ok');`;
    const { stdout } = await run(process.execPath, ['-e', script], {
      env: nodeEnv(),
      cwd: assets.get(name)!,
    });
    expect(stdout.trim()).toBe('ok');
  });
});

/** Every Lambda function's logical id with its bundle's asset folder. */
function lambdaAssetDirs(assemblyDir: string): [string, string][] {
  const found: [string, string][] = [];
  const dirs = [
    assemblyDir,
    ...readdirSync(assemblyDir)
      .filter((d) => d.startsWith('assembly-'))
      .map((d) => join(assemblyDir, d)),
  ];
  for (const dir of dirs) {
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.template.json'))) {
      const template = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
        Resources?: Record<string, { Type: string; Properties?: { Code?: { S3Key?: unknown } } }>;
      };
      for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
        const key = resource.Properties?.Code?.S3Key;
        if (resource.Type !== 'AWS::Lambda::Function' || typeof key !== 'string') continue;
        const assetDir = join(assemblyDir, `asset.${key.replace(/\.zip$/, '')}`);
        if (existsSync(assetDir)) found.push([logicalId, assetDir]);
      }
    }
  }
  return found;
}

describe('the config-validator bundle in cdk.out', () => {
  const bundle = () => join(validatorAsset!, 'index.js');
  /** Runs the bundle's handler on an AppConfig validation event in a plain node process. */
  const validate = async (doc: unknown): Promise<string> => {
    const content = Buffer.from(JSON.stringify(doc)).toString('base64');
    const script = `require(${JSON.stringify(bundle())}).handler({ configurationVersion: '3', content: ${JSON.stringify(content)} }).then(() => console.log('VALID'), (e) => console.log('INVALID ' + e.message))`;
    const { stdout } = await run(process.execPath, ['-e', script], {
      env: nodeEnv({ STAGE: stagingConfig.name }),
    });
    return stdout.trim();
  };

  it('is in the cloud assembly, minified, under 300 KB and needs nothing but Node built-ins', () => {
    expect(validatorAsset).toBeDefined();
    const code = readFileSync(bundle(), 'utf8');
    expect(statSync(bundle()).size).toBeLessThanOrEqual(MAX_BUNDLE_BYTES);
    expect(code.length / code.split('\n').length).toBeGreaterThan(1000);
    const externals = [...code.matchAll(/(?:require|import)\("([^"]+)"\)/g)].map((m) => m[1]);
    expect(externals.filter((m) => !m.startsWith('node:') && !isBuiltin(m))).toEqual([]);
  });

  it('accepts the stage document and refuses a broken one with the field at fault, outside jest', async () => {
    const doc = JSON.parse(JSON.stringify(validateStageConfig(stagingConfig))) as {
      clients: { rpm: number }[];
    };
    expect(await validate(doc)).toBe('VALID');
    doc.clients[0].rpm = -1;
    expect(await validate(doc)).toMatch(/^INVALID gateway config: clients\[0\]\.rpm .+ \(version 3\)$/);
  });
});

function isBuiltin(name: string): boolean {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('node:module') as typeof import('node:module')).builtinModules.includes(name);
}

describe('the canary bundle, invoked', () => {
  const fake = new FakeOpenAI();
  beforeAll(() => fake.start());
  afterAll(() => fake.stop());

  it('answers a real invocation against the fake upstream, outside jest', async () => {
    const script = `require(${JSON.stringify(join(assets.get('canary')!, 'index.js'))}).handler({}).then((r) => console.log('RESULT ' + JSON.stringify(r)))`;
    const { stdout } = await run(process.execPath, ['-e', script], {
      env: nodeEnv({ OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'sk-bundle', CANARY_MODEL: 'gpt-4o-mini' }),
    });
    const result = JSON.parse(
      stdout
        .split('\n')
        .find((l) => l.startsWith('RESULT '))!
        .slice(7),
    );
    expect(result).toMatchObject({ success: true });
    expect(stdout).toContain('"CanarySuccess":1');
    expect(fake.requestsTo('/v1/chat/completions')).toHaveLength(1);
  });
});
