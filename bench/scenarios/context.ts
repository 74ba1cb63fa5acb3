import type { Target } from '../lib/stack';

/** How long and how often each measurement runs. */
export interface BenchSettings {
  /** Measured window of one closed-loop run, ms. */
  readonly runMs: number;
  /** Unmeasured run before each measured one (connections, JIT), ms. */
  readonly warmMs: number;
  /** Repetitions of every figure; the table shows the median. */
  readonly repetitions: number;
  /** Measured window of one stream run, ms. */
  readonly streamRunMs: number;
  /** Rate-limit scenario: the limit R (requests per minute) and the offered load as a multiple of R. */
  readonly rateLimitRpm: number;
  readonly rateLimitLoadFactor: number;
  readonly rateLimitRunMs: number;
  /** Length of the soak (figure 9), ms. */
  readonly soakMs: number;
  /** Cold-load samples per Lambda bundle. */
  readonly lambdaLoadSamples: number;
}

/** What every scenario shares: the started servers, bundles and a scratch directory. */
export interface BenchContext {
  readonly settings: BenchSettings;
  readonly workDir: string;
  /** Unique per `npm run bench`: part of prompts and cache versions so nothing is reused across runs. */
  readonly runTag: string;
  readonly bundles: {
    readonly fakeUpstream: string;
    readonly minimalProxy: string;
    readonly rateLimitedUpstream: string;
    /** The gateway bundle, or undefined when service/ cannot be bundled yet. */
    readonly gateway?: string;
  };
  readonly redis: Target & { readonly url: string };
  readonly upstream: Target;
  readonly proxy: Target;
  /** The gateway with every feature on and limits out of reach; undefined when it does not start. */
  readonly gateway?: Target;
}
