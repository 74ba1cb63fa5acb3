/** `npm run clients -- <command>`: see cli.ts for the commands, USAGE for the flags. */
import { userInfo } from 'node:os';
import { AppConfigClient } from '@aws-sdk/client-appconfig';
import { mintKey } from '../../service/pipeline/authenticate';
import { runClients } from './cli';
import { CLIENTS_DIRECTORY } from './stage-documents';

runClients(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  clientsDirectory: CLIENTS_DIRECTORY,
  appConfig: () => new AppConfigClient({}),
  now: () => new Date(),
  mintKey,
  operator: process.env.USER ?? userInfo().username,
}).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
