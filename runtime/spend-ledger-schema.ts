/**
 * The durable spend ledger's item shape, shared by the gateway (which adds to it), the spend
 * reconciliation handler (which raises it to what OpenAI billed) and the table the CDK app creates.
 * One item per UTC month and scope; amounts are integer nano-dollars (runtime/pricing).
 */
export const SpendLedgerKey = {
  /** Partition key, string: the UTC month, `YYYY-MM`. */
  month: 'month',
  /** Sort key, string: `s` for the whole stage, `c:<client id>` for one client. */
  scope: 'scope',
} as const;

export const SpendLedgerAttribute = {
  /** Number: spend the gateway metered (reservations, then corrections at settlement), added to with `ADD`. */
  spentNanos: 'spentNanos',
  /**
   * Number, stage scope only: OpenAI's billed month-to-date cost as the reconciliation last read it;
   * only ever raised. The ledger's spend of a scope is the larger of the two.
   */
  billedNanos: 'billedNanos',
} as const;

/** The ledger scope of the whole stage. */
export const STAGE_SCOPE = 's';

/** The ledger scope of one client. */
export function clientScope(clientId: string): string {
  return `c:${clientId}`;
}
