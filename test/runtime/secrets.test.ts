import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { readSecretField, SecretUnavailableError, secretField } from '../../runtime/secrets';

const secretsManager = mockClient(SecretsManagerClient);
const arn = (name: string) => `arn:aws:secretsmanager:us-east-1:111111111111:secret:${name}`;

beforeAll(() => {
  process.env.AWS_REGION = 'us-east-1';
});
beforeEach(() => secretsManager.reset());

describe('secretField', () => {
  it('reads a plain value and a JSON field', () => {
    expect(secretField('  sk-plain\n', 'apiKey')).toBe('sk-plain');
    expect(secretField('{"apiKey":"sk-json","serviceAccountId":"sa_1"}', 'apiKey')).toBe('sk-json');
  });

  it('names the problem without echoing the value', () => {
    expect(() => secretField('{"other":"sk-secret"}', 'apiKey', 'key-arn')).toThrow(
      'key-arn has no non-empty string field "apiKey"',
    );
    expect(() => secretField('{not json', 'apiKey', 'key-arn')).toThrow(
      'key-arn looks like JSON but does not parse',
    );
    expect(() => secretField('   ', 'apiKey', 'key-arn')).toThrow('key-arn is empty');
  });
});

describe('readSecretField', () => {
  it('caches a value and re-reads it when forced, as after an upstream 401', async () => {
    const id = arn('cached');
    secretsManager
      .on(GetSecretValueCommand, { SecretId: id })
      .resolvesOnce({ SecretString: '{"apiKey":"sk-old"}' })
      .resolves({ SecretString: '{"apiKey":"sk-new"}' });

    expect(await readSecretField(id, 'apiKey')).toBe('sk-old');
    expect(await readSecretField(id, 'apiKey')).toBe('sk-old');
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);

    expect(await readSecretField(id, 'apiKey', { forceFetch: true })).toBe('sk-new');
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('turns a secret created without a value into a clear error', async () => {
    const id = arn('empty');
    secretsManager
      .on(GetSecretValueCommand, { SecretId: id })
      .rejects(new ResourceNotFoundException({ message: 'no AWSCURRENT', $metadata: {} }));

    const read = readSecretField(id, 'apiKey');
    await expect(read).rejects.toBeInstanceOf(SecretUnavailableError);
    await expect(readSecretField(id, 'apiKey')).rejects.toThrow(
      `could not read secret ${id} (ResourceNotFoundException); has a value been put in it?`,
    );
  });
});
