/* eslint-disable @typescript-eslint/no-require-imports -- see below: `require` on purpose */
/**
 * The AWS SDK v3 clients, loaded on first use. Requiring one costs 35-70 ms, so a handler loads only
 * the clients the path it runs needs, and its bundle loads fast (figures in docs/handlers.md).
 *
 * `require`, not `import()`: the SDK is external to the bundle (the Lambda runtime provides it), and
 * esbuild keeps an external `import()` as a native dynamic import, which goes through Node's ESM loader
 * and measured 40-100 ms slower than `require` for the same client.
 */
export const secretsManagerSdk = (): typeof import('@aws-sdk/client-secrets-manager') =>
  require('@aws-sdk/client-secrets-manager');
export const cloudWatchSdk = (): typeof import('@aws-sdk/client-cloudwatch') =>
  require('@aws-sdk/client-cloudwatch');
export const s3Sdk = (): typeof import('@aws-sdk/client-s3') => require('@aws-sdk/client-s3');
export const dynamoDbSdk = (): typeof import('@aws-sdk/client-dynamodb') =>
  require('@aws-sdk/client-dynamodb');

/**
 * True when a DynamoDB write was refused by its `ConditionExpression`: the item is not in the state
 * the write required, which the caller treats as an answer, not as a failure. By name, so the check
 * does not load the SDK.
 */
export const isConditionalCheckFailed = (error: unknown): boolean =>
  (error as { name?: unknown } | undefined)?.name === 'ConditionalCheckFailedException';
