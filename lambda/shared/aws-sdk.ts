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
