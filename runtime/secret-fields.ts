/**
 * Field names inside the project's secrets, in a module of their own: readers that load the secrets
 * client lazily (the gateway on a local run, the handlers) can name a field without loading the AWS SDK.
 */
export const SecretField = {
  /** The OpenAI project API key the gateway and handlers call with. */
  apiKey: 'apiKey',
  /** The OpenAI service account that owns `apiKey`, so rotation can delete it later. */
  serviceAccountId: 'serviceAccountId',
  /** The OpenAI admin key (organization-level) for usage, costs and key management. */
  adminKey: 'adminKey',
  /** The ElastiCache AUTH token. */
  authToken: 'authToken',
} as const;
