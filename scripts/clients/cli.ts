/**
 * `npm run clients -- <command>`: the operator's tool for a stage's callers. Parses the command line,
 * applies one edit (edits.ts) to the stage's client document, validates the whole stage document as
 * `cdk synth` does, prints what changed, writes the file and, with `--publish`, deploys the validated
 * gateway document through AppConfig (appconfig.ts). Everything it touches comes in `ClientsCliDeps`,
 * so tests run it on a temporary directory against a mocked AppConfig client.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import type { AppConfigClient } from '@aws-sdk/client-appconfig';
import type { ClientDocument, StageConfig } from '../../lib/config/types';
import {
  gatewayConfigDocument,
  type ApiFamily,
  type ReasoningEffort,
  type ServiceTier,
} from '../../runtime/gateway-config';
import { sha256Hex } from '../../service/pipeline/authenticate';
import { defaultTarget, publishDocument, type AppConfigTarget } from './appconfig';
import {
  addClient,
  diffClients,
  EditError,
  listClients,
  revokeClient,
  rotateClient,
  setClient,
  type ClientSettings,
} from './edits';
import {
  documentPath,
  formatClients,
  InvalidDocumentError,
  readClients,
  stageNamed,
  STAGES,
  validateClients,
  writeDocument,
} from './stage-documents';

/** What the CLI reads and writes outside itself. */
export interface ClientsCliDeps {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** The folder of `<stage>.json` client documents. */
  readonly clientsDirectory: string;
  /** Made only when a command publishes. */
  readonly appConfig: () => AppConfigClient;
  readonly now: () => Date;
  readonly mintKey: () => { key: string; keySha256: string };
  /** Who runs the command, for the version's description (CloudTrail has the AWS principal). */
  readonly operator: string;
}

export const USAGE = `npm run clients -- <command> [options]

  list     [--stage S]                            ids, limits, keys (hash prefixes and expiries)
  add      <id> --stage S [limits]                a new client; mints its key and prints it once
  rotate   <id> --stage S [--overlap-days N]      a new key; the old ones expire in N days (7)
  revoke   <id> --stage S [--key <sha-prefix>]    removes the client, or only the one key
  set      <id> --stage S <limits>                changes limits and lists
  publish  --stage S                              publishes the document as it is (after a failed publish)

limits: --rpm N --tpm N --budget USD --max-concurrent-calls N|default
        --models a,b|default --api-families a,b|default --service-tiers a,b|default
        --reasoning-efforts a,b|default          ("default" removes the field: the stage's default)
every edit: --dry-run (print, change nothing), --publish (deploy through AWS AppConfig)
AppConfig: --application (<project>-<Stage>) --environment (<Stage>) --profile (gateway)
           --strategy (AppConfig.AllAtOnce: 100% at once, so a revocation is live at the next poll)
`;

const OPTIONS = {
  stage: { type: 'string' },
  rpm: { type: 'string' },
  tpm: { type: 'string' },
  budget: { type: 'string' },
  'max-concurrent-calls': { type: 'string' },
  models: { type: 'string' },
  'api-families': { type: 'string' },
  'service-tiers': { type: 'string' },
  'reasoning-efforts': { type: 'string' },
  'overlap-days': { type: 'string' },
  key: { type: 'string' },
  publish: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  application: { type: 'string' },
  environment: { type: 'string' },
  profile: { type: 'string' },
  strategy: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Options = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

/** The command line is wrong; the message says how. */
class UsageError extends Error {}

const DEFAULT_OVERLAP_DAYS = 7;

function number(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^-?\d+(\.\d+)?$/.test(text)) throw new UsageError(`--${flag} must be a number, got "${text}"`);
  return Number(text);
}

const list = <T extends string>(text: string | undefined): readonly T[] | null | undefined =>
  text === undefined ? undefined : text === 'default' ? null : (text.split(',').filter(Boolean) as T[]);

function settingsFrom(o: Options): ClientSettings {
  const concurrent = o['max-concurrent-calls'];
  return {
    rpm: number('rpm', o.rpm),
    tpm: number('tpm', o.tpm),
    monthlyBudgetUsd: number('budget', o.budget),
    maxConcurrentCalls: concurrent === 'default' ? null : number('max-concurrent-calls', concurrent),
    models: list<string>(o.models),
    apiFamilies: list<ApiFamily>(o['api-families']),
    serviceTiers: list<ServiceTier>(o['service-tiers']),
    reasoningEfforts: list<ReasoningEffort>(o['reasoning-efforts']),
  };
}

function targetFrom(stage: StageConfig, o: Options): AppConfigTarget {
  const d = defaultTarget(stage);
  return {
    application: o.application ?? d.application,
    environment: o.environment ?? d.environment,
    profile: o.profile ?? d.profile,
    strategy: o.strategy ?? d.strategy,
  };
}

/** Runs one command line; resolves to the process's exit code. */
export async function runClients(argv: readonly string[], deps: ClientsCliDeps): Promise<number> {
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true });
    const [command, id, ...extra] = positionals;
    if (values.help || command === undefined) {
      deps.out(USAGE);
      return command === undefined && !values.help ? 2 : 0;
    }
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    if (command === 'list') return list_(values, deps);
    return await edit(command, id, values, deps);
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      deps.err(`${(err as Error).message}\n\n${USAGE}`);
      return 2;
    }
    if (err instanceof EditError || err instanceof InvalidDocumentError) {
      deps.err(`refused: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

function list_(o: Options, deps: ClientsCliDeps): number {
  const stages = o.stage === undefined ? STAGES : [stageNamed(o.stage)];
  for (const stage of stages) {
    const path = documentPath(deps.clientsDirectory, stage);
    const clients = readClients(path);
    deps.out(`${stage.name} (${shortPath(path)}): ${clients.length} client(s)\n`);
    for (const line of listClients(clients, deps.now())) deps.out(`  ${line}\n`);
  }
  return 0;
}

const shortPath = (path: string): string => relative(process.cwd(), path) || path;

interface Edit {
  readonly after: ClientDocument[];
  /** The key minted for this edit, printed once after the file is written. */
  readonly key?: string;
}

function applyEdit(
  command: string,
  id: string | undefined,
  before: readonly ClientDocument[],
  o: Options,
  deps: ClientsCliDeps,
): Edit {
  if (command === 'publish') return { after: [...before] };
  if (!['add', 'rotate', 'revoke', 'set'].includes(command))
    throw new UsageError(`unknown command "${command}"`);
  if (id === undefined) throw new UsageError(`${command} needs a client id`);
  switch (command) {
    case 'add': {
      const { key, keySha256 } = deps.mintKey();
      return { after: addClient(before, id, keySha256, settingsFrom(o)), key };
    }
    case 'rotate': {
      const { key, keySha256 } = deps.mintKey();
      const days = number('overlap-days', o['overlap-days']) ?? DEFAULT_OVERLAP_DAYS;
      return { after: rotateClient(before, id, keySha256, deps.now(), days), key };
    }
    case 'revoke':
      return { after: revokeClient(before, id, o.key) };
    default:
      return { after: setClient(before, id, settingsFrom(o)) };
  }
}

const versionLabel = (now: Date, content: string): string =>
  `cli-${now.toISOString().replace(/[-:]|\.\d+/g, '')}-${sha256Hex(content).slice(0, 12)}`;

async function edit(
  command: string,
  id: string | undefined,
  o: Options,
  deps: ClientsCliDeps,
): Promise<number> {
  if (o.stage === undefined)
    throw new UsageError(`${command} needs --stage (${STAGES.map((s) => s.name).join(' or ')})`);
  const stage = stageNamed(o.stage);
  const path = documentPath(deps.clientsDirectory, stage);
  const before = readClients(path);
  const { after, key } = applyEdit(command, id, before, o, deps);
  let gateway;
  try {
    gateway = validateClients(stage, after);
  } catch (err) {
    if (err instanceof InvalidDocumentError)
      throw new InvalidDocumentError(`${err.message}; ${shortPath(path)} is unchanged`);
    throw err;
  }
  const text = formatClients(after);
  const changed = text !== readFileSync(path, 'utf8');
  const diff = diffClients(before, after);
  deps.out(`${stage.name} (${shortPath(path)}):\n`);
  deps.out(diff.length === 0 ? '  no change\n' : diff.map((l) => `  ${l}\n`).join(''));

  const publish = o.publish === true || command === 'publish';
  const target = targetFrom(stage, o);
  const content = JSON.stringify(gatewayConfigDocument(gateway));
  const label = versionLabel(deps.now(), content);
  const where = `application ${target.application}, environment ${target.environment}, profile ${target.profile}, strategy ${target.strategy}`;
  if (o['dry-run']) {
    deps.out(`dry run: ${changed ? `would write ${shortPath(path)}` : 'the file would stay as it is'}\n`);
    if (key !== undefined) deps.out('dry run: the new key is discarded, neither shown nor stored\n');
    if (publish) deps.out(`dry run: would publish version ${label} to AppConfig (${where})\n`);
    return 0;
  }
  if (changed) {
    writeDocument(path, text);
    deps.out(`wrote ${shortPath(path)}\n`);
  }
  if (key !== undefined) {
    deps.out(
      `\nNEW KEY for ${id} (${stage.name}), shown this once and stored nowhere (only its SHA-256 is kept):\n\n` +
        `  ${key}\n\nGive it to the team through a secret store now; if it is lost, rotate.\n\n`,
    );
  }
  if (!publish) {
    deps.out(`not published: commit the file and deploy, or publish now with --publish\n`);
    return 0;
  }
  const description = `npm run clients -- ${command}${id === undefined ? '' : ` ${id}`} by ${deps.operator}`;
  try {
    const published = await publishDocument(deps.appConfig(), target, content, label, description);
    deps.out(
      `published version ${published.versionNumber} (${label}) as deployment ${published.deploymentNumber} (${where}): ` +
        'tasks load it at their next poll (30 s); look for "config loaded" with this version in the gateway logs\n',
    );
    return 0;
  } catch (err) {
    const edited = changed
      ? `the edit IS made: ${shortPath(path)} was written (commit it)`
      : `${shortPath(path)} was not changed`;
    deps.err(
      `${(err as Error).message}\n${edited}; nothing new is live. ` +
        `Publish it with: npm run clients -- publish --stage ${stage.name}\n`,
    );
    return 1;
  }
}
