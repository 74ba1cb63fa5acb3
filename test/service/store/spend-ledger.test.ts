/**
 * The spend ledger against a real DynamoDB-compatible server (dynalite): increments are summed in
 * memory and written as one ADD per month and scope; a failed write keeps its increment for the next
 * flush; a read returns each scope's larger of metered and billed spend.
 */
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { SpendLedgerAttribute, SpendLedgerKey } from '../../../runtime/spend-ledger-schema';
import { DynamoSpendLedger, LedgerError } from '../../../service/store';
import { DynaliteServer } from '../../support/dynalite-server';

let dynamo: DynaliteServer;
let tables = 0;
beforeAll(async () => {
  dynamo = await DynaliteServer.start();
});
afterAll(() => dynamo.stop());

const ledgers: DynamoSpendLedger[] = [];
afterEach(async () => {
  await Promise.all(ledgers.splice(0).map((ledger) => ledger.close()));
});

function ledgerOn(table: string, reported: Error[] = []): DynamoSpendLedger {
  const ledger = new DynamoSpendLedger({
    client: dynamo.client(),
    table,
    flushMs: 3_600_000, // flushed by the tests
    onError: (_operation, error) => void reported.push(error),
  });
  ledgers.push(ledger);
  return ledger;
}

async function newTable(): Promise<string> {
  const table = `ledger-${++tables}`;
  await dynamo.createLedgerTable(table);
  return table;
}

describe('DynamoSpendLedger', () => {
  it('sums increments per month and scope, the stage counting every client, and writes them as they add up', async () => {
    const ledger = ledgerOn(await newTable());
    ledger.add('2026-11', 'app', 1_000);
    ledger.add('2026-11', 'app', -250);
    ledger.add('2026-11', 'other', 40);
    ledger.add('2026-10', 'app', 7);
    expect(ledger.unwrittenNanos).toBe(797);
    await ledger.flush();
    expect(ledger.unwrittenNanos).toBe(0);
    ledger.add('2026-11', 'app', 5);
    await ledger.flush();
    expect(Object.fromEntries(await ledger.read('2026-11'))).toEqual({ 'c:app': 755, 'c:other': 40, s: 795 });
    expect(Object.fromEntries(await ledger.read('2026-10'))).toEqual({ 'c:app': 7, s: 7 });
    expect((await ledger.read('2026-09')).size).toBe(0);
  });

  it('adds up the writes of several replicas', async () => {
    const table = await newTable();
    const [a, b] = [ledgerOn(table), ledgerOn(table)];
    for (let i = 0; i < 10; i++) {
      a.add('2026-11', 'app', 100);
      b.add('2026-11', 'app', 1);
      await Promise.all([a.flush(), b.flush()]);
    }
    expect((await a.read('2026-11')).get('c:app')).toBe(1_010);
  });

  it('keeps an increment whose write failed and writes it once the table answers', async () => {
    const table = `ledger-missing-${++tables}`;
    const reported: Error[] = [];
    const ledger = ledgerOn(table, reported);
    ledger.add('2026-11', 'app', 300);
    await ledger.flush();
    expect(reported.length).toBeGreaterThanOrEqual(1);
    expect(reported[0]).toBeInstanceOf(LedgerError);
    expect(reported[0].message).toMatch(/write failed: ResourceNotFoundException/);
    expect(reported[0].message).not.toMatch(/app/);
    expect(ledger.unwrittenNanos).toBe(300);

    ledger.add('2026-11', 'app', 20);
    await dynamo.createLedgerTable(table);
    await ledger.flush();
    expect(ledger.unwrittenNanos).toBe(0);
    expect(Object.fromEntries(await ledger.read('2026-11'))).toEqual({ 'c:app': 320, s: 320 });
  });

  it('rejects a read that fails, and reports it', async () => {
    const reported: Error[] = [];
    const ledger = ledgerOn(`ledger-missing-${++tables}`, reported);
    await expect(ledger.read('2026-11')).rejects.toThrow(/read failed: ResourceNotFoundException/);
    expect(reported).toHaveLength(1);
  });

  it('reads the larger of metered and billed spend, so reconciliation can raise a scope and never lower it', async () => {
    const table = await newTable();
    const ledger = ledgerOn(table);
    ledger.add('2026-11', 'app', 1_000);
    await ledger.flush();
    const bill = (nanos: number) =>
      dynamo.client().send(
        new UpdateItemCommand({
          TableName: table,
          Key: { [SpendLedgerKey.month]: { S: '2026-11' }, [SpendLedgerKey.scope]: { S: 's' } },
          UpdateExpression: 'SET #billed = :n',
          ExpressionAttributeNames: { '#billed': SpendLedgerAttribute.billedNanos },
          ExpressionAttributeValues: { ':n': { N: String(nanos) } },
        }),
      );
    await bill(5_000);
    expect((await ledger.read('2026-11')).get('s')).toBe(5_000);
    await bill(10);
    expect((await ledger.read('2026-11')).get('s')).toBe(1_000);
  });

  it('writes what is left when closed', async () => {
    const table = await newTable();
    const ledger = new DynamoSpendLedger({ client: dynamo.client(), table, flushMs: 3_600_000 });
    ledger.add('2026-11', 'app', 42);
    await ledger.close();
    expect((await ledgerOn(table).read('2026-11')).get('c:app')).toBe(42);
  });
});
