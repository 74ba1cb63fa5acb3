/**
 * The durable spend ledger: month-to-date spend per client and per stage in DynamoDB, so budgets
 * survive the loss of every cache node. The store records every change it makes to a spend counter
 * (a reservation at admission, a correction at settlement, the fallback's spend too) with `add`,
 * which only adds to an in-memory sum; a timer writes the sums as one `ADD` per month and scope, so
 * the request path never waits on DynamoDB and a busy client costs one write a second, not one per
 * request. An empty or replaced Redis is re-seeded from `read` before it admits spend.
 *
 * Loss window: a task that dies loses the increments it had not yet written, at most what it
 * admitted in one flush interval, plus increments whose writes are still failing (retried at every
 * flush; `LedgerWriteErrors` counts the failures).
 */
import {
  DynamoDBClient,
  QueryCommand,
  UpdateItemCommand,
  type QueryCommandOutput,
} from '@aws-sdk/client-dynamodb';
import {
  clientScope,
  SpendLedgerAttribute,
  SpendLedgerKey,
  STAGE_SCOPE,
} from '../../runtime/spend-ledger-schema';

/** What the store needs from the ledger. */
export interface SpendLedger {
  /**
   * Adds `nanos` (negative for a refund) to the client's and the stage's spend of `month`. Never
   * throws and never waits: the sum is written at the next flush.
   */
  add(month: string, clientId: string, nanos: number): void;
  /** The month's spend per scope (`s`, `c:<id>`), each the larger of metered and billed. Rejects on failure. */
  read(month: string): Promise<Map<string, number>>;
  /** Writes what has been added so far; what fails stays for the next flush. Never rejects. */
  flush(): Promise<void>;
  /** Stops the timer and writes what is left. */
  close(): Promise<void>;
}

export interface DynamoSpendLedgerOptions {
  readonly client: DynamoDBClient;
  readonly table: string;
  /**
   * How often the sums are written, ms: the loss window of a task that dies.
   * @default 1000
   */
  readonly flushMs?: number;
  /**
   * Writes in flight at once during a flush (one per month and scope with a change).
   * @default 16
   */
  readonly maxConcurrentWrites?: number;
  /** Told of each failed write (`ledgerWrite`) and read (`ledgerRead`); messages carry no client ids. */
  readonly onError?: (operation: 'ledgerWrite' | 'ledgerRead', error: Error) => void;
}

/** A ledger operation failed; the message keeps DynamoDB's reason and nothing of the item. */
export class LedgerError extends Error {
  constructor(
    readonly operation: 'ledgerWrite' | 'ledgerRead',
    cause: unknown,
  ) {
    const name = cause instanceof Error ? cause.name : 'Error';
    const message = cause instanceof Error ? cause.message : String(cause);
    super(
      `spend ledger ${operation === 'ledgerWrite' ? 'write' : 'read'} failed: ${name}: ${message.slice(0, 200)}`,
    );
    this.name = 'LedgerError';
  }
}

/** Month → scope → nano-dollars not yet written. */
type Increments = Map<string, Map<string, number>>;

export class DynamoSpendLedger implements SpendLedger {
  private pending: Increments = new Map();
  private flushing: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly client: DynamoDBClient;
  private readonly table: string;
  private readonly maxConcurrentWrites: number;
  private readonly onError: DynamoSpendLedgerOptions['onError'];

  constructor(options: DynamoSpendLedgerOptions) {
    this.client = options.client;
    this.table = options.table;
    this.maxConcurrentWrites = options.maxConcurrentWrites ?? 16;
    this.onError = options.onError;
    this.timer = setInterval(() => void this.flush(), options.flushMs ?? 1_000);
    this.timer.unref();
  }

  /** Nano-dollars added but not yet written, all scopes of all months (the stage scope counted once). */
  get unwrittenNanos(): number {
    let sum = 0;
    for (const scopes of this.pending.values()) sum += scopes.get(STAGE_SCOPE) ?? 0;
    return sum;
  }

  add(month: string, clientId: string, nanos: number): void {
    if (nanos === 0 || !Number.isFinite(nanos)) return;
    addTo(this.pending, month, clientScope(clientId), nanos);
    addTo(this.pending, month, STAGE_SCOPE, nanos);
  }

  async read(month: string): Promise<Map<string, number>> {
    const spend = new Map<string, number>();
    let start: QueryCommandOutput['LastEvaluatedKey'];
    try {
      do {
        const page = await this.client.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: '#month = :month',
            ExpressionAttributeNames: { '#month': SpendLedgerKey.month },
            ExpressionAttributeValues: { ':month': { S: month } },
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        );
        for (const item of page.Items ?? []) {
          const scope = item[SpendLedgerKey.scope]?.S;
          if (scope === undefined) continue;
          const spent = Number(item[SpendLedgerAttribute.spentNanos]?.N ?? 0);
          const billed = Number(item[SpendLedgerAttribute.billedNanos]?.N ?? 0);
          spend.set(scope, Math.max(spent, billed));
        }
        start = page.LastEvaluatedKey;
      } while (start !== undefined);
    } catch (error) {
      const failure = new LedgerError('ledgerRead', error);
      this.report(failure);
      throw failure;
    }
    return spend;
  }

  flush(): Promise<void> {
    // One flush at a time: a slow DynamoDB makes the next timer tick wait, not pile up writes.
    this.flushing ??= this.writeAll().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flushing;
    await this.flush();
  }

  private async writeAll(): Promise<void> {
    const batch = this.pending;
    if (batch.size === 0) return;
    this.pending = new Map();
    const writes: [string, string, number][] = [];
    for (const [month, scopes] of batch)
      for (const [scope, nanos] of scopes) if (nanos !== 0) writes.push([month, scope, nanos]);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < writes.length) {
        const [month, scope, nanos] = writes[next++];
        try {
          await this.write(month, scope, nanos);
        } catch (error) {
          // Kept for the next flush: the increment is late, never lost while the task lives.
          addTo(this.pending, month, scope, nanos);
          this.report(new LedgerError('ledgerWrite', error));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.maxConcurrentWrites, writes.length) }, worker));
  }

  private async write(month: string, scope: string, nanos: number): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: { [SpendLedgerKey.month]: { S: month }, [SpendLedgerKey.scope]: { S: scope } },
        UpdateExpression: 'ADD #spent :nanos',
        ExpressionAttributeNames: { '#spent': SpendLedgerAttribute.spentNanos },
        ExpressionAttributeValues: { ':nanos': { N: String(Math.round(nanos)) } },
      }),
    );
  }

  private report(error: LedgerError): void {
    try {
      this.onError?.(error.operation, error);
    } catch {
      // A failing listener must not lose an increment.
    }
  }
}

function addTo(increments: Increments, month: string, scope: string, nanos: number): void {
  let scopes = increments.get(month);
  if (scopes === undefined) {
    scopes = new Map();
    increments.set(month, scopes);
  }
  scopes.set(scope, (scopes.get(scope) ?? 0) + nanos);
}
