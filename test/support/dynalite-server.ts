/**
 * A throwaway DynamoDB-compatible server (dynalite, in memory) on a free 127.0.0.1 port, with the spend
 * ledger's table created and ACTIVE, for tests that need real DynamoDB semantics (condition
 * expressions, `ADD`, consistent queries) rather than a mocked client.
 *
 * ```ts
 * const dynamo = await DynaliteServer.start();
 * const client = dynamo.client(); // endpoint, fake credentials, us-east-1, no retries
 * // ... use dynamo.table ...
 * await dynamo.stop(); // always, in afterAll
 * ```
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpendLedgerKey } from '../../runtime/spend-ledger-schema';

/* eslint-disable-next-line @typescript-eslint/no-require-imports -- dynalite ships no types */
const dynalite = require('dynalite') as (options: { createTableMs?: number }) => Server;

/** The spend ledger's key schema, as `SpendLedger` creates it. */
export const SPEND_LEDGER_TABLE_SCHEMA: Omit<CreateTableCommandInput, 'TableName'> = {
  AttributeDefinitions: [
    { AttributeName: SpendLedgerKey.month, AttributeType: 'S' },
    { AttributeName: SpendLedgerKey.scope, AttributeType: 'S' },
  ],
  KeySchema: [
    { AttributeName: SpendLedgerKey.month, KeyType: 'HASH' },
    { AttributeName: SpendLedgerKey.scope, KeyType: 'RANGE' },
  ],
  BillingMode: 'PAY_PER_REQUEST',
};

export interface DynaliteServerOptions {
  /** Name of the spend ledger table to create. @default 'spend-ledger' */
  readonly table?: string;
  /** Time allowed for the table to become ACTIVE, ms. @default 10000 */
  readonly activeTimeoutMs?: number;
}

export class DynaliteServer {
  private readonly clients: DynamoDBClient[] = [];

  private constructor(
    private readonly server: Server,
    /** The port the server listens on. */
    readonly port: number,
    /** The spend ledger table, ACTIVE. */
    readonly table: string,
  ) {}

  /** Starts a server on a free port and creates the spend ledger table; resolves once it is ACTIVE. */
  static async start(options: DynaliteServerOptions = {}): Promise<DynaliteServer> {
    const server = dynalite({ createTableMs: 0 });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // Port 0: the kernel picks a free port, so no probe-then-bind race.
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const dynamo = new DynaliteServer(
      server,
      (server.address() as AddressInfo).port,
      options.table ?? 'spend-ledger',
    );
    try {
      await dynamo.createTable(options.activeTimeoutMs ?? 10_000);
    } catch (error) {
      await dynamo.stop();
      throw error;
    }
    return dynamo;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** A client of this server: fake credentials, region us-east-1, one attempt (no SDK retries). */
  client(): DynamoDBClient {
    const client = new DynamoDBClient({
      endpoint: this.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    this.clients.push(client);
    return client;
  }

  /** Closes the clients made by `client()` and the server. */
  async stop(): Promise<void> {
    for (const client of this.clients.splice(0)) client.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async createTable(timeoutMs: number): Promise<void> {
    const client = this.client();
    await client.send(new CreateTableCommand({ TableName: this.table, ...SPEND_LEDGER_TABLE_SCHEMA }));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: this.table }));
      if (Table?.TableStatus === 'ACTIVE') return;
      if (Date.now() > deadline) throw new Error(`table ${this.table} not ACTIVE after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
