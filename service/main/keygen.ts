/**
 * `npm run keygen [-- <client-id>]`: mints a caller key. Prints the key (give it to the application,
 * once) and its SHA-256 (put it in the gateway config as `keySha256`). The gateway never stores the key.
 */
import { mintKey } from '../pipeline/authenticate';

const clientId = process.argv[2] ?? 'my-app';
const { key, keySha256 } = mintKey();
process.stdout.write(
  [
    `key:       ${key}`,
    `keySha256: ${keySha256}`,
    '',
    'Give the key to the application (it is shown once), and add the client to the gateway config:',
    JSON.stringify({ id: clientId, keySha256, rpm: 60, tpm: 100000, monthlyBudgetUsd: 10 }),
    '',
  ].join('\n'),
);
