/**
 * `npm run bench`: every figure of the benchmark issue in one run, on 127.0.0.1. This process is the
 * load generator, pinned to core 0; every server (fake upstream, minimal proxy, gateway, Redis) runs
 * as its own process pinned to core 1. Prints one table and writes the same figures to
 * bench/results/latest.json. See docs/performance.md for what each figure means.
 *
 * Flags: --quick (short runs, for trying the harness; writes to the OS temp dir unless --out is given),
 * --only=throughput,streams,budget,rate-limit,overload,soak,clients,synth,lambda, --out=<file>, --profile (the throughput
 * gateway runs with `node --cpu-prof` on a core of its own; the profile lands in bench/results/),
 * --gateway-bundle=<index.js> (measure that bundle instead of bundling service/, to compare a change),
 * --update-docs (rewrite the results section of docs/performance.md from this run),
 * --gateway-node-flags="--max-semi-space-size=4" (node flags for the throughput gateway).
 */
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { format, resolveConfig } from 'prettier';
import { dirname, join } from 'node:path';
import { bundleEntry, REPO_ROOT } from './lib/bundle';
import { throughputConfig } from './lib/gateway-configs';
import { killAllStarted, LOAD_CORE, pinSelf, SERVER_CORE } from './lib/processes';
import { check, fmt, renderTable, targetRow, type Row, type TargetCheck } from './lib/report';
import {
  gatewayWarnings,
  startFakeUpstream,
  startGateway,
  startMinimalProxy,
  startRedis,
  type LoggingTarget,
  type Target,
} from './lib/stack';
import { runBudget, type BudgetFigure } from './scenarios/budget';
import { MANY_CLIENTS, runClients, type ClientsFigure } from './scenarios/clients';
import type { BenchContext, BenchSettings } from './scenarios/context';
import { runLambda, type LambdaFigure } from './scenarios/lambda';
import { runOverload, type OverloadFigure } from './scenarios/overload';
import { runSoak, type SoakFigure } from './scenarios/soak';
import { runRateLimit, type RateLimitFigure } from './scenarios/rate-limit';
import { runStreams, STREAM_CONCURRENCY, type StreamFigure } from './scenarios/streams';
import { runSynth, type SynthFigure } from './scenarios/synth';
import { pairedRatio, runThroughput, type ThroughputFigure } from './scenarios/throughput';

const SCENARIOS = [
  'throughput',
  'streams',
  'budget',
  'rate-limit',
  'overload',
  'soak',
  'clients',
  'synth',
  'lambda',
] as const;
type Scenario = (typeof SCENARIOS)[number];

const FULL: BenchSettings = {
  runMs: 4000,
  warmMs: 500,
  repetitions: 3,
  streamRunMs: 3000,
  rateLimitRpm: 600,
  rateLimitLoadFactor: 2,
  rateLimitRunMs: 12_000,
  soakMs: 150_000,
  lambdaLoadSamples: 15,
};

const QUICK: BenchSettings = {
  runMs: 1000,
  warmMs: 200,
  repetitions: 2,
  streamRunMs: 800,
  rateLimitRpm: 600,
  rateLimitLoadFactor: 2,
  rateLimitRunMs: 3000,
  soakMs: 15_000,
  lambdaLoadSamples: 3,
};

/** The fake upstream's answer: a few sentences, long enough for 20 stream chunks. */
const COMPLETION_TEXT =
  'Rate limits protect the API from abuse and keep access fair. Cache deterministic answers, stream long ones, ' +
  'and cap max_tokens close to what you need: latency grows with the tokens generated, not with the prompt. ' +
  'Keep keys in a secret store, split staging from production, and watch spend against a monthly budget.';

interface Args {
  readonly quick: boolean;
  readonly only: ReadonlySet<Scenario>;
  readonly out: string;
  readonly profile: boolean;
  /** Extra `node` flags for the throughput gateway, e.g. `--max-semi-space-size=4` (to try memory settings). */
  readonly gatewayNodeFlags: readonly string[];
  /** Rewrite the results section of docs/performance.md from this run. */
  readonly updateDocs: boolean;
  /** A gateway bundle to measure instead of bundling service/ (to compare a change against main). */
  readonly gatewayBundle?: string;
}

function parseArgs(argv: readonly string[]): Args {
  const flag = (name: string) => argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  const value = (name: string) => flag(name)?.split('=').slice(1).join('=');
  const quick = flag('quick') !== undefined;
  const only = value('only');
  const selected = only ? only.split(',').map((s) => s.trim()) : [...SCENARIOS];
  for (const s of selected) {
    if (!(SCENARIOS as readonly string[]).includes(s))
      throw new Error(`--only: unknown scenario "${s}" (${SCENARIOS.join(', ')})`);
  }
  return {
    quick,
    only: new Set(selected as Scenario[]),
    out:
      value('out') ??
      (quick ? join(tmpdir(), 'bench-quick.json') : join(REPO_ROOT, 'bench', 'results', 'latest.json')),
    profile: flag('profile') !== undefined,
    gatewayBundle: value('gateway-bundle'),
    updateDocs: flag('update-docs') !== undefined,
    gatewayNodeFlags: (value('gateway-node-flags') ?? '').split(' ').filter(Boolean),
  };
}

const log = (line: string) => process.stderr.write(`${line}\n`);

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const settings = args.quick ? QUICK : FULL;
  const started = Date.now();
  pinSelf(LOAD_CORE);
  const workDir = mkdtempSync(join(tmpdir(), 'bench-'));
  const runTag = Date.now().toString(36);
  const started_servers: Target[] = [];
  try {
    log(`bench: work dir ${workDir}, load generator on core ${LOAD_CORE}, servers on core ${SERVER_CORE}`);
    const bundles = {
      fakeUpstream: bundleEntry('test/support/fake-openai/cli.ts', join(workDir, 'fake-openai.js')),
      minimalProxy: bundleEntry('bench/minimal-proxy.ts', join(workDir, 'minimal-proxy.js')),
      rateLimitedUpstream: bundleEntry(
        'bench/rate-limited-upstream.ts',
        join(workDir, 'rate-limited-upstream.js'),
      ),
      // --profile: an unminified bundle of the same entry, so the profile names real functions.
      gateway:
        args.gatewayBundle ??
        (args.profile
          ? bundleEntry('service/index.ts', join(workDir, 'gateway', 'index.js'))
          : bundleGatewayOrExplain(join(workDir, 'gateway'))),
    };
    // --profile: the gateway gets core 1 to itself, so its profile shows its own CPU, not time it
    // spent descheduled while Redis or the upstream ran on the same core.
    const helperCore = args.profile ? LOAD_CORE : SERVER_CORE;
    const redis = await startRedis(helperCore);
    started_servers.push(redis);
    const upstream = await startFakeUpstream(bundles.fakeUpstream, {
      chunks: 20,
      chunkDelayMs: 5,
      text: COMPLETION_TEXT,
    });
    started_servers.push(upstream);
    const proxy = await startMinimalProxy(bundles.minimalProxy, upstream.origin);
    started_servers.push(proxy);
    let gateway: LoggingTarget | undefined;
    if (bundles.gateway) {
      try {
        gateway = await startGateway({
          bundle: bundles.gateway,
          config: throughputConfig(`bench-${runTag}`, runTag),
          upstreamOrigin: upstream.origin,
          redisUrl: redis.url,
          workDir,
          label: 'throughput',
          nodeFlags: [
            ...args.gatewayNodeFlags,
            ...(args.profile ? ['--cpu-prof', `--cpu-prof-dir=${workDir}/profile`] : []),
          ],
        });
        started_servers.push(gateway);
      } catch (err) {
        log(`bench: the gateway did not start, its figures are left out: ${(err as Error).message}`);
      }
    }
    const ctx: BenchContext = { settings, workDir, runTag, bundles, redis, upstream, proxy, gateway };

    const results: Results = { settings };
    if (args.only.has('throughput')) {
      log('1-2. non-streaming throughput and latency, cache hits');
      results.throughput = await runThroughput(ctx, log);
    }
    if (args.only.has('streams')) {
      log(`3. streams (20 chunks, 5 ms apart, concurrency ${STREAM_CONCURRENCY})`);
      results.streams = [...(await runStreams(ctx, log)), ...(await runStreams(ctx, log, 'responses'))];
    }
    if (gateway) {
      if (gateway.process.hasExited)
        log(`bench: the gateway exited during the run:\n${gateway.process.stderr}`);
      results.gatewayPeakRssMb = gateway.process.hasExited ? NaN : gateway.process.peakRssMb();
      await gateway.process.stop();
      results.gatewayWarnings = gatewayWarnings(gateway.logFile);
      if (args.profile) saveProfile(workDir);
    }
    if (args.only.has('budget')) {
      log('4. budget accuracy');
      results.budget = await runBudget(ctx, log);
    }
    if (args.only.has('rate-limit')) {
      log('5. rate-limit goodput');
      results.rateLimit = await runRateLimit(ctx, log);
    }
    if (args.only.has('overload')) {
      log('8. overload: one replica, Redis healthy, a 600/min client');
      results.overload = await runOverload(ctx, log);
    }
    if (args.only.has('soak')) {
      log(`9. soak: ${settings.soakMs / 1000} s of misses, hits and streams with Redis and the spend ledger`);
      results.soak = await runSoak(ctx, log);
    }
    if (args.only.has('clients') && bundles.gateway) {
      log(`10. cache-miss throughput with ${MANY_CLIENTS} configured clients against 1`);
      results.clients = await runClients(ctx, log);
    }
    for (const t of [...started_servers].reverse()) await t.process.stop();
    started_servers.length = 0;
    if (args.only.has('synth')) {
      log('7. cdk synth of both stages');
      results.synth = runSynth(ctx, log);
    }
    if (args.only.has('lambda')) {
      log('6. Lambda bundles');
      results.lambda = runLambda(ctx, results.synth?.cloudAssembly, log);
    }

    const targets = checkTargets(results, args.only);
    const table = renderTable(rows(results, targets));
    const report = {
      machine: machine(),
      date: new Date().toISOString(),
      durationS: Math.round((Date.now() - started) / 1000),
      settings,
      gatewayBundled: Boolean(bundles.gateway),
      gatewayStarted: Boolean(gateway),
      figures: { ...results, synth: results.synth && { ...results.synth, cloudAssembly: undefined } },
      targets,
      table,
    };
    if (args.updateDocs) await updateDocs(report);
    mkdirSync(dirname(args.out), { recursive: true });
    writeFileSync(args.out, `${JSON.stringify(report, jsonNumbers, 2)}\n`);
    process.stdout.write(`\n${table}\n\n`);
    const missed = targets.filter((t) => !t.pass).length;
    log(
      `bench: ${targets.length - missed}/${targets.length} targets met; ${report.durationS} s; figures in ${args.out}`,
    );
  } finally {
    for (const t of started_servers.reverse()) await t.process.stop().catch(() => undefined);
    killAllStarted();
    rmSync(workDir, { recursive: true, force: true });
  }
}

interface Results {
  settings: BenchSettings;
  throughput?: ThroughputFigure[];
  streams?: StreamFigure[];
  gatewayPeakRssMb?: number;
  /** Log lines at warn or above from the throughput gateway (figures 1-3), by message. */
  gatewayWarnings?: Record<string, number>;
  budget?: BudgetFigure;
  rateLimit?: RateLimitFigure;
  overload?: OverloadFigure[];
  soak?: SoakFigure;
  clients?: ClientsFigure;
  synth?: SynthFigure;
  lambda?: LambdaFigure[];
}

function bundleGatewayOrExplain(outDir: string): string | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { bundleGateway } = require('../service/main/build') as { bundleGateway: (outDir: string) => void };
    bundleGateway(outDir);
    return join(outDir, 'index.js');
  } catch (err) {
    log(`bench: the gateway could not be bundled, its figures are left out: ${(err as Error).message}`);
    return undefined;
  }
}

function saveProfile(workDir: string): void {
  const dir = join(workDir, 'profile');
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const target = join(REPO_ROOT, 'bench', 'results');
  mkdirSync(target, { recursive: true });
  for (const f of files) renameSync(join(dir, f), join(target, `gateway-${f}`));
  log(`bench: gateway CPU profile(s) in bench/results/: ${files.map((f) => `gateway-${f}`).join(', ')}`);
}

function checkTargets(r: Results, only: ReadonlySet<Scenario>): TargetCheck[] {
  const out: TargetCheck[] = [];
  const at = (target: string, c: number) =>
    r.throughput?.find((f) => f.target === target && f.concurrency === c);
  const miss10 = at('gateway (cache miss)', 10);
  const proxy10 = at('minimal proxy', 10);
  const hit10 = at('gateway (cache hit)', 10);
  if (r.throughput) {
    out.push(
      check(
        'miss-throughput',
        'gateway miss RPS / proxy RPS, c=10',
        pairedRatio(miss10?.runs ?? [], proxy10?.runs ?? []) * 100,
        '%',
        'min',
        40,
      ),
    );
    out.push(check('added-p50', 'added p50 vs direct, c=10', miss10?.addedP50Ms ?? NaN, ' ms', 'max', 1));
    out.push(check('added-p99', 'added p99 vs direct, c=10', miss10?.addedP99Ms ?? NaN, ' ms', 'max', 5));
    out.push(
      check(
        'hit-throughput',
        'cache-hit RPS / proxy RPS, c=10',
        pairedRatio(hit10?.runs ?? [], proxy10?.runs ?? []) * 100,
        '%',
        'min',
        100,
      ),
    );
    const rss50 = Math.max(
      at('gateway (cache miss)', 50)?.rssMaxMb ?? NaN,
      at('gateway (cache hit)', 50)?.rssMaxMb ?? NaN,
    );
    out.push(check('gateway-rss', 'gateway RSS under c=50', rss50, ' MB', 'max', 150));
  }
  if (r.streams) {
    const g = r.streams.find((s) => s.target === 'gateway (cache miss)');
    out.push(
      check('added-ttfb', 'added stream TTFB p50 vs direct', g?.addedTtfbP50Ms ?? NaN, ' ms', 'max', 2),
    );
  }
  if (only.has('budget')) {
    out.push(
      check('budget-overshoot', 'budget overshoot', r.budget?.overshootRequests ?? NaN, ' request', 'max', 1),
    );
  }
  if (r.rateLimit) {
    out.push(
      check(
        'retry-after',
        "callers' 429s with Retry-After",
        r.rateLimit.retryAfterShare * 100,
        '%',
        'min',
        100,
      ),
    );
  }
  for (const o of r.overload ?? []) {
    out.push(
      check(
        `overload-fallback-c${o.concurrency}`,
        `store fallback under c=${o.concurrency}, Redis healthy`,
        o.storeErrors + o.fallbackAdmissions,
        ' store errors and fallback admissions',
        'max',
        0,
      ),
      check(
        `overload-admitted-c${o.concurrency}`,
        `admitted beyond limit + refill under c=${o.concurrency}`,
        o.overAdmittedPercent,
        '%',
        'max',
        1,
      ),
    );
  }
  if (r.soak) {
    out.push(
      check(
        'soak-rss',
        `RSS growth over the soak's last ${fmt(r.soak.windowMs / 1000, 0)} s`,
        r.soak.rssGrowthMb,
        ' MB',
        'max',
        5,
      ),
      check(
        'soak-errors',
        'soak errors and ledger write errors',
        r.soak.errors + r.soak.ledgerWriteErrors,
        '',
        'max',
        0,
      ),
    );
  }
  if (r.clients) {
    out.push(
      check(
        'clients-throughput',
        `miss RPS with ${MANY_CLIENTS} clients / with 1`,
        r.clients.ratioPercent,
        '%',
        'min',
        90,
      ),
    );
  }
  for (const l of r.lambda ?? []) {
    out.push(check(`lambda-size-${l.handler}`, `${l.handler} bundle`, l.bundleKb, ' KB', 'max', 300));
    out.push(check(`lambda-load-${l.handler}`, `${l.handler} added load`, l.addedLoadMs, ' ms', 'max', 50));
  }
  if (r.synth) out.push(check('synth-time', 'synth of both stages', r.synth.wallS, ' s', 'max', 30));
  return out;
}

function rows(r: Results, targets: readonly TargetCheck[]): Row[] {
  const t = (id: string) => targets.find((x) => x.id === id);
  const out: Row[] = [];
  for (const f of r.throughput ?? []) {
    // Above 90% the single-core load generator, not the target, probably set the pace.
    const bound = f.loadGeneratorBusy > 0.9 ? ' (generator-bound)' : '';
    const added = f.target === 'direct' ? '' : ` (+${fmt(f.addedP50Ms)} / +${fmt(f.addedP99Ms)})`;
    const expected =
      f.target === 'gateway (cache hit)' ? 'HIT' : f.target === 'gateway (cache miss)' ? 'MISS' : 'none';
    const unexpected = f.runs.flatMap((run) =>
      Object.entries(run.cacheStatus).filter(([status]) => status !== expected),
    );
    const odd = unexpected.length
      ? `; ${unexpected.map(([status, n]) => `${n} ${status}`).join(', ')} (store fallback)`
      : '';
    const measured = `${fmt(f.rps, 0)} rps, p50 ${fmt(f.p50Ms)} ms, p99 ${fmt(f.p99Ms)} ms${added}, ${fmt(f.cpuUsPerRequest, 0)} µs CPU/req, RSS ${fmt(f.rssMaxMb, 0)} MB${bound}${odd}`;
    let target: TargetCheck | undefined;
    if (f.concurrency === 50 && f.target === 'gateway (cache miss)') target = t('gateway-rss');
    const fig = f.target === 'gateway (cache hit)' ? '2' : '1';
    out.push(targetRow(fig, `${f.target}, c=${f.concurrency}`, measured, target));
    if (f.concurrency === 10 && f.target === 'gateway (cache hit)') {
      const ratio = t('hit-throughput');
      out.push(targetRow('2', 'cache hit / proxy RPS, c=10', `${fmt(ratio?.value ?? NaN, 0)}%`, ratio));
    }
    if (f.concurrency === 10 && f.target === 'gateway (cache miss)') {
      const ratio = t('miss-throughput');
      out.push(targetRow('1', 'gateway miss / proxy RPS, c=10', `${fmt(ratio?.value ?? NaN, 0)}%`, ratio));
      out.push(targetRow('1', 'gateway added p50, c=10', `${fmt(f.addedP50Ms)} ms`, t('added-p50')));
      out.push(targetRow('1', 'gateway added p99, c=10', `${fmt(f.addedP99Ms)} ms`, t('added-p99')));
    }
  }
  const warnings = Object.entries(r.gatewayWarnings ?? {});
  if (warnings.length > 0) {
    const text = warnings.map(([msg, n]) => `${n}x "${msg}"`).join(', ');
    out.push({ figure: '1-3', subject: 'gateway warnings', measured: text });
  }
  for (const s of r.streams ?? []) {
    const added = s.target.startsWith('direct') ? '' : ` (+${fmt(s.addedTtfbP50Ms)} ms)`;
    const measured = `TTFB p50 ${fmt(s.ttfbP50Ms)} ms${added}, p99 ${fmt(s.ttfbP99Ms)} ms; total p50 ${fmt(s.totalP50Ms)} ms, p99 ${fmt(s.totalP99Ms)} ms`;
    out.push(
      targetRow(
        '3',
        `stream, ${s.target}`,
        measured,
        s.target === 'gateway (cache miss)' ? t('added-ttfb') : undefined,
      ),
    );
  }
  if (r.budget) {
    const b = r.budget;
    out.push(
      targetRow(
        '4',
        `${b.concurrency} at once, budget fits ${b.fits}`,
        `served ${fmt(b.served, 0)}, overshoot ${fmt(b.overshootRequests, 0)} (worst rep ${fmt(b.overshootWorstRequests, 0)}); the next request ${b.runs.every((r) => r.refusedAfterwards) ? 'refused' : 'NOT refused'}`,
        t('budget-overshoot'),
      ),
    );
  } else if (t('budget-overshoot')) {
    out.push(targetRow('4', 'budget', 'gateway not available', t('budget-overshoot')));
  }
  if (r.rateLimit) {
    const l = r.rateLimit;
    out.push(
      targetRow(
        '5',
        `R=${l.rpm}/min, ${fmt(l.offeredPerSecond, 1)} req/s for ${l.durationMs / 1000} s`,
        `served ${fmt(l.servedShare * 100, 0)}% of callers (${fmt(l.goodputOfCapacity * 100, 0)}% of upstream capacity), upstream 429s ${fmt(l.upstream429s, 0)}; callers' 429s: ${fmt(l.callers429Local, 0)} from the gateway's limiter, ${fmt(l.callers429Relayed, 0)} relayed`,
        t('retry-after'),
      ),
    );
  }
  for (const o of r.overload ?? []) {
    out.push(
      targetRow(
        '8',
        `overload c=${o.concurrency}, ${o.offered} offered to a ${o.rpm}/min client`,
        `upstream served ${fmt(o.upstreamServed, 0)} (limit + refill ${fmt(o.allowed, 0)}), shed ${fmt(o.shed, 0)} (${fmt(o.shedRetryAfterShare * 100, 0)}% with Retry-After), store errors ${fmt(o.storeErrors, 0)}, fallback admissions ${fmt(o.fallbackAdmissions, 0)}`,
        t(`overload-fallback-c${o.concurrency}`),
      ),
    );
  }
  if (r.soak) {
    out.push(
      targetRow(
        '9',
        `soak ${fmt(r.soak.durationMs / 1000, 0)} s, c=${r.soak.concurrency}, misses, hits and streams, Redis and the ledger`,
        `${r.soak.requests} requests, ${r.soak.errors} errors, RSS ${fmt(r.soak.rssWindowStartMb, 1)} -> ${fmt(r.soak.rssEndMb, 1)} MB`,
        t('soak-rss'),
      ),
      targetRow(
        '9',
        'soak errors',
        `${r.soak.errors} errors, ${r.soak.ledgerWriteErrors} ledger write errors`,
        t('soak-errors'),
      ),
    );
  }
  if (r.clients) {
    const { one, many, concurrency } = r.clients;
    const runs = (f: typeof one) =>
      `${fmt(f.rps, 0)} rps, p50 ${fmt(f.p50Ms)} ms, ${fmt(f.cpuUsPerRequest, 0)} µs CPU/req`;
    out.push(
      targetRow('10', `cache miss, c=${concurrency}, 1 client`, runs(one), undefined),
      targetRow('10', `cache miss, c=${concurrency}, ${many.clients} clients`, runs(many), undefined),
      targetRow(
        '10',
        `${many.clients} clients / 1 client RPS`,
        `${fmt(r.clients.ratioPercent, 0)}%`,
        t('clients-throughput'),
      ),
      targetRow(
        '10',
        `${many.clients} clients / 1 client gateway CPU per request`,
        `${fmt(r.clients.cpuRatioPercent, 0)}%`,
        undefined,
      ),
    );
  }
  for (const l of r.lambda ?? []) {
    if (l.error) {
      out.push(targetRow('6', `lambda ${l.handler}`, `error: ${l.error}`, t(`lambda-size-${l.handler}`)));
      continue;
    }
    const size = `${fmt(l.bundleKb, 1)} KB minified (${l.source})`;
    out.push(targetRow('6', `lambda ${l.handler} bundle`, size, t(`lambda-size-${l.handler}`)));
    const when = l.externalsLoadedAtRequire ? 'included' : 'paid at the first call';
    const sdk = l.externals.length ? `; @aws-sdk clients +${fmt(l.externalsLoadMs, 1)} ms (${when})` : '';
    const load = `+${fmt(l.addedLoadMs, 1)} ms (${fmt(l.loadMs, 1)} vs bare node ${fmt(l.bareNodeMs, 1)})${sdk}`;
    out.push(targetRow('6', `lambda ${l.handler} cold load`, load, t(`lambda-load-${l.handler}`)));
  }
  if (r.synth) {
    const measured = r.synth.error
      ? `error: ${r.synth.error}`
      : `${fmt(r.synth.wallS, 1)} s, peak RSS ${fmt(r.synth.peakRssMb, 0)} MB`;
    out.push(targetRow('7', "cdk synth '**'", measured, t('synth-time')));
  }
  return out;
}

const DOCS = join(REPO_ROOT, 'docs', 'performance.md');
const RESULTS_BEGIN = '<!-- RESULTS:BEGIN -->';
const RESULTS_END = '<!-- RESULTS:END -->';

/** Replaces the text between the RESULTS markers of docs/performance.md with this run's table. */
async function updateDocs(report: {
  machine: ReturnType<typeof machine>;
  date: string;
  durationS: number;
  targets: readonly TargetCheck[];
  table: string;
}): Promise<void> {
  const doc = readFileSync(DOCS, 'utf8');
  const begin = doc.indexOf(RESULTS_BEGIN);
  const end = doc.indexOf(RESULTS_END);
  if (begin === -1 || end < begin)
    throw new Error(`${DOCS} lacks the ${RESULTS_BEGIN} / ${RESULTS_END} markers`);
  const m = report.machine;
  const met = report.targets.filter((t) => t.pass).length;
  const section = [
    RESULTS_BEGIN,
    `Last full run: ${report.date.slice(0, 16).replace('T', ' ')} UTC on ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB,`,
    `Node ${m.node}, Linux ${m.kernel}; ${report.durationS} s; ${met} of ${report.targets.length} targets met.`,
    'Added latencies are "(+p50 / +p99)" against direct at the same concurrency; ratios and added latencies are taken within each repetition, then the median.',
    '',
    report.table,
    '',
  ].join('\n');
  const text = doc.slice(0, begin) + section + doc.slice(end);
  // Formatted as `npm run lint` expects, so a results update never fails the lint step.
  const options = (await resolveConfig(DOCS)) ?? {};
  writeFileSync(DOCS, await format(text, { ...options, filepath: DOCS }));
}

function machine() {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    kernel: release(),
  };
}

/** JSON.stringify replacer: NaN as null, long floats rounded to 3 decimals. */
function jsonNumbers(_key: string, value: unknown): unknown {
  if (typeof value !== 'number') return value;
  if (!Number.isFinite(value)) return null;
  return Math.round(value * 1000) / 1000;
}

main().catch((err: Error) => {
  log(`bench failed: ${err.stack ?? err.message}`);
  killAllStarted();
  process.exit(1);
});
