/**
 * A stage's client document on disk (`lib/config/clients/<stage>.json`): read it, validate a new list
 * as the whole stage config `cdk synth` would (validateStageConfig), and write it as prettier would.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { STAGE_CONFIGS, validateStageConfig, type StageConfig } from '../../lib/config';
import type { ClientDocument } from '../../lib/config/types';
import type { GatewayConfig } from '../../runtime/gateway-config';

/** Where the stages' client documents are in this repository. */
export const CLIENTS_DIRECTORY = join(__dirname, '..', '..', 'lib', 'config', 'clients');

/** The stages the CLI edits, by the name `--stage` takes (any case). */
export const STAGES: readonly StageConfig[] = STAGE_CONFIGS;

/** An edit left the stage document invalid; the message names the stage and the field at fault. */
export class InvalidDocumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidDocumentError';
  }
}

export function stageNamed(name: string): StageConfig {
  const stage = STAGES.find((s) => s.name.toLowerCase() === name.toLowerCase());
  if (stage === undefined)
    throw new InvalidDocumentError(`no stage "${name}"; use one of ${STAGES.map((s) => s.name).join(', ')}`);
  return stage;
}

export const documentPath = (directory: string, stage: StageConfig): string =>
  join(directory, `${stage.name.toLowerCase()}.json`);

export function readClients(path: string): ClientDocument[] {
  const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (!Array.isArray(parsed)) throw new InvalidDocumentError(`${path} must hold a JSON array of clients`);
  return parsed as ClientDocument[];
}

/**
 * The stage's gateway document with these clients, validated as `cdk synth` validates it.
 * @throws InvalidDocumentError naming the field at fault and, for a client's field, the client's id
 */
export function validateClients(stage: StageConfig, clients: readonly ClientDocument[]): GatewayConfig {
  try {
    return validateStageConfig({ ...stage, gateway: { ...stage.gateway, clients } });
  } catch (err) {
    const message = (err as Error).message;
    const index = /clients\[(\d+)\]/.exec(message);
    const id = index === null ? undefined : clients[Number(index[1])]?.id;
    throw new InvalidDocumentError(id === undefined ? message : `${message} (client "${id}")`);
  }
}

/** The repository's prettier `printWidth` (.prettierrc): an array that fits in it stays on one line. */
const PRINT_WIDTH = 110;

/**
 * The document text as `prettier --write` leaves it: two-space JSON, objects one field a line, and an
 * array of plain values (models, API families) on one line when it fits. (Prettier's own API loads its
 * plugins by dynamic import, which jest's CommonJS runtime cannot do.)
 */
export function formatClients(clients: readonly ClientDocument[]): string {
  const text = JSON.stringify(clients, null, 2).replace(
    /^( *)("[^"\n]*": )?\[\n((?: *(?:"[^"\n]*"|-?[\d.eE+-]+|true|false|null),?\n)+) *\]/gm,
    (whole, indent: string, key: string | undefined, body: string) => {
      const items = body
        .split('\n')
        .filter(Boolean)
        .map((line) => line.trim().replace(/,$/, ''));
      const line = `${indent}${key ?? ''}[${items.join(', ')}]`;
      return line.length <= PRINT_WIDTH - 1 ? line : whole;
    },
  );
  return `${text}\n`;
}

export function writeDocument(path: string, text: string): void {
  writeFileSync(path, text);
}
