/**
 * A DynamoDB-compatible server for tests: `dynalite` (in memory) on a free 127.0.0.1 port, and clients
 * for it with a fixed region and dummy credentials. It validates requests as DynamoDB does.
 *
 * ```ts
 * const dynamo = await DynaliteServer.start();
 * await dynamo.createLedgerTable('ledger-test');
 * const client = dynamo.client();
 * await dynamo.stop(); // in afterAll
 * ```
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpendLedgerAttribute, SpendLedgerKey } from '../../runtime/spend-ledger-schema';

// dynalite ships no types: a function returning an http.Server.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (options: {
  createTableMs?: number;
  deleteTableMs?: number;
}) => Server;

export class DynaliteServer {
  private readonly clients: DynamoDBClient[] = [];

  private constructor(
    private readonly server: Server,
    /** `http://127.0.0.1:<port>`. */
    readonly endpoint: string,
  ) {}

  static async start(): Promise<DynaliteServer> {
    const server = dynalite({ createTableMs: 0, deleteTableMs: 0 });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    return new DynaliteServer(server, `http://127.0.0.1:${port}`);
  }

  /** A client of this server; closed by `stop`. */
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

  /** Creates a table with the spend ledger's key schema (runtime/spend-ledger-schema.ts); resolves once it is ACTIVE. */
  async createLedgerTable(name: string, activeTimeoutMs = 10_000): Promise<void> {
    const client = this.client();
    await client.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: SpendLedgerKey.month, AttributeType: 'S' },
          { AttributeName: SpendLedgerKey.scope, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: SpendLedgerKey.month, KeyType: 'HASH' },
          { AttributeName: SpendLedgerKey.scope, KeyType: 'RANGE' },
        ],
      }),
    );
    const deadline = performance.now() + activeTimeoutMs;
    for (;;) {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
      if (Table?.TableStatus === 'ACTIVE') return;
      if (performance.now() > deadline)
        throw new Error(`table ${name} not ACTIVE after ${activeTimeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** A scope's `spentNanos` summed over every month of a ledger table (consistent scan). */
  async ledgerScopeTotal(table: string, scope: string): Promise<number> {
    const { Items = [] } = await this.client().send(
      new ScanCommand({ TableName: table, ConsistentRead: true }),
    );
    return Items.filter((item) => item[SpendLedgerKey.scope]?.S === scope).reduce(
      (sum, item) => sum + Number(item[SpendLedgerAttribute.spentNanos]?.N ?? 0),
      0,
    );
  }

  async stop(): Promise<void> {
    for (const client of this.clients.splice(0)) client.destroy();
    this.server.closeAllConnections?.();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
